/** PNG encoding of rendered frames and masks (pngjs), 8-bit grayscale or RGB as the real dataset stores them. */
import { PNG } from 'pngjs';

export function encodePng(data: Uint8Array, width: number, height: number, channels: 1 | 3): Buffer {
  if (data.length !== width * height * channels)
    throw new RangeError(`image buffer holds ${data.length} bytes, expected ${width}x${height}x${channels}`);
  // pngjs's packer takes RGBA input and writes the colour type asked for.
  const rgba = Buffer.alloc(width * height * 4);
  for (let i = 0, j = 0; i < width * height; i++, j += 4) {
    if (channels === 1) {
      rgba[j] = rgba[j + 1] = rgba[j + 2] = data[i]!;
    } else {
      rgba[j] = data[3 * i]!;
      rgba[j + 1] = data[3 * i + 1]!;
      rgba[j + 2] = data[3 * i + 2]!;
    }
    rgba[j + 3] = 255;
  }
  return PNG.sync.write({ width, height, data: rgba } as PNG, { colorType: channels === 1 ? 0 : 2, inputHasAlpha: true });
}

/** Decodes any PNG to RGBA (for tests and the comparison picture). */
export function decodePng(buf: Buffer): { width: number; height: number; rgba: Uint8Array } {
  const png = PNG.sync.read(buf);
  return { width: png.width, height: png.height, rgba: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.length) };
}
