import type { Point, Quad } from './labels.js';

/** IoU thresholds of the AlphaPilot Test 2 / COCO metric: 0.50, 0.55, ..., 0.95. */
export const IOU_THRESHOLDS: readonly number[] = Array.from({ length: 10 }, (_, i) => 0.5 + 0.05 * i);

function cross(o: Point, a: Point, b: Point): number {
  return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
}

/**
 * Convex hull (monotone chain). A predicted quad can come out self-intersecting (two corners swapped); its hull is
 * the region the four points span, which keeps IoU defined and equals the quad itself whenever it is convex.
 */
export function convexHull(points: readonly Point[]): Point[] {
  const pts = [...points].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (pts.length < 3) return pts;
  const lower: Point[] = [];
  for (const p of pts) {
    while (lower.length >= 2 && cross(lower[lower.length - 2]!, lower[lower.length - 1]!, p) <= 0) lower.pop();
    lower.push(p);
  }
  const upper: Point[] = [];
  for (let i = pts.length - 1; i >= 0; i--) {
    const p = pts[i]!;
    while (upper.length >= 2 && cross(upper[upper.length - 2]!, upper[upper.length - 1]!, p) <= 0) upper.pop();
    upper.push(p);
  }
  return lower.slice(0, -1).concat(upper.slice(0, -1));
}

export function polygonArea(poly: readonly Point[]): number {
  let s = 0;
  for (let i = 0; i < poly.length; i++) {
    const [x1, y1] = poly[i]!;
    const [x2, y2] = poly[(i + 1) % poly.length]!;
    s += x1 * y2 - x2 * y1;
  }
  return Math.abs(s) / 2;
}

/** Sutherland–Hodgman: subject clipped by a convex, counter-clockwise (in the hull's sense) polygon. */
function clip(subject: Point[], clipper: Point[]): Point[] {
  let out = subject;
  for (let i = 0; i < clipper.length && out.length > 0; i++) {
    const a = clipper[i]!;
    const b = clipper[(i + 1) % clipper.length]!;
    const inside = (p: Point) => (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]) >= 0;
    const meet = (p: Point, q: Point): Point => {
      const d = (p[0] - q[0]) * (a[1] - b[1]) - (p[1] - q[1]) * (a[0] - b[0]);
      if (Math.abs(d) < 1e-12) return q;
      const t = ((p[0] - a[0]) * (a[1] - b[1]) - (p[1] - a[1]) * (a[0] - b[0])) / d;
      return [p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])];
    };
    const input = out;
    out = [];
    for (let j = 0; j < input.length; j++) {
      const p = input[j]!;
      const q = input[(j + 1) % input.length]!;
      if (inside(q)) {
        if (!inside(p)) out.push(meet(p, q));
        out.push(q);
      } else if (inside(p)) {
        out.push(meet(p, q));
      }
    }
  }
  return out;
}

/** Intersection over union of two quadrilaterals (of their convex hulls). 0 when either is degenerate. */
export function quadIoU(a: Quad, b: Quad): number {
  const ha = convexHull(a);
  const hb = convexHull(b);
  const aa = polygonArea(ha);
  const ab = polygonArea(hb);
  if (!(aa > 0 && ab > 0)) return 0;
  const inter = polygonArea(clip(ha, hb));
  return inter / (aa + ab - inter);
}

export interface ScoredQuad {
  score: number;
  corners: Quad;
}

export interface ApResult {
  /** Mean AP over IoU 0.50:0.05:0.95. */
  map: number;
  ap50: number;
  ap75: number;
  /** AP per threshold, in IOU_THRESHOLDS order. */
  perThreshold: number[];
}

/**
 * COCO-style average precision over all images: detections sorted by score, each matched greedily to the unmatched
 * true gate of its own image with the highest IoU at or above the threshold; precision made monotone and read at
 * 101 recall points. No detections, or no true gates, scores 0.
 */
export function averagePrecision(
  detections: ReadonlyMap<string, readonly ScoredQuad[]>,
  truth: ReadonlyMap<string, readonly Quad[]>,
): ApResult {
  let nTrue = 0;
  for (const g of truth.values()) nTrue += g.length;
  const flat: { score: number; image: string; ious: number[] }[] = [];
  for (const [image, dets] of detections) {
    const gts = truth.get(image) ?? [];
    for (const d of dets) flat.push({ score: d.score, image, ious: gts.map((g) => quadIoU(d.corners, g)) });
  }
  flat.sort((a, b) => b.score - a.score);
  const perThreshold = IOU_THRESHOLDS.map((t) => {
    if (nTrue === 0 || flat.length === 0) return 0;
    const used = new Map<string, boolean[]>();
    for (const [image, g] of truth) used.set(image, g.map(() => false));
    const precision: number[] = [];
    const recall: number[] = [];
    let tp = 0;
    flat.forEach((d, i) => {
      const u = used.get(d.image);
      let best = t;
      let bj = -1;
      d.ious.forEach((v, j) => {
        if (u && !u[j] && v >= best) [best, bj] = [v, j];
      });
      if (bj >= 0) {
        u![bj] = true;
        tp++;
      }
      precision.push(tp / (i + 1));
      recall.push(tp / nTrue);
    });
    for (let i = precision.length - 2; i >= 0; i--) precision[i] = Math.max(precision[i]!, precision[i + 1]!);
    let sum = 0;
    let k = 0;
    for (let r = 0; r <= 100; r++) {
      const level = r / 100;
      while (k < recall.length && recall[k]! < level - 1e-12) k++;
      sum += k < precision.length ? precision[k]! : 0;
    }
    return sum / 101;
  });
  const map = perThreshold.reduce((a, b) => a + b, 0) / perThreshold.length;
  return { map, ap50: perThreshold[0]!, ap75: perThreshold[5]!, perThreshold };
}
