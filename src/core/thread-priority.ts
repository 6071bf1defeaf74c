import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/**
 * Lowers the scheduling priority of the calling thread (Linux nice, per thread). The event loop is the control loop
 * (DESIGN.md, principle 4): the daemon's bulk workers — inference, image conversion, log encoding, rendering — call
 * this at start so that when both cores are busy the kernel still runs the main thread the moment its setpoint
 * timer is due. Raising nice needs no privilege; lowering it again would. Returns the thread's nice value, or null
 * where per-thread priorities are not available (not Linux, no /proc): the worker then runs at normal priority.
 */
export function lowerThisThreadPriority(nice = 10): number | null {
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
