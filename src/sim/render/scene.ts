/**
 * The simulated world the rendered cameras see: a convention hall (floor, walls, ceiling with lights, pillars,
 * booths, banners) with AIRR race gates, all flat textured rectangles so a ray needs only a few plane tests.
 *
 * Gate size: the AlphaPilot 2019 rules describe the AIRR gate as 11 ft square outside with an 8 ft square flyable
 * opening (3.35 m and 2.44 m). We could not re-check that text here; the masks in ../shared/data/gates/airr-onboard
 * agree with it (inner/outer width measured on mask_110.png: 51/73 px = 0.70, against 8/11 = 0.73). Both sizes are
 * options. The gate is modelled as a flat board (no depth), so the flyable opening is exactly the inner square.
 *
 * World frame: local NED, the floor is z = 0 and the ceiling z = -height.
 */
import type { Vec3 } from '../../core/messages.js';
import { cross, normalize } from './math3.js';
import { Prng } from './prng.js';
import { Texture, jitter, type RGB } from './texture.js';
import { drawGateTexture } from './gate-texture.js';
import { buildHall, type Hall, type HallBox } from './hall.js';

export type { Hall } from './hall.js';

// One truth for the gate's size: the track's (its defaults are these), re-exported for the renderer's callers.
import { AIRR_INNER_M, AIRR_OUTER_M } from '../../planning/track.js';
export { AIRR_INNER_M, AIRR_OUTER_M };

/** A textured rectangle: centre c, in-plane unit axes a (texture u, "right") and b (texture v, "down"). */
export interface Quad {
  c: Vec3;
  a: Vec3;
  b: Vec3;
  /** a × b. */
  n: Vec3;
  ha: number;
  hb: number;
  /** Half sizes of a centred rectangular hole (the gate opening), 0 for none. */
  holeA: number;
  holeB: number;
  tex: Texture;
  /** Texels per metre along a and b; the texture wraps. */
  ku: number;
  kv: number;
  /** Brightness multiplier (face orientation, emissive ceilings). */
  gain: number;
  /** Index of the gate whose frame this is (marks the mask), or -1. */
  gate: number;
}

export interface Gate {
  id: number;
  /** Centre of the opening. */
  c_ned_m: Vec3;
  /** Horizontal unit vector a drone flies along to pass the gate (the gate's normal). */
  f_ned: Vec3;
  /** The gate's right (as seen by a drone passing along f) and down axes. */
  a_ned: Vec3;
  b_ned: Vec3;
  innerHalf_m: number;
  outerHalf_m: number;
  /** Inner corners TL, TR, BR, BL as seen by a drone passing along f. */
  inner_ned_m: [Vec3, Vec3, Vec3, Vec3];
}


export interface Scene {
  seed: number;
  hall: Hall;
  quads: Quad[];
  gates: Gate[];
  /** Haze: colour mixed in with distance, 1/e distance in metres. */
  hazeRgb: RGB;
  hazeDist_m: number;
}

/** A race course to render instead of random gates: the gates where they really stand, in the track's hall. */
export interface SceneCourse {
  gates: { c_ned_m: Vec3; /** Direction of flight, rad from north towards east. */ heading_rad: number; inner_m: number; outer_m: number }[];
  /** The hall box (local NED); its floor must be z = 0, as the track's. */
  hall: { min_ned_m: Vec3; max_ned_m: Vec3 };
  /** Points of the flight path (start, gates in order): clutter keeps away from the segments between them. */
  path: Vec3[];
}

export interface SceneOptions {
  seed: number;
  /** Build the hall and gates of this course (plain data: it travels to render workers). */
  course?: SceneCourse;
  /** Gates along the course (others stand parked around the hall). */
  courseGates?: number;
  outer_m?: number;
  inner_m?: number;
}

export function buildScene(opts: SceneOptions): Scene {
  const rng = new Prng(opts.seed);
  const outer = opts.outer_m ?? AIRR_OUTER_M;
  const inner = opts.inner_m ?? AIRR_INNER_M;
  if (!(inner > 0 && outer > inner)) throw new RangeError(`gate inner size ${inner} m must be positive and below outer ${outer} m`);
  const course = opts.course;
  const hall = buildHall(rng.fork(1), course ? courseHall(course) : undefined);
  const quads: Quad[] = [];
  const gates: Gate[] = [];
  if (course) placeCourse(rng.fork(2), course, gates, quads);
  else placeGates(rng.fork(2), hall, opts.courseGates ?? rng.int(5, 8), outer, inner, gates, quads);
  addClutter(rng.fork(3), hall, gates, quads, course?.path ?? []);
  const hz = rng.range(0.85, 1.1);
  return {
    seed: opts.seed,
    hall,
    quads,
    gates,
    hazeRgb: jitter([150 * hz, 160 * hz, 185 * hz] as RGB, 0.1, () => rng.next()),
    hazeDist_m: rng.range(45, 120),
  };
}

function quad(c: Vec3, a: Vec3, b: Vec3, ha: number, hb: number, tex: Texture, ku: number, kv: number, gain = 1, gate = -1): Quad {
  return { c, a, b, n: cross(a, b), ha, hb, holeA: 0, holeB: 0, tex, ku, kv, gain, gate };
}

function addGate(rng: Prng, c: Vec3, heading: number, outer: number, inner: number, gates: Gate[], quads: Quad[], tex: Texture): void {
  const f: Vec3 = [Math.cos(heading), Math.sin(heading), 0];
  const a: Vec3 = [-f[1], f[0], 0];
  const b: Vec3 = [0, 0, 1];
  const hi = inner / 2, ho = outer / 2;
  const id = gates.length;
  const at = (s: number, t: number): Vec3 => [c[0] + a[0] * s, c[1] + a[1] * s, c[2] + t];
  gates.push({
    id, c_ned_m: c, f_ned: f, a_ned: a, b_ned: b, innerHalf_m: hi, outerHalf_m: ho,
    inner_ned_m: [at(-hi, -hi), at(hi, -hi), at(hi, hi), at(-hi, hi)],
  });
  const k = tex.w / outer;
  const board = quad(c, a, b, ho, ho, tex, k, k, 1, id);
  board.holeA = hi;
  board.holeB = hi;
  quads.push(board);
  // Feet: two posts from the bottom bar to the floor (not part of the mask, as in the real masks).
  const bottom = c[2] + ho;
  if (bottom < -0.02) {
    const legTex = new Texture(2, 2).fill(jitter([60, 62, 70], 0.2, () => rng.next())).finish();
    const lh = -bottom / 2;
    for (const s of [-ho + 0.15, ho - 0.15]) quads.push(quad(at(s, ho + lh), a, b, 0.08, lh, legTex, 1, 1, 0.9));
  }
  // The "GATE n" sign standing above the top-right corner.
  const sign = new Texture(64, 80).fill([240, 240, 240]).text('GATE', 8, 6, 2, [20, 20, 20]).text(String((id % 9) + 1), 22, 30, 4, [20, 20, 20]).finish();
  quads.push(quad(at(ho - 0.3, -ho - 0.45), a, b, 0.3, 0.38, sign, 64 / 0.6, 80 / 0.76, 1));
}

function courseHall(c: SceneCourse): HallBox {
  const { min_ned_m: lo, max_ned_m: hi } = c.hall;
  if (Math.abs(hi[2]) > 1e-9) throw new RangeError(`the rendered hall's floor is z = 0; the course's hall has max_ned_m[2] = ${hi[2]}`);
  return { x0: lo[0], x1: hi[0], y0: lo[1], y1: hi[1], height: -lo[2] };
}

/** The course's gates, each with its own size (one print per inner/outer ratio); no parked gates beside the course. */
function placeCourse(rng: Prng, c: SceneCourse, gates: Gate[], quads: Quad[]): void {
  const prints = new Map<string, Texture>();
  for (const g of c.gates) {
    if (!(g.inner_m > 0 && g.outer_m > g.inner_m)) throw new RangeError(`gate inner size ${g.inner_m} m must be positive and below outer ${g.outer_m} m`);
    const key = (g.inner_m / g.outer_m).toFixed(4);
    if (!prints.has(key)) prints.set(key, drawGateTexture(g.inner_m / g.outer_m, rng));
    addGate(rng, g.c_ned_m, g.heading_rad, g.outer_m, g.inner_m, gates, quads, prints.get(key)!);
  }
}

function placeGates(rng: Prng, hall: Hall, n: number, outer: number, inner: number, gates: Gate[], quads: Quad[]): void {
  const margin = 6;
  const inside = (x: number, y: number) => x > hall.x0 + margin && x < hall.x1 - margin && y > hall.y0 + margin && y < hall.y1 - margin;
  let x = hall.x0 + margin + rng.range(0, 5), y = rng.range(hall.y0 + margin, hall.y1 - margin), heading = rng.range(-0.4, 0.4);
  const gateTex = () => drawGateTexture(inner / outer, rng);
  const tex = gateTex();
  for (let i = 0; i < n; i++) {
    const c: Vec3 = [x, y, -(outer / 2 + rng.range(0.05, 0.7))];
    addGate(rng, c, heading + rng.normal() * 0.15, outer, inner, gates, quads, tex);
    // Next gate 7–16 m on, turning gently, turning back when the hall's edge comes near.
    for (let tries = 0; tries < 20; tries++) {
      const h = heading + rng.normal() * 0.45;
      const d = rng.range(7, 16);
      const nx = x + Math.cos(h) * d, ny = y + Math.sin(h) * d;
      if (inside(nx, ny) || tries === 19) {
        if (inside(nx, ny)) { x = nx; y = ny; heading = h; }
        else { heading += Math.PI * 0.6; }
        break;
      }
    }
  }
  // Parked gates facing anywhere, as in the real frames where spare gates stand behind the course.
  const spare = gateTex();
  for (let i = rng.int(1, 3); i > 0; i--) {
    const c: Vec3 = [rng.range(hall.x0 + margin, hall.x1 - margin), rng.range(hall.y0 + margin, hall.y1 - margin), -(outer / 2 + rng.range(0.05, 0.5))];
    addGate(rng, c, rng.range(-Math.PI, Math.PI), outer, inner, gates, quads, spare);
  }
}

/** Pillars, booths (boxes) and hanging banners, kept out of the gates' way. */
function addClutter(rng: Prng, hall: Hall, gates: Gate[], quads: Quad[], path: readonly Vec3[]): void {
  const clear = (x: number, y: number, r: number) =>
    gates.every((g) => Math.hypot(g.c_ned_m[0] - x, g.c_ned_m[1] - y) > r + 3) &&
    path.every((a, i) => i === 0 || segmentDistance(x, y, path[i - 1]!, a) > r + 3);
  const box = (x: number, y: number, sx: number, sy: number, h: number, col: RGB, topCol: RGB) => {
    const side = new Texture(8, 8).fill(col);
    // A darker band near the floor keeps boxes from looking like flat cut-outs.
    side.rect(0, 7, 8, 8, [col[0] >> 1, col[1] >> 1, col[2] >> 1]).finish();
    const top = new Texture(2, 2).fill(topCol).finish();
    const N: Vec3 = [1, 0, 0], E: Vec3 = [0, 1, 0], D: Vec3 = [0, 0, 1];
    const ku = 8 / Math.max(sx, sy), kv = 8 / h;
    quads.push(quad([x + sx / 2, y, -h / 2], E, D, sy / 2, h / 2, side, ku, kv, 0.95));
    quads.push(quad([x - sx / 2, y, -h / 2], E, D, sy / 2, h / 2, side, ku, kv, 0.75));
    quads.push(quad([x, y + sy / 2, -h / 2], N, D, sx / 2, h / 2, side, ku, kv, 0.85));
    quads.push(quad([x, y - sy / 2, -h / 2], N, D, sx / 2, h / 2, side, ku, kv, 0.65));
    if (h < hall.height - 0.01) quads.push(quad([x, y, -h], N, E, sx / 2, sy / 2, top, 1, 1, 1.1));
  };
  // Pillars on a coarse grid.
  const pcol = jitter([170, 185, 215], 0.15, () => rng.next());
  const px = rng.range(18, 30), py = rng.range(15, 25);
  for (let x = hall.x0 + px; x < hall.x1 - 2; x += px)
    for (let y = hall.y0 + py; y < hall.y1 - 2; y += py) if (clear(x, y, 1)) box(x, y, 1.2, 1.2, hall.height, pcol, pcol);
  // Booths and crates.
  for (let i = rng.int(4, 9); i > 0; i--) {
    const x = rng.range(hall.x0 + 2, hall.x1 - 2), y = rng.range(hall.y0 + 2, hall.y1 - 2);
    const sx = rng.range(0.8, 5), sy = rng.range(0.8, 5);
    if (!clear(x, y, Math.max(sx, sy))) continue;
    const dark = rng.next() < 0.5;
    const col = dark ? jitter([35, 35, 40], 0.3, () => rng.next()) : jitter([200, 200, 205], 0.2, () => rng.next());
    box(x, y, sx, sy, rng.range(0.8, 3.2), col, jitter(col, 0.2, () => rng.next()));
  }
  // Banners hanging from the ceiling.
  for (let i = rng.int(2, 5); i > 0; i--) {
    const x = rng.range(hall.x0 + 3, hall.x1 - 3), y = rng.range(hall.y0 + 3, hall.y1 - 3);
    const yaw = rng.range(-Math.PI, Math.PI);
    const a = normalize([Math.cos(yaw), Math.sin(yaw), 0]);
    const w = rng.range(2, 6), h = rng.range(1, 2.5);
    const t = new Texture(32, 16).fill(jitter([30, 60, 170], 0.3, () => rng.next()));
    t.rect(0, 12, 32, 16, [230, 230, 235]).rect(4, 4, 28, 6, [230, 230, 235]).finish();
    quads.push(quad([x, y, -hall.height + rng.range(1, 3) + h / 2], a, [0, 0, 1], w / 2, h / 2, t, 32 / w, 16 / h, 1));
  }
}

/** Horizontal distance from (x, y) to the segment a–b. */
function segmentDistance(x: number, y: number, a: Vec3, b: Vec3): number {
  const dx = b[0] - a[0], dy = b[1] - a[1];
  const l2 = dx * dx + dy * dy;
  const t = l2 > 0 ? Math.max(0, Math.min(1, ((x - a[0]) * dx + (y - a[1]) * dy) / l2)) : 0;
  return Math.hypot(a[0] + t * dx - x, a[1] + t * dy - y);
}
