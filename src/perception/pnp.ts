import type { Vec3 } from '../core/messages.js';
import { invert, solveInPlace } from './linalg.js';
import { nearestRotation, type Mat3 } from './rotation.js';
import { descendPose, poseJacobianColumns, setRotationColumns } from './pose-lm.js';

/**
 * Planar-square PnP: a gate's pose in the camera frame from its four inner corners and its known size.
 *
 * Why hand-written rather than OpenCV.js' solvePnP(SOLVEPNP_IPPE_SQUARE): measured here (see the perception note),
 * both give the same poses to well below the corner noise, but the WebAssembly build costs seconds to load and
 * needs all four corners, while a gate cut by the image edge has only two or three trustworthy ones. So: a
 * homography from the four corners (the predicted ones for cut corners) for the initial pose, then a weighted
 * Gauss-Newton (Levenberg-Marquardt) refinement of the reprojection error in which each corner counts by its
 * confidence. The inverse of the normal matrix gives the pose covariance, which therefore grows with distance by
 * itself.
 */
export interface SquarePnpInput {
  /** Corners TL, TR, BR, BL on the undistorted normalised image plane (x/z, y/z of the camera rays). */
  points: readonly (readonly [number, number])[];
  /** Per corner confidence 0..1; a corner with weight 0 still shapes the initial guess but not the fit. */
  weights: readonly number[];
  /** Half the gate's inner side (m). */
  half: number;
  /** Corner noise (1σ) on the normalised plane (pixels / focal length). */
  sigma: number;
}

export interface SquarePnpResult {
  /** Rotates gate-frame vectors (x right TL→TR, y down TL→BL, z away from the camera) into the camera frame. */
  R_cam_gate: Mat3;
  /** Gate centre in the camera frame (m). */
  t_cam_m: Vec3;
  /** 3×3 covariance of t_cam_m (m²). */
  covT: number[][];
  /** 1σ rotation uncertainty (rad), the largest axis. */
  sigmaRot: number;
  /** Weighted RMS reprojection residual in units of sigma (≈1 when the corners fit a square of this size). */
  rmsSigma: number;
}

/** Weight floor of a corner: one not seen (extrapolated by the network) still counts this much. */
export const MIN_CORNER_WEIGHT = 0.02;

/** Object corners in units of the half side, IPPE_SQUARE's order TL, TR, BR, BL: (-1,-1), (1,-1), (1,1), (-1,1). */
const OBJ: readonly (readonly [number, number])[] = [[-1, -1], [1, -1], [1, 1], [-1, 1]];

export function solveSquarePnp(input: SquarePnpInput): SquarePnpResult | null {
  const { points, half } = input;
  if (points.length !== 4 || !points.every((p) => Number.isFinite(p[0]) && Number.isFinite(p[1]))) return null;
  const init = initialPose(points, half);
  if (!init) return null;
  const w = input.weights.map((v) => Math.max(MIN_CORNER_WEIGHT, Math.min(1, v)));
  let R = init.R;
  let t = init.t;
  // Levenberg-Marquardt on (δ, t) with R ← exp(δ)·R, analytic Jacobian: ∂P/∂δk = ek × (R·X), ∂P/∂t = I.
  const JtJ = [0, 1, 2, 3, 4, 5].map(() => new Array<number>(6).fill(0));
  const Jtr = new Array<number>(6).fill(0);
  const jrow = [new Array<number>(6).fill(0), new Array<number>(6).fill(0)];
  // dP/d(δ, t) for one corner, preallocated: this runs for every corner of every iteration of every gate on the loop.
  const dP = poseJacobianColumns();
  /** Fills JtJ and Jtr at (R, t); returns the cost, or NaN when a corner is behind the camera. */
  const normal = (Rm: Mat3, tv: Vec3, withJ: boolean): number => {
    let cost = 0;
    if (withJ) for (let a = 0; a < 6; a++) (Jtr[a] = 0), JtJ[a]!.fill(0);
    for (let i = 0; i < 4; i++) {
      const X = OBJ[i]![0] * half;
      const Y = OBJ[i]![1] * half;
      const y0 = Rm[0] * X + Rm[1] * Y;
      const y1 = Rm[3] * X + Rm[4] * Y;
      const y2 = Rm[6] * X + Rm[7] * Y;
      const px = y0 + tv[0];
      const py = y1 + tv[1];
      const pz = y2 + tv[2];
      if (!(pz > 1e-6)) return NaN;
      const iz = 1 / pz;
      const u = px * iz;
      const v = py * iz;
      const wi = w[i]!;
      const ru = u - points[i]![0];
      const rv = v - points[i]![1];
      cost += wi * (ru * ru + rv * rv);
      if (!withJ) continue;
      // d(u,v)/dP = (iz, 0, −u·iz) and (0, iz, −v·iz), chained with dP/d(δ, t): columns ek × (R·X) for δ, then I.
      setRotationColumns(dP, y0, y1, y2);
      for (let k = 0; k < 6; k++) {
        const c0 = dP[3 * k]!;
        const c1 = dP[3 * k + 1]!;
        const c2 = dP[3 * k + 2]!;
        jrow[0]![k] = iz * c0 - u * iz * c2;
        jrow[1]![k] = iz * c1 - v * iz * c2;
      }
      for (let r = 0; r < 2; r++) {
        const J = jrow[r]!;
        const res = r === 0 ? ru : rv;
        for (let a = 0; a < 6; a++) {
          Jtr[a] = Jtr[a]! + wi * J[a]! * res;
          for (let b = a; b < 6; b++) JtJ[a]![b] = JtJ[a]![b]! + wi * J[a]! * J[b]!;
        }
      }
    }
    if (withJ) for (let a = 0; a < 6; a++) for (let b = 0; b < a; b++) JtJ[a]![b] = JtJ[b]![a]!;
    return cost;
  };
  const fit = descendPose(R, t, { normal, JtJ, Jtr, iterations: 20, stepTol: 1e-8, ridge: 1e-18 });
  if (!fit) return null;
  ({ R, t } = fit);
  const cost = fit.cost;
  const inv = invert(JtJ);
  if (!inv) return null;
  const s2 = input.sigma * input.sigma;
  const covT = [3, 4, 5].map((i) => [3, 4, 5].map((j) => inv[i]![j]! * s2));
  const sigmaRot = Math.sqrt(Math.max(inv[0]![0]!, inv[1]![1]!, inv[2]![2]!) * s2);
  const wsum = w.reduce((a, v) => a + v, 0);
  return { R_cam_gate: R, t_cam_m: t, covT, sigmaRot, rmsSigma: Math.sqrt(cost / (2 * wsum)) / input.sigma };
}

/** Pose from the plane-to-image homography of the four corners (the classic Zhang decomposition). */
function initialPose(points: readonly (readonly [number, number])[], half: number): { R: Mat3; t: Vec3 } | null {
  // The 8×8 system of the homography's eight unknowns, two rows per corner, built straight into the augmented
  // matrix [A | b] that solveInPlace eliminates: no nested arrays per gate.
  const M = HOMOGRAPHY;
  for (let i = 0; i < 4; i++) {
    const X = OBJ[i]![0];
    const Y = OBJ[i]![1];
    const u = points[i]![0];
    const v = points[i]![1];
    const a = 2 * i * 9;
    const b = a + 9;
    M[a] = X, M[a + 1] = Y, M[a + 2] = 1, M[a + 3] = 0, M[a + 4] = 0, M[a + 5] = 0, M[a + 6] = -u * X, M[a + 7] = -u * Y, M[a + 8] = u;
    M[b] = 0, M[b + 1] = 0, M[b + 2] = 0, M[b + 3] = X, M[b + 4] = Y, M[b + 5] = 1, M[b + 6] = -v * X, M[b + 7] = -v * Y, M[b + 8] = v;
  }
  if (!solveInPlace(M, 8)) return null;
  const h = (k: number) => M[k * 9 + 8]!;
  const c1x = h(0), c1y = h(3), c1z = h(6);
  const c2x = h(1), c2y = h(4), c2z = h(7);
  const c3x = h(2), c3y = h(5);
  // H's columns are λ·(half·r1, half·r2, t) with h33 = 1, so t_z = 1/λ: the positive λ puts the gate in front.
  const lh = (Math.sqrt(c1x * c1x + c1y * c1y + c1z * c1z) + Math.sqrt(c2x * c2x + c2y * c2y + c2z * c2z)) / 2; // λ·half
  if (!(lh > 0)) return null;
  const r1: Vec3 = [c1x / lh, c1y / lh, c1z / lh];
  const r2: Vec3 = [c2x / lh, c2y / lh, c2z / lh];
  const r3: Vec3 = [r1[1] * r2[2] - r1[2] * r2[1], r1[2] * r2[0] - r1[0] * r2[2], r1[0] * r2[1] - r1[1] * r2[0]];
  const R0: Mat3 = [r1[0], r2[0], r3[0], r1[1], r2[1], r3[1], r1[2], r2[2], r3[2]];
  const lambda = lh / half;
  return { R: nearestRotation(R0), t: [c3x / lambda, c3y / lambda, 1 / lambda] };
}

/** The homography's augmented system (8 rows of 9), reused: PnP runs for every detection on the event loop. */
const HOMOGRAPHY = new Float64Array(72);
