import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { attribute, describeStalls, StallWatch, type AttributeInput } from '../../src/cli/stall-watch.js';

interface Thread {
  run: (t: number) => number;
  wait: (t: number) => number;
  /** Running or runnable at t (the state a sample reads); default: only while `run` or `wait` grows. */
  runnable?: (t: number) => boolean;
  /** Asleep somewhere other than waiting for events at t (a lock, I/O). */
  blocked?: (t: number) => boolean;
  /** Minor page faults taken by t. */
  faults?: (t: number) => number;
}

/** Sampler samples every ms from 0 to `untilMs` of a main thread described by its counters; `skip`: the sampler kept off the CPU. */
function samples(untilMs: number, th: Thread, skip?: [number, number]): Float64Array {
  const out: number[] = [];
  const runnable = th.runnable ?? ((t: number) => th.run(t + 0.5) > th.run(t - 0.5) || th.wait(t + 0.5) > th.wait(t - 0.5));
  for (let t = 0; t <= untilMs; t++) {
    if (skip && t > skip[0] && t < skip[1]) continue;
    const blocked = !runnable(t) && (th.blocked?.(t) ?? false);
    out.push(t, th.run(t), th.wait(t), runnable(t) ? 1 : blocked ? 2 : 0, th.faults?.(t) ?? 0, blocked ? 0 : -1);
  }
  return Float64Array.from(out);
}
const within = (t: number, a: number, b: number) => Math.max(0, Math.min(t, b) - a);
const input = (o: Partial<AttributeInput>): AttributeInput => ({
  stalls: [], gcs: [], holds: [], samples: new Float64Array(0), thresholdMs: 5, seconds: 1, attributed: true, ...o,
});

test('a stall spent running is on the loop; the pipeline\'s holds or a collection covering it say whose', () => {
  const s = samples(200, { run: (t) => within(t, 100, 110), wait: () => 0 });
  const stalls = [{ start: 100, end: 110 }];
  const gc = attribute(input({ stalls, samples: s, gcs: [{ start: 101, end: 109 }] }));
  assert.deepEqual([gc.count, gc.byCause.onLoop, gc.caused, gc.gc, gc.perception], [1, 1, 1, 1, 0]);
  assert.deepEqual(gc.causedStalls.map((x) => x.gcMs), [8]);
  assert.equal(gc.worst[0]!.runMs, 10);
  const held = attribute(input({ stalls, samples: s, holds: [{ start: 100.2, end: 106 }] }));
  assert.deepEqual([held.byCause.onLoop, held.caused, held.perception, held.gc], [1, 1, 1, 0]);
  assert.equal(held.worst[0]!.holdMs, 5.8);
});

test('the holds in a stall are counted by kind: one long hold is told from several short ones back to back', () => {
  const s = samples(300, { run: (t) => within(t, 100, 110) + within(t, 200, 210), wait: () => 0 });
  const r = attribute(input({
    stalls: [{ start: 100, end: 110 }, { start: 200, end: 210 }], samples: s,
    holds: [
      { start: 100.5, end: 108.5, kind: 'geometry' },
      { start: 200, end: 202, kind: 'decode' }, { start: 202, end: 204, kind: 'decode' }, { start: 204, end: 205, kind: 'copy' },
      { start: 205, end: 207, kind: 'decode' },
    ],
  }));
  assert.equal(r.perception, 2);
  assert.deepEqual(r.perceptionBy, { geometry: 1, decode: 1 });
  const [one, many] = [...r.worst].sort((a, b) => a.endMs - b.endMs);
  assert.deepEqual([one!.holds, one!.longestHoldMs, one!.holdBy], [1, 8, { geometry: 8 }]);
  assert.deepEqual([many!.holds, many!.longestHoldMs, many!.holdBy], [4, 2, { decode: 6, copy: 1 }]);
  assert.match(describeStalls(r), /perception 2 \[(geometry 1, decode 1|decode 1, geometry 1)\]/);
});

test('a stall on the loop with neither a hold nor a collection in it, but page faults, is counted as faulting', () => {
  const s = samples(200, { run: (t) => within(t, 100, 110), wait: () => 0, faults: (t) => (t > 105 ? 2048 : 0) });
  const r = attribute(input({ stalls: [{ start: 100, end: 110 }], samples: s }));
  assert.deepEqual([r.byCause.onLoop, r.caused, r.uncaused.onLoop, r.faulting], [1, 0, 1, 1]);
  assert.equal(r.worst[0]!.faults, 2048);
  assert.match(describeStalls(r), /on the loop 1, 1 with page faults/);
  const quiet = attribute(input({ stalls: [{ start: 100, end: 110 }], samples: samples(200, { run: (t) => within(t, 100, 110), wait: () => 0 }) }));
  assert.equal(quiet.faulting, 0);
});

test('a stall spent blocked in the kernel is this process\'s; a hold spent waiting for a CPU is still perception\'s', () => {
  const b = attribute(input({
    stalls: [{ start: 100, end: 110 }], names: ['futex_wait_queue'],
    samples: samples(300, { run: () => 0, wait: () => 0, blocked: (t) => t >= 100 && t < 110 }),
  }));
  assert.deepEqual([b.byCause.blocked, b.caused, b.perception, b.gc], [1, 1, 0, 0]);
  assert.equal(b.worst[0]!.blockedMs, 10);
  assert.equal(b.worst[0]!.blockedIn, 'futex_wait_queue');
  assert.deepEqual(b.blockedIn, { futex_wait_queue: 1 });
  assert.match(describeStalls(b), /caused 1 \(perception 0, GC 0, blocked 1: 1 in futex_wait_queue\)/);
  const w = attribute(input({
    stalls: [{ start: 100, end: 110 }], holds: [{ start: 100, end: 109 }],
    samples: samples(300, { run: (t) => within(t, 100, 101), wait: (t) => within(t, 101, 110) }),
  }));
  assert.deepEqual([w.byCause.waitingForCpu, w.caused, w.perception, w.uncaused.waitingForCpu], [1, 1, 1, 0]);
});

test('running inside the stall is not mistaken for the wait that follows it', () => {
  // 7 ms running, then 5 ms waiting for a CPU after the stall ended.
  const s = samples(300, { run: (t) => within(t, 100, 107), wait: (t) => within(t, 107, 112), runnable: (t) => t >= 100 && t < 112 });
  assert.equal(attribute(input({ stalls: [{ start: 100, end: 107 }], samples: s })).byCause.onLoop, 1);
});

test('a stall spent runnable but off the CPU is waiting for a CPU; one spent asleep is a late timer', () => {
  const w = attribute(input({ stalls: [{ start: 99, end: 108 }], samples: samples(300, { run: () => 0.5, wait: (t) => within(t, 100, 108) }) }));
  assert.equal(w.byCause.waitingForCpu, 1);
  const l = attribute(input({ stalls: [{ start: 200, end: 209 }], samples: samples(300, { run: () => 0.2, wait: () => 0.1 }) }));
  assert.equal(l.byCause.timerLate, 1);
  assert.equal(l.worst[0]!.sleepMs, 9);
});

test('running the backlog after a late timer does not make the stall the loop\'s', () => {
  // Asleep 100-110, then 3 ms of catching up: the counters over the bracket grow by 3 ms of running.
  const s = samples(300, { run: (t) => within(t, 110, 113), wait: () => 0, runnable: (t) => t >= 110 && t < 113 });
  const r = attribute(input({ stalls: [{ start: 100, end: 110 }], samples: s }));
  assert.equal(r.byCause.timerLate, 1);
});

test('counters a running thread has not yet been charged are caught one scheduler tick after the stall', () => {
  // The kernel charges the 10 ms of running 3 ms late; the sampler saw it runnable throughout.
  const s = samples(300, { run: (t) => (t >= 113 ? 10 : 0), wait: () => 0, runnable: (t) => t >= 100 && t <= 110 });
  assert.equal(attribute(input({ stalls: [{ start: 100, end: 110 }], samples: s })).byCause.onLoop, 1);
  // With the sampler kept off the CPUs too, the counters alone decide, and still blame the loop.
  const blind = samples(300, { run: (t) => (t >= 113 ? 10 : 0), wait: () => 0 }, [99, 111]);
  const r = attribute(input({ stalls: [{ start: 100, end: 110 }], samples: blind }));
  assert.equal(r.byCause.onLoop, 1);
  assert.equal(r.shared.onLoop, 1);
});

test('a stall the sampler thread shared is marked shared, and the line says so', () => {
  const s = samples(300, { run: () => 0, wait: () => 0 }, [100, 110]);
  const r = attribute(input({ stalls: [{ start: 100, end: 110 }, { start: 200, end: 207 }], samples: s, seconds: 2 }));
  assert.deepEqual(r.byCause, { onLoop: 0, waitingForCpu: 0, blocked: 0, timerLate: 2 });
  assert.equal(r.shared.timerLate, 1);
  assert.equal(r.perS, 1);
  assert.match(describeStalls(r), /2 stalls > 5 ms \(1\/s, longest 10 ms\).*timer late 2 \(1 shared\)/);
  // A collection the sampler was frozen through too: still caused, and counted as shared.
  const gcFrozen = attribute(input({ stalls: [{ start: 100, end: 110 }], gcs: [{ start: 100, end: 109 }], samples: s, seconds: 2 }));
  assert.deepEqual([gcFrozen.caused, gcFrozen.gc, gcFrozen.causedShared], [1, 1, 1]);
  assert.match(describeStalls(gcFrozen), /; 1 shared\)/);
  const gcAlone = attribute(input({ stalls: [{ start: 200, end: 207 }], gcs: [{ start: 200, end: 207 }], samples: s, seconds: 2 }));
  assert.deepEqual([gcAlone.caused, gcAlone.causedShared], [1, 0]);
});

test('without schedstat every stall is charged to the loop', () => {
  const r = attribute(input({ stalls: [{ start: 0, end: 9 }], attributed: false }));
  assert.equal(r.byCause.onLoop, 1);
  assert.match(describeStalls(r), /not split by cause/);
});

test('StallWatch catches a blocked event loop, never as asleep, and sees the reported hold in it', async () => {
  const w = await StallWatch.start(5);
  await new Promise((r) => setTimeout(r, 20));
  const t0 = performance.now();
  while (performance.now() < t0 + 40); // hold the loop for 40 ms
  w.hold(t0, performance.now() - t0);
  await new Promise((r) => setTimeout(r, 20));
  const r = await w.stop();
  const held = r.worst.find((s) => s.ms >= 40);
  assert.ok(held, `a stall of at least 40 ms, got ${JSON.stringify(r.worst)}`);
  assert.ok(held.holdMs >= 39, `the reported hold covers it (${held.holdMs} ms)`);
  if (existsSync(`/proc/${process.pid}/task/${process.pid}/schedstat`)) {
    assert.equal(r.attributed, true);
    // Running, or waiting for a CPU when the tests beside this one keep the cores busy: never asleep; and the
    // reported hold makes it this process's, whichever.
    assert.notEqual(held.cause, 'timerLate');
    assert.ok(held.sleepMs < held.ms / 4, `asleep ${held.sleepMs} ms of a ${held.ms} ms busy wait`);
    assert.equal(held.caused, true);
    assert.ok(r.perception >= 1);
  }
});
