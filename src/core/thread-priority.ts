import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/**
 * Lowers the scheduling priority of the calling thread (Linux nice, per thread). The event loop is the control loop
 * (DESIGN.md, principle 4): the daemon's bulk workers — inference, image conversion, log encoding, rendering — call
 * this at start so that when both cores are busy the kernel still runs the main thread the moment its setpoint
 * timer is due. Raising nice needs no privilege; lowering it again would. Returns the thread's nice value, or null
 * where per-thread priorities are not available (not Linux, no /proc): the worker then runs at normal priority.
 *
 * Why 19 and not a middle value: with two busy workers on the two cores, the setpoint timer's lateness (woken early,
 * then yielding until due) was p99 1.5–2.9 ms with the workers at nice 10 and 0.7–0.8 ms at nice 19 (a scratch
 * probe of this clock's `every(…, { precise })`; `racepilot bench link`: p99 21.1–23.1 ms at 10, 20.3–20.8 ms at 19).
 * The kernel's fair scheduler still gives a nice-19 thread a slice now and then while the main thread spins toward
 * its due time; at 19 that slice is short. Against the event loop the workers lose nothing measurable: it sleeps
 * most of the time, and while it sleeps they have the cores. Against other busy nice-0 processes they would get
 * about 1.5 % of a core each (10 % at nice 10): on the vehicle that means the camera pipelines' gst-launch children,
 * which do little with hardware decoding; the figures above were taken with only the workers busy, so perception's
 * latency with live cameras is to be measured on the Jetson.
 */
export function lowerThisThreadPriority(nice = 19): number | null {
  try {
    // /proc/thread-self → "<pid>/task/<tid>": the tid is what setpriority(2) takes to address one thread.
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(tid) || tid <= 0) return null;
    setPriority(tid, nice);
    return nice;
  } catch {
    return null;
  }
}
