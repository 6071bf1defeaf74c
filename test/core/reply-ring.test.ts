import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { createReplyRing, ReplyPoller, ReplyReader, ReplyWriter } from '../../src/core/reply-ring.js';

test('replies come out in the order written, with their numbers and text, and each only once', () => {
  const ring = createReplyRing({ slots: 3, numbers: 4, textBytes: 16 });
  const w = new ReplyWriter(ring);
  const r = new ReplyReader(ring);
  assert.deepEqual(r.take(), []);
  w.write(7, true, [1.5, -2, 1e300]);
  w.write(8, false, [], 'no such tensor');
  const got = r.take();
  assert.deepEqual(got.map((x) => [x.id, x.ok, [...x.numbers], x.text]), [[7, true, [1.5, -2, 1e300], ''], [8, false, [], 'no such tensor']]);
  assert.deepEqual(r.take(), []);
  // Around the ring several times: slots are reused once read.
  for (let i = 0; i < 10; i++) {
    w.write(100 + i, true, [i]);
    const [one, ...rest] = r.take();
    assert.equal(rest.length, 0);
    assert.deepEqual([one!.id, one!.numbers[0]], [100 + i, i]);
  }
});

test('the counters wrap around below 2^31 without losing or repeating a reply', () => {
  const ring = createReplyRing({ slots: 3, numbers: 1, textBytes: 0 });
  const wrap = 3 * Math.floor(2 ** 30 / 3);
  ReplyWriter.startCountersAt(ring, wrap - 4);
  const w = new ReplyWriter(ring);
  const r = new ReplyReader(ring);
  const seen: number[] = [];
  for (let i = 0; i < 12; i++) {
    w.write(i, true, [i]);
    if (i % 3 === 2) seen.push(...r.take().map((x) => x.numbers[0]!));
  }
  assert.deepEqual(seen, Array.from({ length: 12 }, (_, i) => i));
  const ctl = new Int32Array(ring.buffer, 0, 2);
  assert.ok(ctl[0]! >= 0 && ctl[0]! < 16, `the written counter wrapped to a small number (${ctl[0]})`);
});

test('a reply keeps its numbers after the slot is written again; long text is cut, too many numbers refused', () => {
  const ring = createReplyRing({ slots: 1, numbers: 2, textBytes: 8 });
  const w = new ReplyWriter(ring);
  const r = new ReplyReader(ring);
  w.write(1, false, [3, 4], 'a very long error message');
  const [first] = r.take();
  w.write(2, true, [5, 6]);
  assert.deepEqual([...first!.numbers], [3, 4]);
  assert.equal(first!.text, 'a very l');
  assert.throws(() => w.write(3, true, [1, 2, 3]), RangeError);
  assert.throws(() => createReplyRing({ slots: 0, numbers: 1, textBytes: 0 }), RangeError);
});

test('a worker that fills the ring waits for the reader and loses nothing', async () => {
  const ring = createReplyRing({ slots: 2, numbers: 1, textBytes: 0 });
  const reader = new ReplyReader(ring);
  const module = new URL('../../src/core/reply-ring.js', import.meta.url).href;
  // Fifty replies into two slots: the writer must wait for the reader (which reads every millisecond) 48 times.
  const esm = `import { workerData } from 'node:worker_threads';
    const { ReplyWriter } = await import(workerData.module);
    const w = new ReplyWriter(workerData.ring);
    for (let i = 0; i < 50; i++) w.write(i, true, [i * i]);`;
  const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(esm)}`), { workerData: { ring, module } });
  const exited = new Promise<number>((res) => worker.on('exit', res));
  let gone = false;
  void exited.then(() => (gone = true));
  const seen: number[] = [];
  // Until all fifty are in, or the worker is gone and nothing more comes (a worker that failed ends the test).
  for (;;) {
    const batch = reader.take();
    for (const r of batch) {
      assert.equal(r.numbers[0], r.id * r.id);
      seen.push(r.id);
    }
    if (seen.length >= 50 || (gone && batch.length === 0)) break;
    await new Promise((res) => setTimeout(res, 1));
  }
  assert.equal(await exited, 0);
  assert.deepEqual(seen, Array.from({ length: 50 }, (_, i) => i));
});

test('the poller polls only while replies are awaited, then lets the process go', async () => {
  const ring = createReplyRing({ slots: 4, numbers: 1, textBytes: 0 });
  const w = new ReplyWriter(ring);
  const reader = new ReplyReader(ring);
  const poller = new ReplyPoller(1);
  let awaited = 2;
  const got: number[] = [];
  poller.watch(reader, (r) => (got.push(r.id), awaited--), () => awaited);
  assert.equal(process.getActiveResourcesInfo().filter((x) => x === 'Timeout').length >= 1, true);
  w.write(1, true, [0]);
  await new Promise((res) => setTimeout(res, 10));
  assert.deepEqual(got, [1]);
  w.write(2, true, [0]);
  await new Promise((res) => setTimeout(res, 10));
  assert.deepEqual(got, [1, 2]);
  assert.equal(awaited, 0);
  // Nothing awaited: the poller's interval is gone (only this test's own timers could remain, and none is pending).
  assert.equal(process.getActiveResourcesInfo().filter((x) => x === 'Timeout').length, 0);
  poller.watch(reader, () => assert.fail('no reply expected'), () => 1);
  poller.forget(reader);
  assert.equal(process.getActiveResourcesInfo().filter((x) => x === 'Timeout').length, 0);
});

test('a reply handler that throws does not cost the other replies their delivery, and its error is reported', () => {
  const ring = createReplyRing({ slots: 4, numbers: 0, textBytes: 0 });
  const w = new ReplyWriter(ring);
  const reader = new ReplyReader(ring);
  const errors: unknown[] = [];
  const poller = new ReplyPoller(1, (e) => errors.push(e));
  const got: number[] = [];
  let awaited = 3;
  poller.watch(reader, (r) => {
    awaited--;
    if (r.id === 1) throw new Error('handler bug');
    got.push(r.id);
  }, () => awaited);
  [1, 2, 3].forEach((id) => w.write(id, true));
  poller.poll();
  assert.deepEqual(got, [2, 3]);
  assert.deepEqual(errors.map((e) => (e as Error).message), ['handler bug']);
  assert.equal(process.getActiveResourcesInfo().filter((x) => x === 'Timeout').length, 0, 'all delivered: the poller stopped');
});
