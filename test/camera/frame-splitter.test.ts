import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BufferRing, FrameAssembler, splitSideBySide } from '../../src/camera/frame-splitter.js';

test('frames are reassembled from chunks of any size, several per chunk or split across chunks', () => {
  const frameBytes = 10;
  const stream = Buffer.from(Array.from({ length: 57 }, (_, i) => i));
  for (const chunkSize of [1, 3, 7, 10, 13, 57]) {
    const ring = new BufferRing(frameBytes, 8);
    const frames: number[][] = [];
    const asm = new FrameAssembler(frameBytes, () => ring.next(), (f) => frames.push([...f]));
    for (let off = 0; off < stream.length; off += chunkSize) asm.push(stream.subarray(off, off + chunkSize));
    assert.equal(frames.length, 5, `chunks of ${chunkSize}`);
    frames.forEach((f, k) => assert.deepEqual(f, Array.from({ length: 10 }, (_, i) => 10 * k + i)));
    assert.equal(asm.pendingBytes, 7);
  }
});

test('reset drops a partial frame so a restarted stream starts on a boundary', () => {
  const frames: number[][] = [];
  const scratch = Buffer.alloc(4);
  const asm = new FrameAssembler(4, () => scratch, (f) => frames.push([...f]));
  asm.push(Uint8Array.of(9, 9));
  asm.reset();
  asm.push(Uint8Array.of(1, 2, 3, 4, 5));
  assert.deepEqual(frames, [[1, 2, 3, 4]]);
});

test('the ring hands out its buffers in turn', () => {
  const ring = new BufferRing(4, 3);
  const a = ring.next();
  const b = ring.next();
  const c = ring.next();
  assert.notEqual(a, b);
  assert.notEqual(b, c);
  assert.equal(ring.next(), a);
  assert.throws(() => new BufferRing(0, 2), /positive integer/);
});

test('a side-by-side frame splits into its left and right halves row by row', () => {
  const w = 3;
  const h = 2;
  const bpp = 2;
  // Row y: left pixels hold 10·y + x, right pixels 100 + 10·y + x (both bytes of a pixel alike).
  const src = new Uint8Array(2 * w * h * bpp);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < 2 * w; x++)
      for (let b = 0; b < bpp; b++) src[(y * 2 * w + x) * bpp + b] = x < w ? 10 * y + x : 100 + 10 * y + (x - w);
  const left = new Uint8Array(w * h * bpp);
  const right = new Uint8Array(w * h * bpp);
  splitSideBySide(src, w, h, bpp, left, right);
  assert.deepEqual([...left], [0, 0, 1, 1, 2, 2, 10, 10, 11, 11, 12, 12]);
  assert.deepEqual([...right], [100, 100, 101, 101, 102, 102, 110, 110, 111, 111, 112, 112]);
  assert.throws(() => splitSideBySide(src.subarray(1), w, h, bpp, left, right), /smaller/);
});
