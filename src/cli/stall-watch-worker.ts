/**
 * Worker thread of stall-watch.ts: every millisecond it reads what the kernel says of the main thread — its state
 * and page faults (/proc/<pid>/task/<pid>/stat), where it sleeps when it does (…/wchan: waiting for events in
 * epoll, or blocked elsewhere), the nanoseconds it has spent on a CPU and runnable but waiting for one
 * (…/schedstat) — and keeps the samples with their absolute time (layout: stall-sample.ts), so that each event-loop
 * stall can later be split. It runs at normal priority: the daemon's bulk workers step aside for it as they do for
 * the main thread.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { BLOCKED, FAULTS, FIELDS, IDLE, RUN, RUNNABLE, STATE, T, WAIT, WCHAN } from './stall-sample.js';

const port = parentPort!;
const task = `/proc/${process.pid}/task/${process.pid}`;
const schedstat = openSync(`${task}/schedstat`, 'r');
const stat = openSync(`${task}/stat`, 'r');
let wchan: number | null = null;
try {
  wchan = openSync(`${task}/wchan`, 'r');
} catch {
  // No wchan (a kernel without it): every sleep counts as waiting for events.
}
const buf = Buffer.alloc(1024);
let samples = new Float64Array(FIELDS * 65536);
let n = 0;
const names: string[] = [];
const nameIndex = (name: string): number => {
  const k = names.indexOf(name);
  return k >= 0 ? k : names.push(name) - 1;
};

function read(fd: number): string {
  // pread at 0 regenerates a /proc file: no reopen per sample (a read costs a few microseconds).
  return buf.toString('latin1', 0, readSync(fd, buf, 0, buf.length, 0));
}

function sample(): void {
  const text = read(stat);
  // After "pid (name) " — the name may hold spaces and parentheses — come state, ppid, pgrp, session, tty_nr,
  // tpgid, flags, minflt: fields 0 and 7 of the rest.
  const rest = text.slice(text.lastIndexOf(') ') + 2).split(' ');
  const where = rest[0] === 'R' || wchan === null ? '' : read(wchan).trim();
  // wchan reads "0" once the thread runs again (it woke between the two reads): count it as running.
  const state = rest[0] === 'R' || where === '0' ? RUNNABLE : wchan === null || where.includes('epoll') ? IDLE : BLOCKED;
  const [run, wait] = read(schedstat).split(' ');
  if (FIELDS * (n + 1) > samples.length) {
    const grown = new Float64Array(samples.length * 2);
    grown.set(samples);
    samples = grown;
  }
  const o = FIELDS * n++;
  samples[o + T] = performance.timeOrigin + performance.now();
  samples[o + RUN] = Number(run) / 1e6;
  samples[o + WAIT] = Number(wait) / 1e6;
  samples[o + STATE] = state;
  samples[o + FAULTS] = Number(rest[7]);
  samples[o + WCHAN] = state === BLOCKED ? nameIndex(where) : -1;
}

sample();
const timer = setInterval(sample, 1);
port.on('message', () => {
  clearInterval(timer);
  sample();
  for (const fd of [schedstat, stat, wchan]) if (fd !== null) closeSync(fd);
  const out = samples.slice(0, FIELDS * n);
  port.postMessage({ samples: out, names }, [out.buffer]);
  port.close();
});
port.postMessage('ready');
