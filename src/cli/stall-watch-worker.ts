/**
 * Worker thread of stall-watch.ts: every millisecond it reads what the kernel has accounted to the main thread —
 * nanoseconds on a CPU and nanoseconds runnable but waiting for one (/proc/<pid>/task/<pid>/schedstat) — and keeps
 * the samples with their absolute time, so that each event-loop stall can later be split into running, waiting and
 * sleeping. It runs at normal priority: the bench's bulk workers step aside for it as they do for the main thread.
 */
import { openSync, readSync, closeSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';

const port = parentPort!;
const fd = openSync(`/proc/${process.pid}/task/${process.pid}/schedstat`, 'r');
const buf = Buffer.alloc(128);
let samples = new Float64Array(3 * 65536);
let n = 0;

function sample(): void {
  // pread at 0 regenerates the file: no reopen per sample (a read costs a few microseconds).
  const len = readSync(fd, buf, 0, buf.length, 0);
  const [run, wait] = buf.toString('latin1', 0, len).split(' ');
  if (3 * (n + 1) > samples.length) {
    const grown = new Float64Array(samples.length * 2);
    grown.set(samples);
    samples = grown;
  }
  samples[3 * n] = performance.timeOrigin + performance.now();
  samples[3 * n + 1] = Number(run) / 1e6;
  samples[3 * n + 2] = Number(wait) / 1e6;
  n++;
}

sample();
const timer = setInterval(sample, 1);
port.on('message', () => {
  clearInterval(timer);
  sample();
  closeSync(fd);
  const out = samples.slice(0, 3 * n);
  port.postMessage(out, [out.buffer]);
  port.close();
});
port.postMessage('ready');
