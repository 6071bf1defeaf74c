import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { runInNewContext } from 'node:vm';
import { deflateSync, inflateSync } from 'node:zlib';
import { crc32 } from '@foxglove/crc';
import { InputError } from '../core/errors.js';

/**
 * Camera images for the log, the way Foxglove shows them: PNG (lossless, our default), JPEG or raw pixels.
 * Runs in the recorder worker (encoding) and in replay (decoding), never on the control loop.
 *
 * Why our own PNG writer instead of pngjs: pngjs filters every row in JavaScript with its adaptive filter search,
 * which costs more than the deflate itself; a gray or RGB image filtered with "Sub" on every row and deflated by
 * zlib (native) at level 1 is about twice as fast and as small (numbers in `racepilot bench record --images`).
 * PNG is lossless, so a replay feeds perception the very pixels it saw live.
 */
export type ImageFormat = 'png' | 'jpeg' | 'raw';

export interface GrayOrRgb {
  width: number;
  height: number;
  format: 'GRAY8' | 'RGB';
  data: Uint8Array;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function chunk(type: string, body: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + body.length);
  out.writeUInt32BE(body.length, 0);
  out.write(type, 4, 'latin1');
  out.set(body, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + body.length)), 8 + body.length);
  return out;
}

export function encodePng(img: GrayOrRgb, level = 1): Buffer {
  const bpp = img.format === 'RGB' ? 3 : 1;
  const stride = img.width * bpp;
  if (img.data.length < stride * img.height) throw new Error(`encodePng: ${img.data.length} bytes for ${img.width}×${img.height}×${bpp}`);
  const filtered = Buffer.alloc((stride + 1) * img.height);
  const src = img.data;
  for (let y = 0; y < img.height; y++) {
    const o = y * (stride + 1);
    const s = y * stride;
    filtered[o] = 1; // Sub: each byte minus the one bpp to its left
    for (let x = 0; x < bpp; x++) filtered[o + 1 + x] = src[s + x]!;
    for (let x = bpp; x < stride; x++) filtered[o + 1 + x] = (src[s + x]! - src[s + x - bpp]!) & 0xff;
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(img.width, 0);
  ihdr.writeUInt32BE(img.height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = bpp === 3 ? 2 : 0; // colour type: truecolour or grayscale
  return Buffer.concat([PNG_SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(filtered, { level })), chunk('IEND', new Uint8Array(0))]);
}

/**
 * Decodes an 8-bit gray or RGB, non-interlaced PNG (what encodePng writes, and what most tools write for such
 * images), every filter type. Anything else is an InputError naming `what` (the channel and message).
 */
export function decodePng(png: Uint8Array, what: string): GrayOrRgb {
  const buf = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  if (buf.length < 8 || !buf.subarray(0, 8).equals(PNG_SIGNATURE)) throw new InputError('image is not a PNG', what);
  let width = 0;
  let height = 0;
  let bpp = 0;
  const idat: Buffer[] = [];
  for (let p = 8; p + 12 <= buf.length; ) {
    const len = buf.readUInt32BE(p);
    const type = buf.toString('latin1', p + 4, p + 8);
    if (p + 12 + len > buf.length) throw new InputError(`PNG chunk ${type} runs past the end of the image`, what);
    const body = buf.subarray(p + 8, p + 8 + len);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      const [depth, colour, , , interlace] = [body[8], body[9], body[10], body[11], body[12]];
      if (depth !== 8 || (colour !== 0 && colour !== 2) || interlace !== 0) {
        throw new InputError(`PNG of bit depth ${depth}, colour type ${colour}, interlace ${interlace}: only 8-bit gray/RGB, not interlaced`, what);
      }
      bpp = colour === 2 ? 3 : 1;
    } else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') break;
    p += 12 + len;
  }
  if (bpp === 0) throw new InputError('PNG without IHDR', what);
  let raw: Buffer;
  try {
    raw = inflateSync(Buffer.concat(idat));
  } catch (err) {
    throw new InputError(`PNG data does not inflate: ${(err as Error).message}`, what, { cause: err });
  }
  const stride = width * bpp;
  if (raw.length < (stride + 1) * height) throw new InputError(`PNG holds ${raw.length} bytes, ${(stride + 1) * height} expected`, what);
  const out = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)]!;
    const i = y * (stride + 1) + 1;
    const o = y * stride;
    for (let x = 0; x < stride; x++) {
      const a = x >= bpp ? out[o + x - bpp]! : 0;
      const b = y > 0 ? out[o + x - stride]! : 0;
      const c = x >= bpp && y > 0 ? out[o + x - stride - bpp]! : 0;
      let v = raw[i + x]!;
      if (f === 1) v += a;
      else if (f === 2) v += b;
      else if (f === 3) v += (a + b) >> 1;
      else if (f === 4) {
        const pa = Math.abs(b - c);
        const pb = Math.abs(a - c);
        const pc = Math.abs(a + b - 2 * c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      } else if (f !== 0) throw new InputError(`PNG row ${y} has filter type ${f}`, what);
      out[o + x] = v & 0xff;
    }
  }
  return { width, height, format: bpp === 3 ? 'RGB' : 'GRAY8', data: out };
}

interface JpegEncoder {
  encode(image: { data: Uint8Array; width: number; height: number }, quality: number): Buffer;
}

let jpegCtor: (new (quality: number) => JpegEncoder) | null = null;
const jpegEncoders = new Map<number, JpegEncoder>();

/**
 * jpeg-js exports only `encode(img, q)`, which builds its Huffman and quantisation tables on every call (about
 * 200 ms, far more than encoding the image); its constructor is module-private. We evaluate the library's own
 * encoder file once to get the constructor and keep one encoder per quality.
 */
function jpegEncoder(quality: number): JpegEncoder {
  let enc = jpegEncoders.get(quality);
  if (!enc) {
    if (!jpegCtor) {
      const file = createRequire(import.meta.url).resolve('jpeg-js/lib/encoder.js');
      const src = readFileSync(file, 'utf8');
      jpegCtor = runInNewContext(`${src}\n;JPEGEncoder`, { module: { exports: {} }, Buffer, console }, { filename: file }) as new (q: number) => JpegEncoder;
    }
    enc = new jpegCtor(quality);
    jpegEncoders.set(quality, enc);
  }
  return enc;
}

export function encodeJpeg(img: GrayOrRgb, quality: number): Buffer {
  const n = img.width * img.height;
  const rgba = new Uint8Array(n * 4);
  const d = img.data;
  if (img.format === 'GRAY8') {
    for (let p = 0; p < n; p++) {
      const v = d[p]!;
      rgba[4 * p] = v;
      rgba[4 * p + 1] = v;
      rgba[4 * p + 2] = v;
      rgba[4 * p + 3] = 255;
    }
  } else {
    for (let p = 0; p < n; p++) {
      rgba[4 * p] = d[3 * p]!;
      rgba[4 * p + 1] = d[3 * p + 1]!;
      rgba[4 * p + 2] = d[3 * p + 2]!;
      rgba[4 * p + 3] = 255;
    }
  }
  return jpegEncoder(quality).encode({ data: rgba, width: img.width, height: img.height }, quality);
}
