import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Quad } from '../../src/perception/labels.js';
import { averagePrecision, quadIoU } from '../../src/perception/metrics.js';

const square = (x: number, y: number, s: number): Quad => [[x, y], [x + s, y], [x + s, y + s], [x, y + s]];

test('polygon IoU: identical 1, disjoint 0, shifted square as the areas say, order and orientation free', () => {
  const a = square(0, 0, 10);
  assert.equal(quadIoU(a, a), 1);
  assert.equal(quadIoU(a, square(20, 0, 10)), 0);
  assert.ok(Math.abs(quadIoU(a, square(2, 0, 10)) - 80 / 120) < 1e-12);
  assert.ok(Math.abs(quadIoU(a, square(2, 3, 10)) - 56 / 144) < 1e-12);
  const reversed: Quad = [a[3], a[2], a[1], a[0]];
  assert.equal(quadIoU(a, reversed), 1);
  // A diamond inside a square: its area (50) over the square's (100).
  const diamond: Quad = [[5, 0], [10, 5], [5, 10], [0, 5]];
  assert.ok(Math.abs(quadIoU(a, diamond) - 0.5) < 1e-12);
  // Degenerate (all corners on a line) scores 0 rather than NaN.
  assert.equal(quadIoU(a, [[0, 0], [1, 1], [2, 2], [3, 3]]), 0);
});

test('a perfect prediction scores 1 at every threshold', () => {
  const truth = new Map([['a', [square(0, 0, 10), square(30, 30, 20)]], ['b', [square(5, 5, 8)]]]);
  const dets = new Map([...truth].map(([k, qs]) => [k, qs.map((q) => ({ score: 0.9, corners: q }))]));
  const r = averagePrecision(dets, truth);
  assert.equal(r.map, 1);
  assert.equal(r.ap50, 1);
  assert.equal(r.ap75, 1);
});

test('a shifted prediction scores what polygon IoU says: AP 1 up to its IoU, 0 above', () => {
  const truth = new Map([['a', [square(0, 0, 10)]]]);
  const dets = new Map([['a', [{ score: 0.8, corners: square(2, 0, 10) }]]]); // IoU 2/3
  const r = averagePrecision(dets, truth);
  assert.deepEqual(r.perThreshold, [1, 1, 1, 1, 0, 0, 0, 0, 0, 0]);
  assert.ok(Math.abs(r.map - 0.4) < 1e-12);
  assert.equal(r.ap50, 1);
  assert.equal(r.ap75, 0);
});

test('misses, false positives and ranking follow the COCO 101-point rule', () => {
  const truth = new Map([['a', [square(0, 0, 10), square(50, 50, 10)]]]);
  // Found one of two gates, with the best score: precision 1 up to recall 0.5, then nothing.
  const half = averagePrecision(new Map([['a', [{ score: 0.9, corners: square(0, 0, 10) }]]]), truth);
  assert.ok(Math.abs(half.ap50 - 51 / 101) < 1e-12);
  // A higher-scored false positive first: precision 1/2 at recall 0.5, 2/3 at recall 1 → 2/3 at every recall level.
  const withFp = averagePrecision(new Map([['a', [
    { score: 0.95, corners: square(100, 100, 10) },
    { score: 0.9, corners: square(0, 0, 10) },
    { score: 0.8, corners: square(50, 50, 10) },
  ]]]), truth);
  assert.ok(Math.abs(withFp.ap50 - 2 / 3) < 1e-12);
  // A duplicate detection of one gate counts once.
  const dup = averagePrecision(new Map([['a', [
    { score: 0.9, corners: square(0, 0, 10) }, { score: 0.85, corners: square(0, 0, 10) },
  ]]]), truth);
  assert.ok(Math.abs(dup.ap50 - 51 / 101) < 1e-12);
  assert.equal(averagePrecision(new Map(), truth).map, 0);
});
