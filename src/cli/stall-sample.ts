/**
 * The layout of the stall sampler's samples (stall-watch-worker.ts writes them, stall-watch.ts reads them): one
 * Float64Array, FIELDS numbers per sample.
 */
export const FIELDS = 6;
/** Absolute time of the sample, ms since the epoch (performance.timeOrigin + performance.now()). */
export const T = 0;
/** The main thread's time on a CPU so far, ms (schedstat). */
export const RUN = 1;
/** Its time runnable but waiting for a CPU so far, ms (schedstat). */
export const WAIT = 2;
/** What it was doing: RUNNABLE, IDLE (asleep waiting for events: epoll) or BLOCKED (asleep anywhere else). */
export const STATE = 3;
/** Its minor page faults so far. */
export const FAULTS = 4;
/** Where it slept when BLOCKED: an index into the kernel function names the sampler sends with its samples; else -1. */
export const WCHAN = 5;

export const IDLE = 0;
export const RUNNABLE = 1;
export const BLOCKED = 2;
