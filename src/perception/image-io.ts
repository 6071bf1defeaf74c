import { readFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';
import { InputError } from '../core/errors.js';

/** An 8-bit image, row-major, interleaved channels (3 = RGB, 1 = gray). */
export interface Image8 {
  width: number;
  height: number;
  channels: 1 | 3;
  data: Uint8Array;
}

/** Decodes a PNG or JPEG (by its magic bytes, not its name) into RGB or gray. Bad data → InputError naming `where`. */
export function decodeImage(bytes: Uint8Array, where: string, channels: 1 | 3 = 3): Image8 {
  let rgba: Uint8Array;
  let width: number;
  let height: number;
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    if (buf.length >= 8 && buf.readUInt32BE(0) === 0x89504e47) {
      const png = PNG.sync.read(buf);
      ({ width, height } = png);
      rgba = png.data;
    } else if (buf.length >= 3 && buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff) {
      const jpg = jpeg.decode(buf, { useTArray: true, formatAsRGBA: true });
      ({ width, height } = jpg);
      rgba = jpg.data;
    } else {
      throw new Error('not a PNG or JPEG file');
    }
  } catch (err) {
    throw new InputError(`unreadable image: ${(err as Error).message}`, where, { cause: err });
  }
  if (!(width > 0 && height > 0)) throw new InputError('image has no pixels', where);
  const n = width * height;
  const data = new Uint8Array(n * channels);
  if (channels === 3) {
    for (let i = 0; i < n; i++) {
      data[3 * i] = rgba[4 * i]!;
      data[3 * i + 1] = rgba[4 * i + 1]!;
      data[3 * i + 2] = rgba[4 * i + 2]!;
    }
  } else {
    for (let i = 0; i < n; i++) {
      data[i] = Math.round(0.299 * rgba[4 * i]! + 0.587 * rgba[4 * i + 1]! + 0.114 * rgba[4 * i + 2]!);
    }
  }
  return { width, height, channels, data };
}

export function readImage(path: string, channels: 1 | 3 = 3): Image8 {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new InputError(`cannot read image: ${(err as Error).message}`, path, { cause: err });
  }
  return decodeImage(bytes, path, channels);
}

/** Encodes RGB as PNG (used by tests to make synthetic frames). */
export function encodePng(img: Image8): Buffer {
  const png = new PNG({ width: img.width, height: img.height });
  for (let i = 0; i < img.width * img.height; i++) {
    for (let c = 0; c < 3; c++) png.data[4 * i + c] = img.data[img.channels * i + (img.channels === 3 ? c : 0)]!;
    png.data[4 * i + 3] = 255;
  }
  return PNG.sync.write(png);
}
