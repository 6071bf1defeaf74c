import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { decodeImage, encodePng, readImage } from '../../src/perception/image-io.js';
import { InputError } from '../../src/core/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'rp-img-'));

test('PNG round trip to RGB and gray', () => {
  const data = new Uint8Array(4 * 3 * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 17) % 256;
  writeFileSync(join(dir, 'a.png'), encodePng({ width: 4, height: 3, channels: 3, data }));
  const rgb = readImage(join(dir, 'a.png'));
  assert.deepEqual([rgb.width, rgb.height, rgb.channels], [4, 3, 3]);
  assert.deepEqual(rgb.data, data);
  const gray = readImage(join(dir, 'a.png'), 1);
  assert.equal(gray.data[0], Math.round(0.299 * data[0]! + 0.587 * data[1]! + 0.114 * data[2]!));
});

test('JPEG by its magic bytes, whatever the name', () => {
  const rgba = Buffer.alloc(8 * 8 * 4, 200);
  const enc = jpeg.encode({ data: rgba, width: 8, height: 8 }, 95);
  writeFileSync(join(dir, 'frame.png'), enc.data);
  const img = readImage(join(dir, 'frame.png'));
  assert.equal(img.width, 8);
  assert.ok(Math.abs(img.data[0]! - 200) <= 3);
});

test('unreadable images are named', () => {
  writeFileSync(join(dir, 'junk.png'), 'not an image at all');
  assert.throws(() => readImage(join(dir, 'junk.png')), (e: Error) => e instanceof InputError && /junk\.png: unreadable image/.test(e.message));
  const png = encodePng({ width: 2, height: 2, channels: 3, data: new Uint8Array(12) });
  writeFileSync(join(dir, 'cut.png'), png.subarray(0, 30));
  assert.throws(() => readImage(join(dir, 'cut.png')), /cut\.png: unreadable image/);
  assert.throws(() => readImage(join(dir, 'missing.png')), /missing\.png: cannot read image/);
  assert.throws(() => decodeImage(new Uint8Array([0xff, 0xd8, 0xff, 0]), 'x.jpg'), /x\.jpg: unreadable image/);
});
