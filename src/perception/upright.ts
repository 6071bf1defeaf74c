import type { Vec3 } from '../core/messages.js';
import { invert } from './linalg.js';
import { descendPose, poseJacobianColumns, setRotationColumns } from './pose-lm.js';
import type { Mat3 } from './rotation.js';

/**
 * Gravity-aided gate orientation: racing gates stand upright, and the flight controller knows which way is down to
 * about a degree. Without that knowledge a nearly face-on gate's tilt and yaw rest on the perspective difference of
 * its near and far edges, under a pixel beyond about 10 m with the rig's 287 px lenses; the fitted orientation then
 * wanders by 5-10°. With a prior that the gate's down axis (its y) is gravity, the corners only have to settle the
 * yaw, and every corner of both images of a rig votes for it.
 *
 * This is a small bundle adjustment in a reference camera's frame: the gate's rotation and centre, all seen corners
 * of one or two views (each view with its own pose relative to the reference camera), and the prior on the gate's y
 * axis, weighted by `sigmaTiltRad` (attitude error, camera mounting and a gate not quite plumb together). Pure: no
 * clock, no I/O.
 */
export interface UprightView {
  /** Rotates this camera's vectors into the reference camera's frame. */
  R_ref_cam: Mat3;
  /** This camera's origin in the reference camera's frame (m). */
  o_ref_m: Vec3;
  /** Corners TL, TR, BR, BL on this camera's undistorted normalised plane; null where the lens has no ray. */
  points: readonly (readonly [number, number] | null)[];
  /** Per corner weight 0..1 (0: not seen, ignored). */
  weights: readonly number[];
}

export interface UprightInput {
  views: readonly UprightView[];
  /** Initial rotation (gate → reference camera) and centre, from the unconstrained solution. */
  R0: Mat3;
  t0: Vec3;
  /** Gravity's direction (unit, "down") in the reference camera's frame. */
  down_ref: Vec3;
  half: number;
  /** Corner noise (1σ) on the normalised plane. */
  sigma: number;
  sigmaTiltRad: number;
}

export interface UprightResult {
  R_ref_gate: Mat3;
  /** The fit's gate centre: not used for the reported position (see withGravity in gate-geometry.ts). */
  t_ref_m: Vec3;
  /** 1σ of the rotation's total angle (rad), inflated when the corners fit worse than their noise says. */
  sigmaRot: number;
}

const OBJ: readonly (readonly [number, number])[] = [[-1, -1], [1, -1], [1, 1], [-1, 1]];

/** Refines (R, t) under the upright prior; null when the corners do not constrain the pose (too few, behind). */
export function uprightRefine(input: UprightInput): UprightResult | null {
  const { views, half, down_ref } = input;
  const isig = 1 / input.sigma;
  const itilt = 1 / input.sigmaTiltRad;
  let nCorners = 0;
  let nSeen = 0;
  for (const v of views) {
    for (let i = 0; i < 4; i++) {
      if (!v.points[i] || !(v.weights[i]! > 0)) continue;
      nCorners++;
      if (v.weights[i]! > 0.1) nSeen++;
    }
  }
  if (nCorners < 3) return null;
  const JtJ = [0, 1, 2, 3, 4, 5].map(() => new Array<number>(6).fill(0));
  const Jtr = new Array<number>(6).fill(0);
  const J = new Array<number>(6).fill(0);
  // One corner's dP_ref/d(δ, t), preallocated (see pose-lm.ts).
  const dRef = poseJacobianColumns();
  /** Adds one whitened residual's row J (weight wt) to the normal equations. */
  const add = (res: number, wt: number): void => {
    for (let a = 0; a < 6; a++) {
      Jtr[a] = Jtr[a]! + wt * J[a]! * res;
      for (let b = a; b < 6; b++) JtJ[a]![b] = JtJ[a]![b]! + wt * J[a]! * J[b]!;
    }
  };
  /** Whitened cost at (R, t); fills the normal equations when withJ. NaN when a corner falls behind its camera. */
  const normal = (R: Mat3, t: Vec3, withJ: boolean): number => {
    if (withJ) for (let a = 0; a < 6; a++) (Jtr[a] = 0), JtJ[a]!.fill(0);
    let cost = 0;
    for (const v of views) {
      const Rc = v.R_ref_cam; // camera → ref; its transpose maps ref → camera
      for (let i = 0; i < 4; i++) {
        const pt = v.points[i];
        const w = v.weights[i]!;
        if (!pt || !(w > 0)) continue;
        const X = OBJ[i]![0] * half;
        const Y = OBJ[i]![1] * half;
        const y0 = R[0] * X + R[1] * Y;
        const y1 = R[3] * X + R[4] * Y;
        const y2 = R[6] * X + R[7] * Y;
        const q0 = y0 + t[0] - v.o_ref_m[0];
        const q1 = y1 + t[1] - v.o_ref_m[1];
        const q2 = y2 + t[2] - v.o_ref_m[2];
        const px = Rc[0] * q0 + Rc[3] * q1 + Rc[6] * q2;
        const py = Rc[1] * q0 + Rc[4] * q1 + Rc[7] * q2;
        const pz = Rc[2] * q0 + Rc[5] * q1 + Rc[8] * q2;
        if (!(pz > 1e-6)) return NaN;
        const iz = 1 / pz;
        const u = px * iz;
        const vv = py * iz;
        const wt = w * isig * isig;
        if (withJ) {
          // d(u, v)/dP_cam, P_cam = Rcᵀ·(R·X + t − o); dP_ref/dδk = ek × (R·X), dP_ref/dt = I (dRef's columns).
          setRotationColumns(dRef, y0, y1, y2);
          for (let r = 0; r < 2; r++) {
            for (let k = 0; k < 6; k++) {
              const c0 = dRef[3 * k]!;
              const c1 = dRef[3 * k + 1]!;
              const c2 = dRef[3 * k + 2]!;
              const dx = Rc[0] * c0 + Rc[3] * c1 + Rc[6] * c2;
              const dy = Rc[1] * c0 + Rc[4] * c1 + Rc[7] * c2;
              const dz = Rc[2] * c0 + Rc[5] * c1 + Rc[8] * c2;
              J[k] = r === 0 ? iz * (dx - u * dz) : iz * (dy - vv * dz);
            }
            add(r === 0 ? u - pt[0] : vv - pt[1], wt);
          }
        }
        cost += wt * ((u - pt[0]) ** 2 + (vv - pt[1]) ** 2);
      }
    }
    // The prior: the gate's y axis g (column 1 of R) along gravity. d(R·e_y)/dδk = ek × g, so the row of residual
    // component r is (ek × g)_r for k = 0..2 (written out: no arrays, this runs per trial step) and 0 for t.
    const g0 = R[1], g1 = R[4], g2 = R[7];
    const w2 = itilt * itilt;
    for (let r = 0; r < 3; r++) {
      const res = (r === 0 ? g0 : r === 1 ? g1 : g2) - down_ref[r]!;
      cost += w2 * res * res;
      if (!withJ) continue;
      J[0] = r === 0 ? 0 : r === 1 ? -g2 : g1;
      J[1] = r === 0 ? g2 : r === 1 ? 0 : -g0;
      J[2] = r === 0 ? -g1 : r === 1 ? g0 : 0;
      J[3] = J[4] = J[5] = 0;
      add(res, w2);
    }
    if (withJ) for (let a = 0; a < 6; a++) for (let b = 0; b < a; b++) JtJ[a]![b] = JtJ[b]![a]!;
    return cost;
  };

  /** Levenberg-Marquardt from (R, t); null when a start puts a corner behind its camera. */
  const descend = (R: Mat3, t: Vec3) => descendPose(R, t, { normal, JtJ, Jtr, iterations: 30, stepTol: 1e-9, ridge: 1e-12 });

  // Two starts: the unconstrained rotation stood upright, and the gate face-on to the camera. The unconstrained
  // rotation of a far gate can be tens of degrees off, and from there the fit can settle in a false minimum at
  // twice the range with the gate turned edge-on; the lower of the two minima wins.
  let best: { R: Mat3; t: Vec3; cost: number } | null = null;
  for (const R0 of [stoodUp(input.R0, down_ref), faceOn(input.t0, down_ref)]) {
    if (!R0) continue;
    const r = descend(R0, input.t0);
    if (r && (!best || r.cost < best.cost)) best = r;
  }
  if (!best) return null;
  const { R, t } = best;
  const cost = normal(R, t, true);
  const inv = invert(JtJ);
  if (!inv) return null;
  const varRot = inv[0]![0]! + inv[1]![1]! + inv[2]![2]!;
  if (!(varRot > 0)) return null;
  // Two residuals per seen corner and two from the prior, six unknowns. A fit worse than the noise (a mismatched
  // stereo pair, a corner on the wrong gate) widens the uncertainty rather than hiding behind it.
  const dof = Math.max(1, 2 * nSeen + 2 - 6);
  const inflate = Math.max(1, cost / dof);
  return { R_ref_gate: R, t_ref_m: t, sigmaRot: Math.sqrt(varRot * inflate) };
}

/** R with its y axis turned onto `down` and its z kept as near as possible; null when z is along gravity. */
function stoodUp(R: Mat3, down: Vec3): Mat3 | null {
  return uprightFrame(down, [R[2], R[5], R[8]]);
}

/** The upright gate facing straight away from the camera at t (its z along the horizontal line of sight). */
function faceOn(t: Vec3, down: Vec3): Mat3 | null {
  return uprightFrame(down, t);
}

/** The rotation whose y is `down` and whose z is `zHint` made horizontal (x = y × z, right-handed). */
function uprightFrame(down: Vec3, zHint: readonly number[]): Mat3 | null {
  const dz = zHint[0]! * down[0] + zHint[1]! * down[1] + zHint[2]! * down[2];
  const z = [zHint[0]! - dz * down[0], zHint[1]! - dz * down[1], zHint[2]! - dz * down[2]];
  const n = Math.hypot(z[0]!, z[1]!, z[2]!);
  if (!(n > 1e-6)) return null;
  const [z0, z1, z2] = [z[0]! / n, z[1]! / n, z[2]! / n];
  const [y0, y1, y2] = down;
  const x = [y1 * z2 - y2 * z1, y2 * z0 - y0 * z2, y0 * z1 - y1 * z0];
  return [x[0]!, y0, z0, x[1]!, y1, z1, x[2]!, y2, z2];
}
