/**
 * Worker thread of stall-watch.ts: every millisecond it reads what the kernel says of the main thread — its state
 * (running or runnable, or asleep) and its page faults (/proc/<pid>/task/<pid>/stat), the nanoseconds it has spent
 * on a CPU and runnable but waiting for one (…/schedstat) — and keeps the samples with their absolute time, so
 * that each event-loop stall can later be split into running, waiting and sleeping. It runs at normal priority: the daemon's
 * bulk workers step aside for it as they do for the main thread.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';

const port = parentPort!;
const task = `/proc/${process.pid}/task/${process.pid}`;
const schedstat = openSync(`${task}/schedstat`, 'r');
const stat = openSync(`${task}/stat`, 'r');
const buf = Buffer.alloc(1024);
/** Per sample: absolute ms, run ms, wait ms, 1 when the thread was running or runnable (state R) else 0, minor faults. */
const SAMPLE_FIELDS = 5; // stall-watch.ts reads the same layout
let samples = new Float64Array(SAMPLE_FIELDS * 65536);
let n = 0;

function sample(): void {
  // pread at 0 regenerates a /proc file: no reopen per sample (a read costs a few microseconds).
  let len = readSync(stat, buf, 0, buf.length, 0);
  const text = buf.toString('latin1', 0, len);
  // After "pid (name) " — the name may hold spaces and parentheses — come state, ppid, pgrp, session, tty_nr,
  // tpgid, flags, minflt: fields 0 and 7 of the rest.
  const rest = text.slice(text.lastIndexOf(') ') + 2).split(' ');
  const state = rest[0];
  len = readSync(schedstat, buf, 0, buf.length, 0);
  const [run, wait] = buf.toString('latin1', 0, len).split(' ');
  if (SAMPLE_FIELDS * (n + 1) > samples.length) {
    const grown = new Float64Array(samples.length * 2);
    grown.set(samples);
    samples = grown;
  }
  const o = SAMPLE_FIELDS * n++;
  samples[o] = performance.timeOrigin + performance.now();
  samples[o + 1] = Number(run) / 1e6;
  samples[o + 2] = Number(wait) / 1e6;
  samples[o + 3] = state === 'R' ? 1 : 0;
  samples[o + 4] = Number(rest[7]);
}

sample();
const timer = setInterval(sample, 1);
port.on('message', () => {
  clearInterval(timer);
  sample();
  closeSync(schedstat);
  closeSync(stat);
  const out = samples.slice(0, SAMPLE_FIELDS * n);
  port.postMessage(out, [out.buffer]);
  port.close();
});
port.postMessage('ready');
