import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cornerSigma, decodeGates } from '../../src/perception/decode.js';

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
  const g = decodeGates(out, layout, undefined, { heatmapBlend: false })[0]!;
  assert.ok(Math.abs(g.corners[0][0] - 11) < 1e-6 && Math.abs(g.corners[0][1] - 6) < 1e-6, `${g.corners[0]}`);
  assert.deepEqual(decodeGates(out, layout, undefined, { average: false, heatmapBlend: false })[0]!.corners[0], [10, 6]);
});

test('refinement moves a corner onto a nearby corner-heatmap peak, and not onto a weak one', () => {
  const out = new Float32Array(13 * W * H);
  const plane = W * H;
  put(out, 8, 6, 0.8, [[10, 6], [54, 6], [54, 42], [10, 42]]);
  out.fill(0, 9 * plane, 10 * plane);
  out[9 * plane + 2 * W + 3] = 0.8; // TL peak at cell (3, 2) → input px (14, 10)
  const g = decodeGates(out, layout, undefined, { refineRadius: 2, refineMin: 0.3, heatmapBlend: false })[0]!;
  assert.deepEqual(g.corners[0], [14, 10]);
  out[9 * plane + 2 * W + 3] = 0.2;
  const h = decodeGates(out, layout, undefined, { refineRadius: 2, refineMin: 0.3, heatmapBlend: false })[0]!;
  assert.deepEqual(h.corners[0], [10, 6]);
});

test('corners from both heads: the Gaussian corner heatmap places the corner exactly; a faint one moves it partly, none not at all', () => {
  const plane = W * H;
  const out = new Float32Array(13 * W * H);
  const offsets = [[10, 6], [54, 6], [54, 42], [10, 42]];
  put(out, 8, 6, 0.8, offsets);
  // TL truly at (11.3, 7.1) input px, 1.3 and 1.1 px from where the offsets put it. Its heatmap as training draws it.
  const truth = [11.3, 7.1];
  const sigma = cornerSigma(offsets as [number, number][], S);
  const drawTl = (peakScale: number) => {
    out.fill(0, 9 * plane, 10 * plane);
    const kx = truth[0]! / S - 0.5;
    const ky = truth[1]! / S - 0.5;
    for (let v = 0; v < H; v++) for (let u = 0; u < W; u++) {
      const near = u === Math.round(kx) && v === Math.round(ky);
      out[9 * plane + v * W + u] = peakScale * (near ? 1 : Math.exp(-((u - kx) ** 2 + (v - ky) ** 2) / (2 * sigma * sigma)));
    }
  };
  drawTl(1);
  const g = decodeGates(out, layout)[0]!;
  assert.ok(Math.hypot(g.corners[0][0] - truth[0]!, g.corners[0][1] - truth[1]!) < 1e-4, `${g.corners[0]}`);
  // The other corners' heatmaps are flat bumps centred on their cells, where the offsets put them: unchanged.
  assert.deepEqual(g.corners.slice(1), offsets.slice(1));
  assert.deepEqual(decodeGates(out, layout, undefined, { heatmapBlend: false })[0]!.corners[0], [10, 6]);
  // A heatmap peaking at 0.4 moves the corner 40% of the way (the log ratio does not depend on the scale).
  drawTl(0.4);
  const f = decodeGates(out, layout)[0]!.corners[0];
  assert.ok(Math.hypot(f[0] - (0.6 * 10 + 0.4 * truth[0]!), f[1] - (0.6 * 6 + 0.4 * truth[1]!)) < 1e-4, `${f}`);
  // No heatmap near the corner: the offsets stand.
  out.fill(0, 9 * plane, 10 * plane);
  out[9 * plane + 8 * W + 10] = 0.9;
  assert.deepEqual(decodeGates(out, layout)[0]!.corners[0], [10, 6]);
});

test('corners from both heads at the map edge: the coordinate without a neighbour stays with the offsets', () => {
  const plane = W * H;
  const out = new Float32Array(13 * W * H);
  // TL at x = 1.3 input px: in the first column of cells (cell 0 spans 0..4); y = 21.4 well inside.
  const offsets = [[1.3, 21.4], [40, 21.4], [40, 44], [1.3, 44]];
  put(out, 5, 8, 0.8, offsets);
  const sigma = cornerSigma(offsets as [number, number][], S);
  out.fill(0, 9 * plane, 10 * plane);
  const kx = 1.3 / S - 0.5;
  const ky = 21.4 / S - 0.5;
  for (let v = 0; v < H; v++) for (let u = 0; u < W; u++) {
    const near = u === Math.round(kx) && v === Math.round(ky);
    out[9 * plane + v * W + u] = near ? 1 : Math.exp(-((u - kx) ** 2 + (v - ky) ** 2) / (2 * sigma * sigma));
  }
  const g = decodeGates(out, layout)[0]!;
  assert.ok(Math.abs(g.corners[0][0] - 1.3) < 1e-6, `x ${g.corners[0][0]}: pulled inward`);
  assert.ok(Math.abs(g.corners[0][1] - 21.4) < 1e-4, `y ${g.corners[0][1]}`);
});

test('corners from both heads: an isolated heatmap cell (no Gaussian of the trained width) leaves the offsets their sub-cell position', () => {
  const plane = W * H;
  const out = new Float32Array(13 * W * H);
  put(out, 8, 6, 0.8, [[11.2, 7.3], [54, 6], [54, 42], [10, 42]]);
  out.fill(0, 9 * plane, 10 * plane);
  out[9 * plane + 1 * W + 2] = 0.9; // one cell, its neighbours 0
  assert.deepEqual(decodeGates(out, layout)[0]!.corners[0].map((v) => Math.round(v * 1e4) / 1e4), [11.2, 7.3]);
});
