/**
 * Lays images out in a grid (each scaled to one cell, bilinear) for the render-vs-real comparison picture and for
 * eyeballing a generated dataset without an image viewer.
 */
import { readFileSync } from 'node:fs';
import { decodePng, encodePng } from './png.js';

export interface RgbaImage {
  width: number;
  height: number;
  rgba: Uint8Array;
}

export function contactSheet(images: RgbaImage[], cols: number, cellW: number, cellH: number, gap = 4): Buffer {
  const rows = Math.ceil(images.length / cols);
  const W = cols * cellW + (cols + 1) * gap, H = rows * cellH + (rows + 1) * gap;
  const out = new Uint8Array(W * H * 3).fill(255);
  images.forEach((img, k) => {
    // Fit inside the cell keeping the aspect ratio (real frames are square, rendered ones 4:3).
    const sc = Math.min(cellW / img.width, cellH / img.height);
    const dw = Math.round(img.width * sc), dh = Math.round(img.height * sc);
    const ox = gap + (k % cols) * (cellW + gap) + ((cellW - dw) >> 1), oy = gap + Math.floor(k / cols) * (cellH + gap) + ((cellH - dh) >> 1);
    for (let y = 0; y < dh; y++)
      for (let x = 0; x < dw; x++) {
        const sx = Math.min(img.width - 1.001, Math.max(0, ((x + 0.5) * img.width) / dw - 0.5));
        const sy = Math.min(img.height - 1.001, Math.max(0, ((y + 0.5) * img.height) / dh - 0.5));
        const x0 = Math.floor(sx), y0 = Math.floor(sy), ax = sx - x0, ay = sy - y0;
        for (let c = 0; c < 3; c++) {
          const p = (xx: number, yy: number) => img.rgba[(yy * img.width + xx) * 4 + c]!;
          const v = (1 - ay) * ((1 - ax) * p(x0, y0) + ax * p(x0 + 1, y0)) + ay * ((1 - ax) * p(x0, y0 + 1) + ax * p(x0 + 1, y0 + 1));
          out[((oy + y) * W + ox + x) * 3 + c] = Math.round(v);
        }
      }
  });
  return encodePng(out, W, H, 3);
}

export function readPng(path: string): RgbaImage {
  return decodePng(readFileSync(path));
}
