import type { Vec3 } from '../core/messages.js';
import { solveInPlace } from './linalg.js';
import { expRotInto, mul3Into, type Mat3 } from './rotation.js';

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

/** [JtJ + λ·diag | −Jtr], solved in place; one scratch, as descents never nest (a `normal` does not descend). */
const STEP = new Float64Array(42);

/**
 * Descends from (R, t); null when the start has no finite cost (a corner behind its camera) or a step is singular.
 * The pose and the trial pose live in two pairs of arrays that trade places when a step is taken: this runs for
 * every gate on the event loop, and a new rotation per trial was a good part of the main thread's garbage.
 */
export function descendPose(R0: Mat3, t0: Vec3, o: PoseDescent): { R: Mat3; t: Vec3; cost: number } | null {
  const { normal, JtJ, Jtr } = o;
  let R = [...R0] as Mat3;
  let t: Vec3 = [t0[0], t0[1], t0[2]];
  let R1 = [...R0] as Mat3;
  let t1: Vec3 = [t0[0], t0[1], t0[2]];
  const E = [...R0] as Mat3;
  let cost = normal(R, t, true);
  if (!Number.isFinite(cost)) return null;
  let lambda = 1e-3;
  const M = STEP;
  for (let iter = 0; iter < o.iterations; iter++) {
    let improved = false;
    for (let tries = 0; tries < 8 && !improved; tries++) {
      for (let i = 0; i < 6; i++) {
        const row = JtJ[i]!;
        for (let j = 0; j < 6; j++) M[i * 7 + j] = i === j ? row[j]! * (1 + lambda) + o.ridge : row[j]!;
        M[i * 7 + 6] = -Jtr[i]!;
      }
      if (!solveInPlace(M, 6)) return null;
      const d0 = M[6]!, d1 = M[13]!, d2 = M[20]!, d3 = M[27]!, d4 = M[34]!, d5 = M[41]!;
      mul3Into(R1, expRotInto(E, d0, d1, d2), R);
      t1[0] = t[0] + d3, t1[1] = t[1] + d4, t1[2] = t[2] + d5;
      const c1 = normal(R1, t1, false);
      if (c1 < cost) {
        const step = Math.sqrt(d0 * d0 + d1 * d1 + d2 * d2) + Math.sqrt(d3 * d3 + d4 * d4 + d5 * d5) / Math.max(1, Math.abs(t1[2]));
        const Rs = R, ts = t; // trade places (temporaries, not a destructuring swap's array)
        R = R1, t = t1;
        R1 = Rs, t1 = ts;
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

/**
 * dP/d(δ, t) of one point P = R·X + t under R ← exp(δ)·R, as six columns of three (δ0, δ1, δ2, then t): a buffer
 * whose t columns are the identity, and whose δ columns, ek × (R·X), `setRotationColumns` refills per point.
 */
export function poseJacobianColumns(): Float64Array {
  const c = new Float64Array(18);
  c[9] = c[13] = c[17] = 1;
  return c;
}

/** Writes the δ columns ek × y (y = R·X) into a poseJacobianColumns buffer; the zero entries never change. */
export function setRotationColumns(c: Float64Array, y0: number, y1: number, y2: number): void {
  c[1] = -y2;
  c[2] = y1;
  c[3] = y2;
  c[5] = -y0;
  c[6] = -y1;
  c[7] = y0;
}
