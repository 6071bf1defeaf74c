import type { Point, Quad } from './labels.js';

/** Where the parts of the network output live (from the model metadata, see model-info.ts). */
export interface HeadLayout {
  /** Output map size in cells. */
  width: number;
  height: number;
  /** Input pixels per output cell. */
  stride: number;
}

export interface DecodeOptions {
  /** Lowest centre-heatmap peak kept as a gate (low for AP, higher for flying). */
  threshold: number;
  /** At most this many gates per image, strongest first. */
  maxGates: number;
  /**
   * Corner refinement: move an offset-predicted corner to the corner-heatmap peak found within this many cells of it
   * when that peak reaches `refineMin`. 0 turns it off.
   */
  refineRadius: number;
  refineMin: number;
  /**
   * Corners as the centre-score-weighted mean over the 3x3 cells around the peak (the offsets are taught on those
   * cells), rather than the peak cell's alone: on the real validation frames this scored mAP 0.487 against 0.465.
   */
  average: boolean;
  /**
   * Corners placed by both heads: the offsets say which corner belongs to which gate, the corner heatmap says
   * precisely where it is. Training draws each corner's heatmap as a Gaussian around its exact sub-cell position
   * (models/gatedet/data.py `targets`), so the position follows from the log ratio of the strongest cell's
   * neighbours; the offset corner moves there by the heatmap's peak value (its confidence). Pruned model on the real
   * validation frames: mAP 0.582 against 0.544 with the offsets alone, and better on all real frames and on rendered
   * ones too (models/README.md, "Decoding").
   */
  heatmapBlend: boolean;
}

export const DEFAULT_DECODE: DecodeOptions = { threshold: 0.05, maxGates: 20, refineRadius: 0, refineMin: 0.3, average: true, heatmapBlend: true };

export interface DecodedGate {
  /** Centre-heatmap peak, 0..1. */
  score: number;
  /** Inner corners TL, TR, BR, BL in the caller's pixels (input pixels scaled by sx, sy). */
  corners: Quad;
  /** Per corner 0..1: the corner heatmap at that corner; 0 outside the image (a corner cut by the border). */
  cornerConfidence: [number, number, number, number];
}

/**
 * Turns one image's output (13 x H x W, channel-major: centre heatmap, 8 corner offsets, 4 corner heatmaps) into
 * gates. Each centre peak (3x3 local maximum) is one gate and carries its own four corners, so corners of
 * overlapping gates are never mixed up; the corner heatmaps give per-corner confidence and optional refinement.
 * Pure: no state; it allocates only the result and each gate's four corners.
 */
export function decodeGates(
  out: Float32Array,
  layout: HeadLayout,
  scale: { sx: number; sy: number } = { sx: 1, sy: 1 },
  options: Partial<DecodeOptions> = {},
): DecodedGate[] {
  const o = { ...DEFAULT_DECODE, ...options };
  const { width: W, height: H, stride: S } = layout;
  const plane = W * H;
  if (out.length < 13 * plane) throw new RangeError(`output has ${out.length} values, layout needs ${13 * plane}`);
  const peaks: { score: number; x: number; y: number }[] = [];
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const v = out[y * W + x]!;
      if (v < o.threshold) continue;
      let isMax = true;
      for (let dy = -1; dy <= 1 && isMax; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const yy = y + dy;
          const xx = x + dx;
          if ((dx || dy) && yy >= 0 && yy < H && xx >= 0 && xx < W && out[yy * W + xx]! > v) {
            isMax = false;
            break;
          }
        }
      }
      if (isMax) peaks.push({ score: v, x, y });
    }
  }
  peaks.sort((a, b) => b.score - a.score);
  return peaks.slice(0, o.maxGates).map((p) => {
    const cx = p.x * S + S / 2;
    const cy = p.y * S + S / 2;
    const conf: [number, number, number, number] = [0, 0, 0, 0];
    // The offsets' corners first (input pixels): the gate's size from them sets the heatmaps' expected width.
    const raw = [0, 1, 2, 3].map((k) => {
      let px = cx + out[(1 + 2 * k) * plane + p.y * W + p.x]!;
      let py = cy + out[(2 + 2 * k) * plane + p.y * W + p.x]!;
      if (o.average) {
        let sw = 0;
        let ax = 0;
        let ay = 0;
        for (let yy = Math.max(0, p.y - 1); yy <= Math.min(H - 1, p.y + 1); yy++) {
          for (let xx = Math.max(0, p.x - 1); xx <= Math.min(W - 1, p.x + 1); xx++) {
            const w = out[yy * W + xx]!;
            sw += w;
            ax += w * (xx * S + S / 2 + out[(1 + 2 * k) * plane + yy * W + xx]!);
            ay += w * (yy * S + S / 2 + out[(2 + 2 * k) * plane + yy * W + xx]!);
          }
        }
        if (sw > 0) [px, py] = [ax / sw, ay / sw];
      }
      return [px, py] as [number, number];
    });
    const sigma = cornerSigma(raw, S);
    const corners = raw.map(([px0, py0], k) => {
      let [px, py] = [px0, py0];
      const hm = (9 + k) * plane;
      if (o.refineRadius > 0) {
        const r = refine(out, hm, W, H, px / S - 0.5, py / S - 0.5, o.refineRadius, o.refineMin);
        if (r) [px, py] = [(r[0] + 0.5) * S, (r[1] + 0.5) * S];
      }
      if (o.heatmapBlend) [px, py] = gaussianSubCell(out, hm, W, H, S, px, py, sigma);
      conf[k] = sample(out, hm, W, H, px / S - 0.5, py / S - 0.5);
      return [px * scale.sx, py * scale.sy] as Point;
    }) as unknown as Quad;
    return { score: p.score, corners, cornerConfidence: conf };
  });
}

/**
 * The σ (in output cells) of a gate's corner heatmaps as training draws them (models/gatedet/data.py `targets`):
 * √(area of the gate's quad in input pixels) / stride / 10, within [0.6, 2]. Both sides must change together.
 */
export function cornerSigma(q: readonly (readonly [number, number])[], stride: number): number {
  let twice = 0;
  for (let i = 0; i < 4; i++) {
    const a = q[i]!;
    const b = q[(i + 1) % 4]!;
    twice += a[0] * b[1] - b[0] * a[1];
  }
  return Math.max(0.6, Math.min(2, Math.sqrt(Math.abs(twice) / 2) / stride / 10));
}

/**
 * (px, py) in input pixels moved toward where the corner heatmap puts the corner: the strongest cell of the 3x3
 * around the corner's nearest cell, shifted by the sub-cell offset a Gaussian of width σ implies,
 * d = σ²/2 · ln(h(+1) / h(−1)) along each axis (exact for the training target, whose peak cell is set to 1 but whose
 * neighbours are the Gaussian's), within half a cell. The move is by the peak value (capped at 1), so a faint
 * heatmap leaves the corner to the offsets. Along an axis where the peak lacks a neighbour (the map's edge: a gate
 * cut by the image border) or where both neighbours are under 1% of the peak (no Gaussian of the trained width is
 * that narrow), the offsets keep that coordinate. A corner with no cell of the map near it stays put.
 */
function gaussianSubCell(out: Float32Array, base: number, W: number, H: number, S: number, px: number, py: number, sigma: number): [number, number] {
  const cx = Math.round(px / S - 0.5);
  const cy = Math.round(py / S - 0.5);
  let peak = 0;
  let mx = -1;
  let my = -1;
  for (let yy = Math.max(0, cy - 1); yy <= Math.min(H - 1, cy + 1); yy++) {
    for (let xx = Math.max(0, cx - 1); xx <= Math.min(W - 1, cx + 1); xx++) {
      const v = out[base + yy * W + xx]!;
      if (v > peak) [peak, mx, my] = [v, xx, yy];
    }
  }
  if (mx < 0) return [px, py];
  const a = Math.min(1, peak);
  const k = (sigma * sigma) / 2;
  /** The coordinate along one axis: the offsets' `own`, moved toward the Gaussian's sub-cell position when it is known. */
  const axis = (own: number, cell: number, lo: number | null, hi: number | null): number => {
    if (lo === null || hi === null || Math.max(lo, hi) < 0.01 * peak) return own;
    const d = Math.max(-0.5, Math.min(0.5, k * Math.log(Math.max(1e-4, hi) / Math.max(1e-4, lo))));
    return (1 - a) * own + a * (cell + d + 0.5) * S;
  };
  const at = (x: number, y: number) => out[base + y * W + x]!;
  return [
    axis(px, mx, mx > 0 ? at(mx - 1, my) : null, mx < W - 1 ? at(mx + 1, my) : null),
    axis(py, my, my > 0 ? at(mx, my - 1) : null, my < H - 1 ? at(mx, my + 1) : null),
  ];
}

/** Bilinear value of a heatmap at cell coordinates (cell j's centre at j); 0 outside the map. */
function sample(out: Float32Array, base: number, W: number, H: number, x: number, y: number): number {
  if (!(x >= -0.5 && y >= -0.5 && x <= W - 0.5 && y <= H - 0.5)) return 0;
  const cx = Math.min(Math.max(x, 0), W - 1);
  const cy = Math.min(Math.max(y, 0), H - 1);
  const x0 = Math.floor(cx);
  const y0 = Math.floor(cy);
  const fx = cx - x0;
  const fy = cy - y0;
  // Neighbours clamp to the last row/column, so the maps' own edges need no special case.
  const at = (xx: number, yy: number) => out[base + Math.min(yy, H - 1) * W + Math.min(xx, W - 1)]!;
  return (at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx) * (1 - fy) + (at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx) * fy;
}

/** The strongest heatmap cell within `radius` cells of (x, y), with a 3x3 centroid for sub-cell position. */
function refine(
  out: Float32Array, base: number, W: number, H: number, x: number, y: number, radius: number, min: number,
): [number, number] | null {
  let best = min;
  let bx = -1;
  let by = -1;
  const r = Math.ceil(radius);
  for (let yy = Math.max(0, Math.round(y) - r); yy <= Math.min(H - 1, Math.round(y) + r); yy++) {
    for (let xx = Math.max(0, Math.round(x) - r); xx <= Math.min(W - 1, Math.round(x) + r); xx++) {
      if ((xx - x) ** 2 + (yy - y) ** 2 > radius * radius) continue;
      const v = out[base + yy * W + xx]!;
      if (v >= best) [best, bx, by] = [v, xx, yy];
    }
  }
  if (bx < 0) return null;
  let sw = 0;
  let sx = 0;
  let sy = 0;
  for (let dy = -1; dy <= 1; dy++) {
    for (let dx = -1; dx <= 1; dx++) {
      const xx = bx + dx;
      const yy = by + dy;
      if (xx < 0 || yy < 0 || xx >= W || yy >= H) continue;
      const v = out[base + yy * W + xx]!;
      sw += v;
      sx += v * xx;
      sy += v * yy;
    }
  }
  return [sx / sw, sy / sw];
}
