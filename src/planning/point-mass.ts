import type { Vec3 } from '../core/messages.js';
import { accelerationFeasible, type VehicleLimits } from './limits.js';

/**
 * The time-optimal point mass, the planning model of UZH's AlphaPilot entry, kept here to compare against the
 * minimum-jerk planner the race flies (bench-planning.ts). Each axis flies bang-bang: full acceleration one way,
 * then full the other, within a box of per-axis accelerations that fits inside the quadrotor's thrust and tilt
 * limits; the three axes share the segment's duration (the slowest axis sets it, the others use less acceleration).
 * Each axis's two phases use the same magnitude, so the vertical axis is held to the smaller of climb and sink both
 * ways (an asymmetric profile would be faster climbing). Velocity limits and drag are not modelled. So the result is a
 * lower bound for this simplified model only, and its acceleration jumps at every switch, which a quadrotor can only
 * follow by turning its thrust vector instantly.
 */

/** Per-axis acceleration bounds (m/s², NED): |ax|, |ay| ≤ h; −up ≤ az ≤ down. */
export interface AccelBox {
  h: number;
  up: number;
  down: number;
}

/**
 * The largest box with horizontal = climb and the sink a given fraction of it, whose eight corners the vehicle can
 * fly at rest. Sinking faster than gravity is impossible, and sinking while accelerating sideways is what the tilt
 * limit forbids first, so the sink fraction trades vertical agility for horizontal: the comparison tries several.
 */
export function accelBox(lim: VehicleLimits, sinkFraction = 0.5): AccelBox {
  let lo = 0;
  let hi = 60;
  const ok = (h: number): boolean => {
    for (const sx of [-1, 1]) for (const sy of [-1, 1]) for (const z of [-h, h * sinkFraction]) if (!accelerationFeasible([sx * h, sy * h, z], lim)) return false;
    return true;
  };
  for (let i = 0; i < 50; i++) {
    const mid = 0.5 * (lo + hi);
    if (ok(mid)) lo = mid;
    else hi = mid;
  }
  return { h: lo, up: lo, down: lo * sinkFraction };
}

/**
 * The signed acceleration u of a two-phase profile (u for t1, then −u) taking one axis from (p0, v0) to (p1, v1) in
 * exactly T, and t1. From p1 − p0 − (v0 + v1)·T/2 = D and v1 − v0 = dv: u²T² − 4Du − dv² = 0, of whose roots the
 * one with |u| ≥ |dv|/T has both phases of non-negative length.
 */
export function axisProfile(p0: number, v0: number, p1: number, v1: number, T: number): { u: number; t1: number } {
  const dv = v1 - v0;
  const D = p1 - p0 - ((v0 + v1) * T) / 2;
  if (Math.abs(D) < 1e-12) return { u: dv / T, t1: T };
  const u = (2 * D + Math.sign(D) * Math.sqrt(4 * D * D + T * T * dv * dv)) / (T * T);
  return { u, t1: (T + dv / u) / 2 };
}

/** Whether the profile of duration T stays within [−neg, pos] on this axis. */
function axisFits(p0: number, v0: number, p1: number, v1: number, T: number, pos: number, neg: number): boolean {
  const { u } = axisProfile(p0, v0, p1, v1, T);
  // u for the first phase, −u for the second: both must fit.
  return u <= pos + 1e-9 && -u <= neg + 1e-9 && -u <= pos + 1e-9 && u <= neg + 1e-9;
}

/**
 * Shortest duration of a point-mass segment between two states with all three axes within the box. The set of
 * feasible durations of one axis is not always an interval starting at its minimum (arriving too early forces an
 * overshoot), so the common duration is searched upwards from the slowest axis's bound, then refined by bisection.
 */
export function pointMassDuration(from: { p: Vec3; v: Vec3 }, to: { p: Vec3; v: Vec3 }, box: AccelBox): number | null {
  const fits = (T: number): boolean =>
    axisFits(from.p[0], from.v[0], to.p[0], to.v[0], T, box.h, box.h) &&
    axisFits(from.p[1], from.v[1], to.p[1], to.v[1], T, box.h, box.h) &&
    axisFits(from.p[2], from.v[2], to.p[2], to.v[2], T, box.down, box.up);
  const d = Math.hypot(to.p[0] - from.p[0], to.p[1] - from.p[1], to.p[2] - from.p[2]);
  const vmax = Math.max(1, Math.hypot(...from.v), Math.hypot(...to.v));
  let lo = Math.max(1e-3, d / (vmax + box.h * 10) / 4);
  let T = lo;
  let hi: number | null = null;
  for (let i = 0; i < 200; i++) {
    if (fits(T)) {
      hi = T;
      break;
    }
    lo = T;
    T *= 1.05;
  }
  if (hi === null) return null;
  let best: number = hi;
  for (let i = 0; i < 30; i++) {
    const mid: number = 0.5 * (lo + best);
    if (fits(mid)) best = mid;
    else lo = mid;
  }
  return best;
}

/** The acceleration of a point-mass segment of duration T at time t (for the comparison's flyability figures). */
export function pointMassAccel(from: { p: Vec3; v: Vec3 }, to: { p: Vec3; v: Vec3 }, T: number, t: number): Vec3 {
  return [0, 1, 2].map((k) => {
    const { u, t1 } = axisProfile(from.p[k]!, from.v[k]!, to.p[k]!, to.v[k]!, T);
    return t < t1 ? u : -u;
  }) as Vec3;
}
