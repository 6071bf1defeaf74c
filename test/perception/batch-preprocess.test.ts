import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchPreprocessor, type BatchImage } from '../../src/perception/batch-preprocess.js';

const spec = { width: 64, height: 48, channels: 3 as const, scale: 1 / 255, mean: [0, 0, 0], std: [1, 1, 1] };
const image = (v: number): BatchImage => ({ width: 128, height: 96, channels: 3, data: new Uint8Array(128 * 96 * 3).fill(v) });
const timers = () => process.getActiveResourcesInfo().filter((x) => x === 'Timeout').length;

test('a batch comes back through the reply ring with each image\'s mean and scale', async () => {
  const pre = new BatchPreprocessor(spec, 4);
  try {
    const b = await pre.run([image(10), image(200), image(0)]);
    assert.deepEqual(b.means, [10, 200, 0]);
    assert.deepEqual(b.scales, [{ sx: 2, sy: 2 }, { sx: 2, sy: 2 }, { sx: 2, sy: 2 }]);
    assert.equal(b.batch, 3);
    assert.ok(Math.abs(b.tensor[0]! - 10 / 255) < 1e-6 && Math.abs(b.tensor[spec.width * spec.height * 3]! - 200 / 255) < 1e-6);
    b.release();
    assert.equal(timers(), 0, 'no reply awaited: the poller stopped');
  } finally {
    await pre.close();
  }
});

test('a worker lost during the copy fails the batch instead of leaving it, and the poller, waiting for ever', async () => {
  const pre = new BatchPreprocessor(spec, 4);
  try {
    const run = pre.run([image(1), image(2), image(3)]);
    // What the worker's 'error' or 'exit' event does, while the copy is still waiting for its first turn of the loop.
    (pre as unknown as { requests: { lose(e: Error): void } }).requests.lose(new Error('preprocessing worker exited with code 1'));
    await assert.rejects(run, /exited with code 1/);
    await assert.rejects(pre.run([image(4)]), /exited with code 1/);
    assert.equal(timers(), 0, 'nothing left polling');
  } finally {
    await pre.close();
  }
});
