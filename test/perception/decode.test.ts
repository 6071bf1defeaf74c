import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeGates } from '../../src/perception/decode.js';

const W = 16;
const H = 12;
const S = 4;
const layout = { width: W, height: H, stride: S };

/** A head output with one gate: centre peak at cell (x, y), corners given in input pixels. */
function put(out: Float32Array, x: number, y: number, score: number, corners: number[][]) {
  const plane = W * H;
  out[y * W + x] = score;
  const cx = x * S + S / 2;
  const cy = y * S + S / 2;
  corners.forEach(([px, py], k) => {
    out[(1 + 2 * k) * plane + y * W + x] = px! - cx;
    out[(2 + 2 * k) * plane + y * W + x] = py! - cy;
    // A corner heatmap bump exactly on the corner's cell.
    const gx = Math.round(px! / S - 0.5);
    const gy = Math.round(py! / S - 0.5);
    if (gx >= 0 && gy >= 0 && gx < W && gy < H) out[(9 + k) * plane + gy * W + gx] = 0.9;
  });
}

test('each centre peak is one gate carrying its own corners, scaled to image pixels, strongest first', () => {
  const out = new Float32Array(13 * W * H);
  const big = [[10, 6], [54, 6], [54, 42], [10, 42]];
  const small = [[14, 14], [26, 14], [26, 26], [14, 26]]; // inside the big one: overlapping gates
  put(out, 8, 6, 0.7, big);
  put(out, 4, 4, 0.9, small);
  put(out, 7, 6, 0.3, big); // a shoulder next to a peak is not a second gate (its offsets agree)
  const gates = decodeGates(out, layout, { sx: 2, sy: 3 });
  assert.equal(gates.length, 2);
  assert.equal(gates[0]!.score, Math.fround(0.9));
  assert.deepEqual(gates[0]!.corners, small.map(([x, y]) => [x! * 2, y! * 3]));
  assert.deepEqual(gates[1]!.corners, big.map(([x, y]) => [x! * 2, y! * 3]));
  for (const g of gates) for (const c of g.cornerConfidence) assert.ok(c > 0.4, `corner confidence ${c}`);
});

test('threshold and maxGates; corners outside the image get confidence 0', () => {
  const out = new Float32Array(13 * W * H);
  put(out, 2, 2, 0.5, [[-6, -6], [18, -2], [18, 18], [-4, 18]]);
  put(out, 12, 8, 0.04, [[40, 30], [60, 30], [60, 40], [40, 40]]);
  const gates = decodeGates(out, layout);
  assert.equal(gates.length, 1);
  assert.equal(gates[0]!.cornerConfidence[0], 0);
  assert.ok(gates[0]!.cornerConfidence[2] > 0.4);
  assert.equal(decodeGates(out, layout, undefined, { threshold: 0.01 }).length, 2);
  assert.equal(decodeGates(out, layout, undefined, { threshold: 0.01, maxGates: 1 }).length, 1);
  assert.throws(() => decodeGates(new Float32Array(10), layout), RangeError);
});

test('corners average over the 3x3 cells around the peak, weighted by centre score', () => {
  const out = new Float32Array(13 * W * H);
  const q = [[10, 6], [54, 6], [54, 42], [10, 42]];
  put(out, 8, 6, 0.6, q);
  put(out, 9, 6, 0.2, q.map(([x, y]) => [x! + 4, y!])); // a neighbour voting 4 px further right
  const g = decodeGates(out, layout)[0]!;
  assert.ok(Math.abs(g.corners[0][0] - 11) < 1e-6 && Math.abs(g.corners[0][1] - 6) < 1e-6, `${g.corners[0]}`);
  assert.deepEqual(decodeGates(out, layout, undefined, { average: false })[0]!.corners[0], [10, 6]);
});

test('refinement moves a corner onto a nearby corner-heatmap peak, and not onto a weak one', () => {
  const out = new Float32Array(13 * W * H);
  const plane = W * H;
  put(out, 8, 6, 0.8, [[10, 6], [54, 6], [54, 42], [10, 42]]);
  out.fill(0, 9 * plane, 10 * plane);
  out[9 * plane + 2 * W + 3] = 0.8; // TL peak at cell (3, 2) → input px (14, 10)
  const g = decodeGates(out, layout, undefined, { refineRadius: 2, refineMin: 0.3 })[0]!;
  assert.deepEqual(g.corners[0], [14, 10]);
  out[9 * plane + 2 * W + 3] = 0.2;
  const h = decodeGates(out, layout, undefined, { refineRadius: 2, refineMin: 0.3 })[0]!;
  assert.deepEqual(h.corners[0], [10, 6]);
});
