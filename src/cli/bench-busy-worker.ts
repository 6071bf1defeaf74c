/**
 * A worker thread for `racepilot bench link` that keeps one core busy the way the daemon's own bulk workers do:
 * at the lowered priority every daemon worker takes (core/thread-priority.ts), unless told to run at normal
 * priority (`--busy-priority normal`, the worst case of a foreign process hogging the cores).
 */
import { workerData } from 'node:worker_threads';
import { lowerThisThreadPriority } from '../core/thread-priority.js';

if ((workerData as { lowered: boolean }).lowered) lowerThisThreadPriority();
let x = 0;
for (;;) x += Math.sqrt(Math.random());
