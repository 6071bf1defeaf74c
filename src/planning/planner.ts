import type { Vec3 } from '../core/messages.js';
import { clampAcceleration, GRAVITY_MPS2, type VehicleLimits } from './limits.js';
import { acceleration, jerk, position, quintic, velocity, type Quintic } from './quintic.js';
import type { Segment, Trajectory } from './trajectory.js';

/** The vehicle's reference state the plan starts from (sampled from the current plan for continuity). */
export interface PlanStart {
  tUs: number;
  p_ned_m: Vec3;
  v_ned_mps: Vec3;
  a_ned_mps2: Vec3;
}

/** A gate to fly through: the centre of its opening and the unit direction of flight through it. */
export interface PlanGate {
  index: number;
  p_ned_m: Vec3;
  n_ned: Vec3;
}

export interface PlannerParams {
  limits: VehicleLimits;
  /** Speeds tried at each gate (m/s); the plan picks the fastest feasible combination. */
  gateSpeedsMps: number[];
  /** Samples per segment when checking limits. */
  checkSamples: number;
  /**
   * The box the trajectory must stay in (NED, m): the hall shrunk by a margin. Without it, a curve the limits allow
   * can dip through the floor to make a turn (seen after a gate passed off-centre with a late sighting).
   */
  bounds?: { min_ned_m: Vec3; max_ned_m: Vec3 } | undefined;
}

/** How far inside the hall's walls, floor and ceiling a trajectory must stay (m). */
export const HALL_MARGIN_M = 0.4;

/** The planner's box for a track's hall. */
export function boundsOfHall(hall: { min_ned_m: Vec3; max_ned_m: Vec3 }): { min_ned_m: Vec3; max_ned_m: Vec3 } {
  return {
    min_ned_m: hall.min_ned_m.map((v) => v + HALL_MARGIN_M) as Vec3,
    max_ned_m: hall.max_ned_m.map((v) => v - HALL_MARGIN_M) as Vec3,
  };
}

export const defaultPlannerParams = (limits: VehicleLimits): PlannerParams => ({
  limits,
  gateSpeedsMps: [2, 4, 6, 8, 10, 12, 14],
  checkSamples: 16,
});

export interface PlanResult {
  trajectory: Trajectory;
  /** Flight time to the last planned gate (s). */
  durationS: number;
  /** Chosen speed through each planned gate (m/s). */
  gateSpeedsMps: number[];
  /** Segments evaluated: the work the search did, for the planning benchmark. */
  evaluations: number;
}

/**
 * What a previous plan leaves for the next one: the gate speeds it chose (by track index), so the search only
 * tries their neighbours, and the shortest durations of gate-to-gate segments, which do not depend on where the
 * vehicle is (both ends are gates) and so are computed once per pair of gate speeds while the gates stay put.
 */
export interface PlanMemory {
  speedsByGate: Map<number, number>;
  segmentCache: Map<string, number | null>;
}

export function newPlanMemory(): PlanMemory {
  return { speedsByGate: new Map(), segmentCache: new Map() };
}

/**
 * Plans through the next gates (two by default): minimum-jerk quintic segments from the start state to each gate's
 * centre, arriving along the gate's normal at a chosen speed with zero acceleration, so the vehicle crosses the
 * opening square-on. For every combination of gate speeds the shortest feasible duration of each segment is found
 * (scan then bisection against the thrust, tilt and speed limits); the fastest combination wins. The last gate's
 * speed is capped by the turn that follows it (`exitTurnRad`), since nothing after it is planned yet.
 * With `memory`, a gate that an earlier plan already chose a speed for is searched only around that speed (the
 * warm start that keeps planning under a few milliseconds), and gate-to-gate segments come from a cache.
 * No segment may cross a gate's plane near its frame except through the opening it ends in (`passed`: the gate just
 * flown through, whose frame the first segment must not swing back into).
 * Returns null when no combination is feasible: the caller holds and says so.
 */
export function planThroughGates(
  start: PlanStart,
  gates: PlanGate[],
  params: PlannerParams,
  exitTurnRad = 0,
  memory?: PlanMemory,
  passed?: PlanGate,
): PlanResult | null {
  if (gates.length === 0) return null;
  start = { ...start, a_ned_mps2: clampAcceleration(start.a_ned_mps2, params.limits) };
  const speeds = [...params.gateSpeedsMps].sort((a, b) => a - b);
  const lastCap = turnSpeedCap(exitTurnRad, params.limits.maxSpeedMps, speeds);
  let best: { total: number; durations: number[]; combo: number[] } | null = null;
  let evaluations = 0;
  const combo = new Array<number>(gates.length).fill(0);
  const candidatesFor = (k: number): number[] => {
    const prev = memory?.speedsByGate.get(gates[k]!.index);
    let list = prev === undefined ? speeds : neighbours(speeds, prev);
    // Close to the next gate the vehicle cannot change speed much any more: its current speed is a candidate.
    if (k === 0) list = [...list, Math.min(params.limits.maxSpeedMps, norm(start.v_ned_mps))];
    if (k === gates.length - 1) {
      const capped = list.filter((v) => v <= lastCap);
      list = capped.length ? capped : speeds.filter((v) => v <= lastCap);
    }
    return [...new Set(list)].sort((a, b) => b - a);
  };
  const segment = (k: number, from: PlanStart3, to: PlanStart3, fromSpeed: number): number | null => {
    if (k === 0 || !memory) {
      const found = minimumDuration(from, to, params, { target: gates[k]!, previous: k === 0 ? passed : gates[k - 1] });
      evaluations += found.evaluations;
      return found.durationS;
    }
    const a = gates[k - 1]!;
    const b = gates[k]!;
    const key = `${a.p_ned_m.join(',')}|${a.n_ned.join(',')}|${fromSpeed}|${b.p_ned_m.join(',')}|${b.n_ned.join(',')}|${to.v.join(',')}`;
    const cached = memory.segmentCache.get(key);
    if (cached !== undefined) return cached;
    const found = minimumDuration(from, to, params, { target: b, previous: a });
    evaluations += found.evaluations;
    if (memory.segmentCache.size > 5000) memory.segmentCache.clear(); // gate estimates moved a lot: start over
    memory.segmentCache.set(key, found.durationS);
    return found.durationS;
  };
  const search = (k: number, from: PlanStart3, fromSpeed: number, total: number, durations: number[]) => {
    if (best && total >= best.total) return; // branch and bound: already slower than the best found
    if (k === gates.length) {
      best = { total, durations: [...durations], combo: [...combo] };
      return;
    }
    const g = gates[k]!;
    for (const speed of candidatesFor(k)) {
      const to: PlanStart3 = { p: g.p_ned_m, v: scale(g.n_ned, speed), a: [0, 0, 0] };
      const T = segment(k, from, to, fromSpeed);
      if (T === null) continue;
      combo[k] = speed;
      durations.push(T);
      search(k + 1, to, speed, total + T, durations);
      durations.pop();
    }
  };
  search(0, { p: start.p_ned_m, v: start.v_ned_mps, a: start.a_ned_mps2 }, -1, 0, []);
  if (!best && memory && memory.speedsByGate.size > 0) {
    // The warm start only tries speeds next to the last plan's; when a gate estimate moved (a late sighting), the
    // way through may need a much slower pass: search the whole grid before giving up.
    memory.speedsByGate.clear();
    search(0, { p: start.p_ned_m, v: start.v_ned_mps, a: start.a_ned_mps2 }, -1, 0, []);
  }
  if (!best) return null;
  const chosen = best as { total: number; durations: number[]; combo: number[] };
  if (memory) gates.forEach((g, k) => memory.speedsByGate.set(g.index, chosen.combo[k]!));
  const segments: Segment[] = [];
  let from: PlanStart3 = { p: start.p_ned_m, v: start.v_ned_mps, a: start.a_ned_mps2 };
  let t0 = start.tUs;
  gates.forEach((g, k) => {
    const to: PlanStart3 = { p: g.p_ned_m, v: scale(g.n_ned, chosen.combo[k]!), a: [0, 0, 0] };
    const T = chosen.durations[k]!;
    segments.push({ t0Us: t0, durationS: T, axes: axesFor(from, to, T), gateIndex: g.index });
    t0 += Math.round(T * 1e6);
    from = to;
  });
  return { trajectory: { tUs: start.tUs, segments }, durationS: chosen.total, gateSpeedsMps: chosen.combo, evaluations };
}

/** The speed grid's values next to `v`: one step slower, the same (or nearest) and one step faster. */
function neighbours(sorted: number[], v: number): number[] {
  let i = 0;
  for (let k = 1; k < sorted.length; k++) if (Math.abs(sorted[k]! - v) < Math.abs(sorted[i]! - v)) i = k;
  return sorted.slice(Math.max(0, i - 1), i + 2);
}

/** A segment's end: position, velocity and acceleration. */
export interface PlanStart3 {
  p: Vec3;
  v: Vec3;
  a: Vec3;
}

function axesFor(from: PlanStart3, to: PlanStart3, T: number): [Quintic, Quintic, Quintic] {
  return [0, 1, 2].map((k) => quintic({ p: from.p[k]!, v: from.v[k]!, a: from.a[k]! }, { p: to.p[k]!, v: to.v[k]!, a: to.a[k]! }, T)) as [
    Quintic,
    Quintic,
    Quintic,
  ];
}

/**
 * Whether a segment of duration T keeps within the limits at every check sample. Allocation-free: it runs a few
 * thousand times per plan, and garbage collection pauses would show in the planning time's tail.
 */
export function segmentFeasible(axes: [Quintic, Quintic, Quintic], T: number, params: PlannerParams, planes?: SegmentPlanes): boolean {
  const n = params.checkSamples;
  if (planes && crossesFrame(axes, T, n, planes)) return false;
  const lim = params.limits;
  const vmax2 = lim.maxSpeedMps ** 2;
  const fmax2 = (lim.thrustToWeight * GRAVITY_MPS2 * lim.thrustMargin) ** 2;
  const tanTilt2 = Math.tan((lim.maxTiltDeg * Math.PI) / 180) ** 2;
  const jmax2 = lim.maxJerkMps3 > 0 && Number.isFinite(lim.maxJerkMps3) ? lim.maxJerkMps3 ** 2 : 0;
  const [cx, cy, cz] = axes;
  const b = params.bounds;
  for (let i = 0; i <= n; i++) {
    const t = (T * i) / n;
    if (b && i > 0) {
      // Not at t = 0: a plan starts where the vehicle is, even when it is already too close to a wall.
      const x = position(cx, t);
      const y = position(cy, t);
      const z = position(cz, t);
      if (x < b.min_ned_m[0] || x > b.max_ned_m[0] || y < b.min_ned_m[1] || y > b.max_ned_m[1] || z < b.min_ned_m[2] || z > b.max_ned_m[2]) return false;
    }
    const vx = velocity(cx, t);
    const vy = velocity(cy, t);
    const vz = velocity(cz, t);
    const v2 = vx * vx + vy * vy + vz * vz;
    if (v2 > vmax2) return false;
    // Same test as accelerationFeasible, squared: thrust (drag included) within the usable maximum, upwards, within the tilt.
    const c = lim.dragPerM * Math.sqrt(v2);
    const fx = acceleration(cx, t) + c * vx;
    const fy = acceleration(cy, t) + c * vy;
    const fz = acceleration(cz, t) + c * vz - GRAVITY_MPS2;
    if (fz >= 0) return false;
    const h2 = fx * fx + fy * fy;
    if (h2 + fz * fz > fmax2 || h2 > tanTilt2 * fz * fz) return false;
    if (jmax2 > 0) {
      const jx = jerk(cx, t);
      const jy = jerk(cy, t);
      const jz = jerk(cz, t);
      if (jx * jx + jy * jy + jz * jz > jmax2) return false;
    }
  }
  return true;
}

/**
 * A gate plane is clear of the frame this far from the gate's centre (m): an AIRR gate's outer half-diagonal (2.4 m)
 * plus room for the vehicle and its tracking error.
 */
export const FRAME_CLEAR_M = 3;

/** Within this distance of a gate's centre a crossing is through its opening with room to spare (m): the AIRR gate's inner half-side (1.22 m) less the vehicle and its tracking error. */
export const OPENING_CLEAR_M = 0.8;

/** The gate planes one segment must respect: it ends in `target`'s opening and leaves `previous` (if any) behind. */
export interface SegmentPlanes {
  target: { p_ned_m: Vec3; n_ned: Vec3 };
  previous?: { p_ned_m: Vec3; n_ned: Vec3 } | undefined;
}

/**
 * Whether a segment crosses a gate's plane near the gate anywhere but where it should: through the target's opening
 * at its end. The shortest feasible duration can belong to a looping curve that passes the target's plane beside the
 * opening and comes back through it (seen when a late sighting moved the gate sideways at speed), or that swings back
 * through the plane of the gate just passed to make a sharp turn: near a gate, beside the opening is the frame.
 */
function crossesFrame(axes: [Quintic, Quintic, Quintic], T: number, n: number, planes: SegmentPlanes): boolean {
  return crossesNear(axes, T, n, planes.target, true) || (planes.previous !== undefined && crossesNear(axes, T, n, planes.previous, false));
}

/** One gate's half of crossesFrame; scalars only, since it runs inside the feasibility check's hot loop. */
function crossesNear(axes: [Quintic, Quintic, Quintic], T: number, n: number, gate: { p_ned_m: Vec3; n_ned: Vec3 }, isTarget: boolean): boolean {
  const [cx, cy, cz] = axes;
  const [gx, gy, gz] = gate.p_ned_m;
  const [nx, ny, nz] = gate.n_ned;
  let havePrev = false;
  let ps = 0;
  let px = 0;
  let py = 0;
  let pz = 0;
  // The target's plane is reached at the very end, by design: its last sample is not looked at.
  const last = isTarget ? n - 1 : n;
  for (let i = 0; i <= last; i++) {
    const t = (T * i) / n;
    const x = position(cx, t) - gx;
    const y = position(cy, t) - gy;
    const z = position(cz, t) - gz;
    const sd = x * nx + y * ny + z * nz;
    // Samples on the plane (a segment starts at the previous gate's centre) carry no side.
    if (Math.abs(sd) < 0.02) continue;
    if (havePrev && ps < 0 !== sd < 0) {
      const f = ps / (ps - sd);
      const cxp = px + f * (x - px);
      const cyp = py + f * (y - py);
      const czp = pz + f * (z - pz);
      const r2 = cxp * cxp + cyp * cyp + czp * czp;
      // The gate just passed, crossed forwards through its opening: the pass being completed. The race counts a
      // pass on the estimate of the moment, and a later estimate can put the plane a few decimetres ahead of the
      // vehicle; refusing that crossing left only crawling plans (seen: racepilot sim seed 5, 0.9 m/s for 4 s).
      const completingPass = !isTarget && ps < 0 && sd > 0 && r2 < OPENING_CLEAR_M * OPENING_CLEAR_M;
      if (!completingPass && r2 < FRAME_CLEAR_M * FRAME_CLEAR_M) return true;
    }
    havePrev = true;
    ps = sd;
    px = x;
    py = y;
    pz = z;
  }
  return false;
}

/**
 * Shortest feasible duration of one segment. Feasibility is not monotone in T for fixed end velocities (a long
 * segment loops), so scan upwards geometrically from the straight-line bound to the first feasible T, then bisect
 * between it and the last infeasible one.
 */
export function minimumDuration(from: PlanStart3, to: PlanStart3, params: PlannerParams, planes?: SegmentPlanes): { durationS: number | null; evaluations: number } {
  const d = Math.hypot(to.p[0] - from.p[0], to.p[1] - from.p[1], to.p[2] - from.p[2]);
  let lo = Math.max(0.05, d / params.limits.maxSpeedMps);
  let evaluations = 0;
  let hi: number | null = null;
  let T = lo;
  // 24 steps of ×1.2 reach 80 times the straight-line bound: any slower segment is not worth flying.
  for (let i = 0; i < 24; i++) {
    evaluations++;
    if (segmentFeasible(axesFor(from, to, T), T, params, planes)) {
      hi = T;
      break;
    }
    lo = T;
    T *= 1.2;
  }
  if (hi === null) return { durationS: null, evaluations };
  let feasible: number = hi;
  for (let i = 0; i < 6 && feasible - lo > 0.005; i++) {
    const mid: number = 0.5 * (lo + feasible);
    evaluations++;
    if (segmentFeasible(axesFor(from, to, mid), mid, params, planes)) feasible = mid;
    else lo = mid;
  }
  return { durationS: feasible, evaluations };
}

/** Speed through a gate followed by a turn of `turnRad`: sharper turns need slower passes. */
function turnSpeedCap(turnRad: number, vmax: number, speeds: number[]): number {
  const frac = Math.max(0.25, Math.cos(Math.min(Math.abs(turnRad), Math.PI) / 2));
  return Math.max(speeds[0] ?? 0, vmax * frac);
}

function norm(v: Vec3): number {
  return Math.hypot(v[0], v[1], v[2]);
}

function scale(v: Vec3, s: number): Vec3 {
  return [v[0] * s, v[1] * s, v[2] * s];
}
