import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Preprocessor } from '../../src/perception/preprocess.js';

const spec = { width: 4, height: 4, channels: 3 as const, scale: 1 / 255, mean: [0.5, 0.25, 0], std: [0.5, 0.25, 1] };

test('a flat image normalises per channel, in NCHW, into the batch slot asked for', () => {
  const pre = new Preprocessor(spec);
  const img = { width: 9, height: 7, channels: 3 as const, data: new Uint8Array(9 * 7 * 3) };
  for (let i = 0; i < 9 * 7; i++) img.data.set([255, 0, 51], 3 * i);
  const buf = pre.allocate(2);
  const s = pre.into(img, buf, 1);
  assert.deepEqual(s, { sx: 9 / 4, sy: 7 / 4 });
  assert.ok(buf.subarray(0, 48).every((v) => v === 0), 'slot 0 untouched');
  const slot = buf.subarray(48);
  for (let i = 0; i < 16; i++) {
    assert.ok(Math.abs(slot[i]! - 1) < 1e-6);
    assert.ok(Math.abs(slot[16 + i]! + 1) < 1e-6);
    assert.ok(Math.abs(slot[32 + i]! - 0.2) < 1e-6);
  }
});

test('bilinear at pixel centres: a horizontal ramp 2x downscaled averages neighbour pairs; same size is identity', () => {
  const pre = new Preprocessor({ ...spec, mean: [0, 0, 0], std: [1, 1, 1], scale: 1 });
  const img = { width: 8, height: 4, channels: 3 as const, data: new Uint8Array(8 * 4 * 3) };
  for (let y = 0; y < 4; y++) for (let x = 0; x < 8; x++) img.data.set([x * 10, x * 10, x * 10], 3 * (y * 8 + x));
  const buf = pre.allocate(1);
  pre.into(img, buf);
  assert.deepEqual([...buf.subarray(0, 4)].map((v) => Math.round(v * 1000) / 1000), [5, 25, 45, 65]);
  const same = { width: 4, height: 4, channels: 3 as const, data: img.data.subarray(0, 48) };
  same.data = new Uint8Array(48).map((_, i) => i);
  pre.into(same, buf);
  assert.equal(buf[5], same.data[15]); // pixel (1,1) red
});
