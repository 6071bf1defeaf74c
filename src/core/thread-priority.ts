import { spawnSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/** How far a bulk worker stepped aside: its nice value and whether it also runs under SCHED_IDLE. */
export interface LoweredPriority {
  nice: number;
  /** True when the thread runs under SCHED_IDLE (util-linux `chrt` applied it); false when only nice applies. */
  schedIdle: boolean;
}

/**
 * How bulk workers step aside, from RACEPILOT_WORKER_SCHED: `nice` keeps them at nice 19 alone (to compare on the
 * vehicle); `normal` leaves them at normal priority, which `npm test` uses: the tests check behaviour, and two test
 * files running at once on two cores would otherwise starve each other's SCHED_IDLE workers for seconds (a
 * recorder test waiting on its worker failed CI so). Anything else, or unset: nice 19 and SCHED_IDLE.
 */
function workerSched(): 'idle' | 'nice' | 'normal' {
  const v = process.env.RACEPILOT_WORKER_SCHED;
  return v === 'nice' || v === 'normal' ? v : 'idle';
}

/** Whether bulk workers take SCHED_IDLE: yes unless RACEPILOT_WORKER_SCHED says nice or normal. */
export function wantsSchedIdle(): boolean {
  return workerSched() === 'idle';
}

/**
 * Lowers the scheduling priority of the calling thread (Linux, per thread). The event loop is the control loop
 * (DESIGN.md, principle 4): the daemon's bulk workers — inference, image conversion, log encoding — call
 * this at start so that when both cores are busy the kernel still runs the main thread the moment its timer is due.
 * Stepping down needs no privilege; stepping back up would. Threads the worker creates afterwards (ONNX Runtime's
 * pool) inherit both settings. Returns what applied, or null where per-thread priorities are not available (not
 * Linux, no /proc): the worker then runs at normal priority.
 *
 * Two steps, each measured:
 * - nice 19, not a middle value: with two busy workers on the two cores, the setpoint timer's lateness was p99
 *   1.5–2.9 ms with the workers at nice 10 and 0.7–0.8 ms at nice 19 (a scratch probe of this clock's
 *   `every(…, { precise })`; `racepilot bench link`: p99 21.1–23.1 ms at 10, 20.3–20.8 ms at 19).
 * - SCHED_IDLE on top. The fair scheduler still lets a running nice-19 thread finish a short protected slice
 *   before a woken nice-0 thread gets its core; a SCHED_IDLE thread is preempted at once by any normal thread that
 *   wakes. Measured on the two-core VM, alternating the two builds: `racepilot bench perception` (pruned, paced
 *   30 Hz, 15 s runs) event-loop p99 2.78–3.38 ms at nice 19 against 1.87–1.97 ms with SCHED_IDLE, loop stalls
 *   over 5 ms 1.7–3.3 per s against 0.2–0.9 (both estimated from the histogram, three runs each); `racepilot bench link`, five pairs: setpoint-interval p99 lower in
 *   every pair (20.1–21.2 ms against 20.4–21.5 ms).
 *   Node has no binding for sched_setscheduler(2) and native addons are out, so util-linux's `chrt` (part of every
 *   Debian, Ubuntu and JetPack image) sets it on this thread's id, once, at the worker's start. The unit's
 *   RestrictRealtime=yes forbids only the real-time policies; stepping down to SCHED_IDLE needs no capability.
 *
 * The price: against other busy processes at normal priority a SCHED_IDLE worker gets almost nothing (weight 3
 * against 1024; nice 19 has 15). On the vehicle those are the camera pipelines' gst-launch children, which do
 * little with hardware decoding on a Jetson's eight cores; here the workers only compete with the event loop,
 * which sleeps most of the time, so they lose nothing measurable. Perception's latency with live cameras is to be
 * measured on the Jetson (deploy/README.md, "Checking the vehicle"); RACEPILOT_WORKER_SCHED=nice in the environment
 * keeps the workers at nice 19 alone, to compare.
 *
 * Priority inversion: a worker's postMessage wakes the main thread while holding the port's mutex, which the woken
 * main thread takes at once; preempted there, a SCHED_IDLE sender kept it asleep for milliseconds when every core
 * was busy (`perf` traced all of the main thread's futex waits in saturated perception runs to it). So the
 * frequent replies come back through shared memory instead: inference and preprocessing results through
 * reply-ring.ts, the recorder's batch count as one shared counter. What is left: the main thread's own posts to the
 * workers (jobs, batches), which block only should a worker be preempted in the moment it takes its queue out under
 * the same mutex (the main thread is not woken into it, and none of the traced waits was there); the allocator's
 * few-microsecond sections; and rare messages the other way (logs, notes, start and stop).
 */
export function lowerThisThreadPriority(nice = workerSched() === 'normal' ? 0 : 19, schedIdle = wantsSchedIdle()): LoweredPriority | null {
  if (nice === 0 && !schedIdle) return { nice, schedIdle }; // nothing to lower
  let tid: number;
  try {
    // /proc/thread-self → "<pid>/task/<tid>": the tid is what setpriority(2) and chrt take to address one thread.
    tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(tid) || tid <= 0) return null;
    setPriority(tid, nice);
  } catch {
    return null;
  }
  if (!schedIdle) return { nice, schedIdle: false };
  const r = spawnSync('chrt', ['--idle', '--pid', '0', String(tid)], { stdio: 'ignore', timeout: 2000 });
  return { nice, schedIdle: r.status === 0 };
}
