import type { Vec3 } from '../core/messages.js';
import { solve } from './linalg.js';
import { expRot, mul3, type Mat3 } from './rotation.js';

/**
 * Levenberg-Marquardt over a pose (R ← exp(δ)·R, t ← t + dt), shared by the single-image PnP (pnp.ts) and the
 * gravity-aided rig fit (upright.ts). The caller's `normal(R, t, withJ)` returns the cost and, with `withJ`, fills
 * `JtJ` (6×6) and `Jtr` (6) at that pose; after a successful descent they hold the final pose's normal equations,
 * whose inverse is its covariance.
 */
export interface PoseDescent {
  normal: (R: Mat3, t: Vec3, withJ: boolean) => number;
  JtJ: number[][];
  Jtr: number[];
  iterations: number;
  /** Stop when a step moves less than this (rad, plus metres over the range). */
  stepTol: number;
  /** Added to the diagonal so that a direction the data do not constrain cannot make the system singular. */
  ridge: number;
}

/** Descends from (R, t); null when the start has no finite cost (a corner behind its camera) or a step is singular. */
export function descendPose(R: Mat3, t: Vec3, o: PoseDescent): { R: Mat3; t: Vec3; cost: number } | null {
  const { normal, JtJ, Jtr } = o;
  let cost = normal(R, t, true);
  if (!Number.isFinite(cost)) return null;
  let lambda = 1e-3;
  for (let iter = 0; iter < o.iterations; iter++) {
    let improved = false;
    for (let tries = 0; tries < 8 && !improved; tries++) {
      const A = JtJ.map((row, i) => row.map((v, j) => (i === j ? v * (1 + lambda) + o.ridge : v)));
      const d = solve(A, Jtr.map((v) => -v));
      if (!d) return null;
      const R1 = mul3(expRot([d[0]!, d[1]!, d[2]!]), R);
      const t1: Vec3 = [t[0] + d[3]!, t[1] + d[4]!, t[2] + d[5]!];
      const c1 = normal(R1, t1, false);
      if (c1 < cost) {
        const step = Math.hypot(d[0]!, d[1]!, d[2]!) + Math.hypot(d[3]!, d[4]!, d[5]!) / Math.max(1, Math.abs(t1[2]));
        [R, t] = [R1, t1];
        cost = normal(R, t, true);
        lambda = Math.max(1e-9, lambda / 10);
        improved = true;
        if (step < o.stepTol) iter = Infinity;
      } else lambda *= 10;
    }
    if (!improved) break;
  }
  return { R, t, cost };
}
