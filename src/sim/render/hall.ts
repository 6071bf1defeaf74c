/**
 * The convention hall around the course: floor with the lamps' light baked in, walls with doors, booths and banners
 * along the bottom, a dark ceiling with trusses and a grid of bright lamps. An axis-aligned box, so a ray finds its
 * wall with three divisions.
 */
import type { Prng } from './prng.js';
import { Texture, jitter, type RGB } from './texture.js';

export interface Hall {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
  /** Ceiling height (m); the ceiling is the plane z = -height. */
  height: number;
  floor: Texture;
  ceiling: Texture;
  /** Walls at x = x0, x = x1, y = y0, y = y1. */
  walls: [Texture, Texture, Texture, Texture];
  /** Texels per metre of the floor/ceiling/wall textures. */
  k: number;
  floorGain: number;
  ceilingGain: number;
  wallGain: number;
}

/** A given hall box (a race track's), instead of a random one centred on the origin. Floor at z = 0. */
export interface HallBox {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
  height: number;
}

export function buildHall(rng: Prng, box?: HallBox): Hall {
  // The random sizes are drawn even for a given box, so that the rest of the hall's randomness stays the same.
  const rx = rng.range(60, 90), ry = rng.range(40, 60), rh = rng.range(8, 12);
  const lx = box ? box.x1 - box.x0 : rx, ly = box ? box.y1 - box.y0 : ry, height = box ? box.height : rh;
  const k = 10; // 10 cm texels: the hall is seen from metres away at ~300 px across a 120° view
  const x0 = box ? box.x0 : -lx / 2, x1 = x0 + lx, y0 = box ? box.y0 : -ly / 2, y1 = y0 + ly;
  const W = Math.ceil(lx * k), H = Math.ceil(ly * k);
  // Ceiling lights on a grid; the floor gets their light baked in, with a tight bright spot under each lamp standing
  // in for the glossy reflections the real convention-hall floor shows.
  const sx = rng.range(6, 10), sy = rng.range(6, 10);
  const lights: [number, number][] = [];
  for (let x = x0 + sx / 2; x < x1; x += sx) for (let y = y0 + sy / 2; y < y1; y += sy) lights.push([x, y]);
  const floorBase = jitter([196, 190, 176], 0.12, () => rng.next());
  const floor = new Texture(W, H).fill(floorBase);
  // Tape lines and seams on the floor.
  for (let i = rng.int(2, 6); i > 0; i--) {
    const horizontal = rng.next() < 0.5;
    const pos = Math.floor(rng.next() * (horizontal ? H : W));
    const shade = jitter([80, 80, 85], 0.3, () => rng.next());
    if (horizontal) floor.rect(0, pos, W, pos + 1, shade);
    else floor.rect(pos, 0, pos + 1, H, shade);
  }
  floor.modulate(floorLight(rng, lights, x0, y0, W, H, k, height));
  const ceilBase = jitter([26, 28, 40], 0.25, () => rng.next());
  const ceiling = new Texture(W, H).fill(ceilBase);
  // Roof trusses: lighter beams every few metres.
  const beam = jitter([55, 58, 66], 0.2, () => rng.next());
  for (let x = rng.range(0, 4) * k; x < W; x += rng.range(3, 5) * k) ceiling.rect(x, 0, x + 3, H, beam);
  const lampR = rng.range(0.3, 0.55) * k;
  for (const [lxp, lyp] of lights) {
    const cx = (lxp - x0) * k, cy = (lyp - y0) * k;
    for (let dy = -lampR; dy <= lampR; dy++)
      for (let dx = -lampR; dx <= lampR; dx++)
        if (dx * dx + dy * dy <= lampR * lampR) ceiling.rect(cx + dx, cy + dy, cx + dx + 1, cy + dy + 1, [255, 255, 255]);
  }
  const wallTex = (len: number): Texture => {
    const w = Math.ceil(len * k), h = Math.ceil(height * k);
    const lower = jitter([200, 202, 205], 0.1, () => rng.next());
    const upper = jitter([70, 74, 92], 0.3, () => rng.next());
    const band = Math.round(rng.range(3, 5) * k);
    const t = new Texture(w, h).fill(upper).rect(0, h - band, w, h, lower);
    // Doors, booths and blue banners along the lower band.
    for (let x = rng.range(0, 5) * k; x < w; x += rng.range(3, 9) * k) {
      const dw = rng.range(1.5, 4) * k;
      const kind = rng.next();
      const col: RGB = kind < 0.4 ? jitter([90, 95, 105], 0.2, () => rng.next()) : kind < 0.7 ? jitter([40, 70, 190], 0.2, () => rng.next()) : jitter([225, 228, 232], 0.05, () => rng.next());
      const dh = rng.range(2, 3.2) * k;
      t.rect(x, h - dh, x + dw, h, col);
    }
    return t.finish();
  };
  return {
    x0, x1, y0, y1, height, k,
    floor: floor.finish(),
    ceiling: ceiling.finish(),
    walls: [wallTex(ly), wallTex(ly), wallTex(lx), wallTex(lx)],
    floorGain: rng.range(0.8, 1.1),
    ceilingGain: rng.range(2.5, 4.0),
    wallGain: rng.range(0.7, 1.0),
  };
}

/**
 * Baked floor lighting: the lamps' broad light (inverse square with the cosine terms, on a 1 m grid and interpolated),
 * normalised to a mean of ~0.8, plus a tight bright spot under each lamp standing in for the glossy reflections the
 * real convention-hall floor shows. Stamping only near each lamp keeps a 90 × 60 m hall to a few million operations.
 */
function floorLight(rng: Prng, lights: [number, number][], x0: number, y0: number, W: number, H: number, k: number, height: number): (x: number, y: number) => number {
  const gw = Math.ceil(W / k) + 2, gh = Math.ceil(H / k) + 2;
  const grid = new Float32Array(gw * gh);
  let sum = 0;
  for (let gy = 0; gy < gh; gy++)
    for (let gx = 0; gx < gw; gx++) {
      let e = 0;
      for (const [lx, ly] of lights) {
        const d2 = (x0 + gx - lx) ** 2 + (y0 + gy - ly) ** 2;
        e += height ** 3 / (d2 + height * height) ** 1.5;
      }
      grid[gy * gw + gx] = e;
      sum += e;
    }
  const norm = 0.8 / (sum / grid.length);
  const map = new Float32Array(W * H);
  for (let ty = 0; ty < H; ty++)
    for (let tx = 0; tx < W; tx++) {
      const fx = tx / k, fy = ty / k;
      const ix = Math.floor(fx), iy = Math.floor(fy), ax = fx - ix, ay = fy - iy;
      const g = (xx: number, yy: number) => grid[Math.min(gh - 1, yy) * gw + Math.min(gw - 1, xx)]!;
      map[ty * W + tx] = norm * ((1 - ay) * ((1 - ax) * g(ix, iy) + ax * g(ix + 1, iy)) + ay * ((1 - ax) * g(ix, iy + 1) + ax * g(ix + 1, iy + 1)));
    }
  const spot = rng.range(0.6, 1.6), sigma = rng.range(0.4, 0.9);
  const reach = Math.ceil(3 * sigma * k);
  for (const [lx, ly] of lights) {
    const cx = Math.round((lx - x0) * k), cy = Math.round((ly - y0) * k);
    for (let ty = Math.max(0, cy - reach); ty < Math.min(H, cy + reach); ty++)
      for (let tx = Math.max(0, cx - reach); tx < Math.min(W, cx + reach); tx++) {
        const d2 = ((tx - cx) ** 2 + (ty - cy) ** 2) / (k * k);
        map[ty * W + tx]! += spot * Math.exp(-d2 / (2 * sigma * sigma));
      }
  }
  const grain = rng.fork(9);
  return (tx, ty) => Math.min(2.5, map[ty * W + tx]!) * (0.97 + 0.06 * grain.next());
}

