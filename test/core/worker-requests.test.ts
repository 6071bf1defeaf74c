import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Worker } from 'node:worker_threads';
import { createReplyRing, ReplyWriter } from '../../src/core/reply-ring.js';
import { WorkerRequests } from '../../src/core/worker-requests.js';

/** What WorkerRequests uses of a Worker, counting how it holds the process open. */
function fakeWorker() {
  const w = { refs: 0, posted: [] as number[], ref() { w.refs++; }, unref() { w.refs = 0; } };
  return w;
}

test('requests are answered by id; the worker is held open only while some are awaited', async () => {
  const ring = createReplyRing({ slots: 4, numbers: 1, textBytes: 64 });
  const w = fakeWorker();
  const req = new WorkerRequests(w as unknown as Worker, ring);
  const out = new ReplyWriter(ring);
  const a = req.request((id) => w.posted.push(id));
  const b = req.request((id) => w.posted.push(id));
  assert.deepEqual(w.posted, [0, 1]);
  assert.ok(w.refs > 0);
  out.write(1, false, [], 'bad input');
  out.write(0, true, [42]);
  const [ra, rb] = await Promise.all([a, b]);
  assert.deepEqual([ra.ok, ra.numbers, rb.ok, rb.text], [true, [42], false, 'bad input']);
  assert.equal(w.refs, 0, 'idle: unref\'d');
});

test('a lost worker: what it published still goes out, the rest and every later request fail with the reason', async () => {
  const ring = createReplyRing({ slots: 4, numbers: 1, textBytes: 0 });
  const w = fakeWorker();
  const req = new WorkerRequests(w as unknown as Worker, ring);
  const out = new ReplyWriter(ring);
  const done = req.request(() => {});
  const never = req.request(() => {});
  out.write(0, true, [7]);
  const gone = new Error('worker exited with code 1');
  req.lose(gone); // before any poll: the published reply is read here
  assert.deepEqual((await done).numbers, [7]);
  await assert.rejects(never, /exited with code 1/);
  await assert.rejects(req.request(() => assert.fail('nothing is posted to a lost worker')), /exited with code 1/);
  assert.equal(req.lost, gone);
  assert.equal(process.getActiveResourcesInfo().filter((x) => x === 'Timeout').length, 0, 'nothing left polling');
});
