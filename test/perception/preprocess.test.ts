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

test('colour downscale by an odd factor matches the plain bilinear formula in every channel', () => {
  const spec = { width: 11, height: 9, channels: 3 as const, scale: 1 / 255, mean: [0.4, 0.5, 0.6], std: [0.2, 0.25, 0.3] };
  const img = { width: 37, height: 23, channels: 3 as const, data: Uint8Array.from({ length: 37 * 23 * 3 }, (_, i) => (i * 97 + (i >> 3) * 13) & 255) };
  const p = new Preprocessor(spec);
  const out = p.allocate(2);
  p.into(img, out, 1);
  const coord = (u: number, src: number, dst: number) => {
    const s = Math.min(Math.max((u + 0.5) * (src / dst), 0.5), src - 0.5) - 0.5;
    const i0 = Math.floor(s);
    return [i0, Math.min(i0 + 1, src - 1), s - i0] as const;
  };
  let worst = 0;
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < 9; y++) {
      for (let x = 0; x < 11; x++) {
        const [x0, x1, fx] = coord(x, 37, 11);
        const [y0, y1, fy] = coord(y, 23, 9);
        const px = (xx: number, yy: number) => img.data[(yy * 37 + xx) * 3 + c]!;
        const v = (px(x0, y0) * (1 - fx) + px(x1, y0) * fx) * (1 - fy) + (px(x0, y1) * (1 - fx) + px(x1, y1) * fx) * fy;
        const want = (v * spec.scale - spec.mean[c]!) / spec.std[c]!;
        worst = Math.max(worst, Math.abs(out[spec.width * spec.height * (3 + c) + y * 11 + x]! - want));
      }
    }
  }
  assert.ok(worst < 1e-4, `largest difference ${worst}`);
  assert.ok(out.subarray(0, 3 * 99).every((v) => v === 0), 'slot 0 untouched');
});
