import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { attribute, describeStalls, StallWatch } from '../../src/cli/stall-watch.js';

/** Schedstat samples every `stepMs` from 0 to `untilMs`, the main thread's counters given as functions of time. */
function samples(untilMs: number, run: (t: number) => number, wait: (t: number) => number, stepMs = 1, skip?: [number, number]): Float64Array {
  const out: number[] = [];
  for (let t = 0; t <= untilMs; t += stepMs) {
    if (skip && t > skip[0] && t < skip[1]) continue; // the sampler itself kept off the CPU
    out.push(t, run(t), wait(t));
  }
  return Float64Array.from(out);
}
const within = (t: number, a: number, b: number) => Math.max(0, Math.min(t, b) - a);

test('a stall the main thread spent running is on the loop, and a collection covering it is counted as GC', () => {
  const s = samples(200, (t) => within(t, 100, 110), () => 0);
  const r = attribute([{ start: 100, end: 110 }], [{ start: 101, end: 109 }], s, 5, 1, true);
  assert.equal(r.count, 1);
  assert.equal(r.byCause.onLoop, 1);
  assert.equal(r.gc, 1);
  assert.equal(r.worst[0]!.runMs, 10);
});

test('a stall spent runnable but off the CPU is waiting for a CPU; one spent asleep is a late timer', () => {
  const wait = samples(300, () => 0.5, (t) => within(t, 100, 108));
  const w = attribute([{ start: 99, end: 108 }], [], wait, 5, 1, true);
  assert.equal(w.byCause.waitingForCpu, 1);
  assert.equal(w.gc, 0);
  const sleep = samples(300, () => 0.2, () => 0.1);
  const l = attribute([{ start: 200, end: 209 }], [], sleep, 5, 1, true);
  assert.equal(l.byCause.timerLate, 1);
  assert.ok(l.worst[0]!.sleepMs >= 8.9);
});

test('counters a running thread has not yet been charged are caught one scheduler tick after the stall', () => {
  // The kernel charges a running thread at its tick: the 10 ms of running show up in the counter 3 ms late.
  const s = samples(300, (t) => (t >= 113 ? 10 : 0), () => 0);
  const r = attribute([{ start: 100, end: 110 }], [], s, 5, 1, true);
  assert.equal(r.byCause.onLoop, 1, 'blamed on the loop, not on the machine');
});

test('a stall the sampler thread shared is marked shared', () => {
  const s = samples(300, () => 0, () => 0, 1, [100, 110]);
  const r = attribute([{ start: 100, end: 110 }, { start: 200, end: 207 }], [], s, 5, 2, true);
  assert.deepEqual(r.byCause, { onLoop: 0, waitingForCpu: 0, timerLate: 2 });
  assert.equal(r.shared.timerLate, 1);
  assert.equal(r.perS, 1);
  assert.match(describeStalls(r), /2 stalls > 5 ms \(1\/s, longest 10 ms\).*timer late 2 \(1 shared\)/);
});

test('without schedstat every stall is charged to the loop', () => {
  const r = attribute([{ start: 0, end: 9 }], [], new Float64Array(0), 5, 1, false);
  assert.equal(r.byCause.onLoop, 1);
  assert.match(describeStalls(r), /not split by cause/);
});

test('StallWatch catches a blocked event loop and charges it to the loop', async () => {
  const w = await StallWatch.start(5);
  await new Promise((r) => setTimeout(r, 20));
  const until = performance.now() + 40;
  while (performance.now() < until); // hold the loop for 40 ms
  await new Promise((r) => setTimeout(r, 20));
  const r = await w.stop();
  const held = r.worst.find((s) => s.ms >= 40);
  assert.ok(held, `a stall of at least 40 ms, got ${JSON.stringify(r.worst)}`);
  if (existsSync(`/proc/${process.pid}/task/${process.pid}/schedstat`)) {
    assert.equal(r.attributed, true);
    assert.equal(held.cause, 'onLoop');
  }
});
