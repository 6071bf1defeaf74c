/**
 * Image-space effects applied after exposure: a directional motion-blur streak and additive sensor noise. Both are
 * deterministic (noise from a seeded table and a counter-based hash), so a seed reproduces the same pixels.
 */

/** Averages each pixel with samples along a streak of `lengthPx` in direction `angle` (rad), clamped at borders. */
export function applyMotionBlur(img: Uint8Array, w: number, h: number, ch: number, lengthPx: number, angle: number): void {
  const taps = Math.max(2, Math.min(16, Math.round(lengthPx)));
  const offs = new Int32Array(taps * 2);
  for (let k = 0; k < taps; k++) {
    const s = (k / (taps - 1) - 0.5) * lengthPx;
    offs[2 * k] = Math.round(Math.cos(angle) * s);
    offs[2 * k + 1] = Math.round(Math.sin(angle) * s);
  }
  const src = img.slice();
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < ch; c++) {
        let sum = 0;
        for (let k = 0; k < taps; k++) {
          let xx = x + offs[2 * k]!, yy = y + offs[2 * k + 1]!;
          xx = xx < 0 ? 0 : xx >= w ? w - 1 : xx;
          yy = yy < 0 ? 0 : yy >= h ? h - 1 : yy;
          sum += src[(yy * w + xx) * ch + c]!;
        }
        img[(y * w + x) * ch + c] = (sum / taps + 0.5) | 0;
      }
}

const GAUSS = (() => {
  // 4096 standard-normal samples by inverse-CDF on a regular grid: fixed, so no PRNG state leaks between images.
  const n = 4096;
  const t = new Float32Array(n);
  for (let i = 0; i < n; i++) t[i] = normInv((i + 0.5) / n);
  return t;
})();

export function addNoise(img: Uint8Array, sigma: number, seed: number): void {
  let s = seed >>> 0 || 1;
  for (let i = 0; i < img.length; i++) {
    // xorshift32 picks a table entry per pixel.
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    const v = img[i]! + sigma * GAUSS[s & 4095]!;
    img[i] = v < 0 ? 0 : v > 255 ? 255 : v + 0.5;
  }
}

/** Acklam's rational approximation of the standard normal quantile (|error| < 1.2e-9). */
function normInv(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  if (p > 1 - lo) return -normInv(1 - p);
  const q = p - 0.5, r = q * q;
  return ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
}
