/**
 * The printed face of an AIRR gate (AlphaPilot 2019 / Drone Racing League), drawn from what the onboard frames in
 * ../shared/data/gates/airr-onboard show: a blue frame, white checker blocks stepping away from each corner, "AIRR"
 * printed on the top and bottom bars, a white trim along the inner edge, thin white print running down the side bars.
 */
import { Texture, jitter, type RGB } from './texture.js';
import type { Prng } from './prng.js';

export const GATE_TEXTURE_SIZE = 256;

/** `innerFrac`: inner opening / outer size (the ring is the rest). */
export function drawGateTexture(innerFrac: number, rng: Prng): Texture {
  const n = GATE_TEXTURE_SIZE;
  const ring = Math.round((n * (1 - innerFrac)) / 2);
  const blue = jitter([28, 52, 168], 0.25, () => rng.next());
  const white = jitter([235, 238, 245], 0.06, () => rng.next());
  const t = new Texture(n, n).fill(blue);
  // Darker outer rim (the edge of the banner where it wraps the truss).
  const rim = Math.max(1, Math.round(ring * 0.06));
  const dark: RGB = [Math.round(blue[0] * 0.5), Math.round(blue[1] * 0.5), Math.round(blue[2] * 0.55)];
  t.rect(0, 0, n, rim, dark).rect(0, n - rim, n, n, dark).rect(0, 0, rim, n, dark).rect(n - rim, 0, n, n, dark);
  // Checker steps at the four corners: rows of squares, fewer in each row further from the corner.
  const sq = Math.max(2, Math.round(ring / 4.5));
  const rows = 3;
  for (let corner = 0; corner < 4; corner++) {
    const flipX = corner === 1 || corner === 2;
    const flipY = corner >= 2;
    for (let r = 0; r < rows; r++) {
      const len = 7 - 2 * r;
      for (let k = 0; k < len; k++) {
        if ((k + r) % 2 !== 0) continue;
        // Along the horizontal bar and down the vertical bar.
        for (const [cx, cy] of [
          [rim + k * sq, rim + r * sq],
          [rim + r * sq, rim + k * sq],
        ] as const) {
          const x0 = flipX ? n - cx - sq : cx;
          const y0 = flipY ? n - cy - sq : cy;
          t.rect(x0, y0, x0 + sq, y0 + sq, white);
        }
      }
    }
  }
  // "AIRR" centred on the top and bottom bars.
  const px = Math.max(1, Math.floor((ring * 0.55) / 7));
  const textW = 4 * 6 * px - px;
  const tx = Math.round((n - textW) / 2);
  t.text('AIRR', tx, Math.round((ring - 7 * px) / 2), px, white);
  t.text('AIRR', tx, n - ring + Math.round((ring - 7 * px) / 2), px, white);
  // Thin print down the middle of the side bars (the sponsor lettering, which reads as a dashed white line).
  const sx = Math.round(ring / 2);
  for (let y = ring + 2 * sq; y < n - ring - 2 * sq; y += 3 * px) {
    t.rect(sx - px, y, sx + px, y + 2 * px, white);
    t.rect(n - sx - px, y, n - sx + px, y + 2 * px, white);
  }
  // White trim along the inner edge.
  const trim = Math.max(1, Math.round(ring * 0.08));
  const a = ring - trim, b = n - ring + trim;
  t.rect(a, a, b, ring, white).rect(a, n - ring, b, b, white).rect(a, a, ring, b, white).rect(n - ring, a, b, b, white);
  return t.finish();
}
