import { PNG } from 'pngjs';
import type { Vec3 } from '../core/messages.js';
import type { FlownSample, RaceSimResult } from './race-sim.js';

const W = 1200;
const MARGIN = 40;

/**
 * The picture of a simulated flight: the hall from above (north up) and from the side (north to the right, up up),
 * the gates drawn as their frames (true positions), the planned path thin and the flown path thick, both coloured
 * by speed (blue slow → red fast), with a speed scale. PNG, pngjs; no fonts, so the scale is a bar of colours.
 */
export function flightPicture(r: RaceSimResult): Buffer {
  const { min_ned_m: lo, max_ned_m: hi } = r.world.hall;
  const spanN = hi[0] - lo[0];
  const spanE = hi[1] - lo[1];
  const spanD = hi[2] - lo[2];
  const scale = (W - 2 * MARGIN) / spanN;
  const topH = Math.round(spanE * scale);
  const sideH = Math.round(spanD * scale);
  const H = MARGIN * 4 + topH + sideH + 20;
  const png = new PNG({ width: W, height: H });
  png.data.fill(255);
  const vmax = Math.max(1, ...r.flown.map((s) => s.speedMps), ...r.planned.map((s) => s.speedMps));
  // Top view: x right = north, y down = east... drawn with north to the right and east downwards (NED seen from above).
  const top = (p: Vec3): [number, number] => [MARGIN + (p[0] - lo[0]) * scale, MARGIN + (p[1] - lo[1]) * scale];
  const sideY0 = MARGIN * 3 + topH;
  const side = (p: Vec3): [number, number] => [MARGIN + (p[0] - lo[0]) * scale, sideY0 + (p[2] - lo[2]) * scale];
  const views = [top, side];
  rect(png, top(lo), top(hi), [120, 120, 120]);
  rect(png, side(lo), side(hi), [120, 120, 120]);
  for (const g of r.world.gates) {
    const half = g.outerSizeM / 2;
    const lat: Vec3 = [-g.n_ned[1], g.n_ned[0], 0];
    const a: Vec3 = [g.p_ned_m[0] + lat[0] * half, g.p_ned_m[1] + lat[1] * half, g.p_ned_m[2]];
    const b: Vec3 = [g.p_ned_m[0] - lat[0] * half, g.p_ned_m[1] - lat[1] * half, g.p_ned_m[2]];
    line(png, top(a), top(b), [0, 0, 0], 3);
    const up: Vec3 = [a[0], a[1], g.p_ned_m[2] - half];
    const down: Vec3 = [b[0], b[1], g.p_ned_m[2] + half];
    rect(png, side(up), side(down), [0, 0, 0]);
    // The direction of flight: a short tick from the centre along the normal.
    const tip: Vec3 = [g.p_ned_m[0] + g.n_ned[0] * 1.2, g.p_ned_m[1] + g.n_ned[1] * 1.2, g.p_ned_m[2]];
    line(png, top(g.p_ned_m), top(tip), [0, 150, 0], 2);
  }
  for (const view of views) {
    path(png, r.planned, view, vmax, 1);
    path(png, r.flown, view, vmax, 3);
  }
  // Speed scale: 0 → vmax left to right under the side view.
  const y = H - 30;
  for (let x = MARGIN; x < W - MARGIN; x++) {
    const c = speedColour(((x - MARGIN) / (W - 2 * MARGIN)) * vmax, vmax);
    for (let k = 0; k < 12; k++) put(png, x, y + k, c);
  }
  return PNG.sync.write(png);
}

function path(png: PNG, samples: FlownSample[], view: (p: Vec3) => [number, number], vmax: number, width: number): void {
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1]!;
    const b = samples[i]!;
    if (b.tUs - a.tUs > 200_000) continue; // a new plan: do not join it to the end of the previous one
    line(png, view(a.p_ned_m), view(b.p_ned_m), speedColour(b.speedMps, vmax), width);
  }
}

/** Blue (slow) → cyan → green → yellow → red (fast). */
export function speedColour(v: number, vmax: number): [number, number, number] {
  const x = Math.max(0, Math.min(1, v / vmax)) * 4;
  const k = Math.floor(Math.min(x, 3.999));
  const f = x - k;
  const stops: [number, number, number][] = [
    [0, 0, 255],
    [0, 255, 255],
    [0, 200, 0],
    [255, 220, 0],
    [255, 0, 0],
  ];
  const a = stops[k]!;
  const b = stops[k + 1]!;
  return [0, 1, 2].map((i) => Math.round(a[i]! + (b[i]! - a[i]!) * f)) as [number, number, number];
}

function put(png: PNG, x: number, y: number, c: [number, number, number]): void {
  x = Math.round(x);
  y = Math.round(y);
  if (x < 0 || y < 0 || x >= png.width || y >= png.height) return;
  const i = (y * png.width + x) * 4;
  png.data[i] = c[0];
  png.data[i + 1] = c[1];
  png.data[i + 2] = c[2];
  png.data[i + 3] = 255;
}

function line(png: PNG, a: [number, number], b: [number, number], c: [number, number, number], width: number): void {
  const n = Math.max(1, Math.ceil(Math.hypot(b[0] - a[0], b[1] - a[1])));
  const r = Math.floor(width / 2);
  for (let i = 0; i <= n; i++) {
    const x = a[0] + ((b[0] - a[0]) * i) / n;
    const y = a[1] + ((b[1] - a[1]) * i) / n;
    for (let dx = -r; dx <= r; dx++) for (let dy = -r; dy <= r; dy++) put(png, x + dx, y + dy, c);
  }
}

function rect(png: PNG, a: [number, number], b: [number, number], c: [number, number, number]): void {
  line(png, [a[0], a[1]], [b[0], a[1]], c, 1);
  line(png, [b[0], a[1]], [b[0], b[1]], c, 1);
  line(png, [b[0], b[1]], [a[0], b[1]], c, 1);
  line(png, [a[0], b[1]], [a[0], a[1]], c, 1);
}
