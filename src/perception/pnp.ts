import type { Vec3 } from '../core/messages.js';
import { invert, solve } from './linalg.js';
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
  const A: number[][] = [];
  const b: number[] = [];
  for (let i = 0; i < 4; i++) {
    const [X, Y] = OBJ[i]!;
    const [u, v] = points[i]!;
    A.push([X, Y, 1, 0, 0, 0, -u * X, -u * Y]);
    b.push(u);
    A.push([0, 0, 0, X, Y, 1, -v * X, -v * Y]);
    b.push(v);
  }
  const h = solve(A, b);
  if (!h) return null;
  const c1: Vec3 = [h[0]!, h[3]!, h[6]!];
  const c2: Vec3 = [h[1]!, h[4]!, h[7]!];
  const c3: Vec3 = [h[2]!, h[5]!, 1];
  let lh = (Math.hypot(...c1) + Math.hypot(...c2)) / 2; // λ·half
  if (!(lh > 0)) return null;
  // The camera sees the gate in front of it: t_z > 0 fixes the homography's sign.
  if (c3[2] < 0) lh = -lh;
  const r1 = c1.map((v) => v / lh) as Vec3;
  const r2 = c2.map((v) => v / lh) as Vec3;
  const r3: Vec3 = [r1[1] * r2[2] - r1[2] * r2[1], r1[2] * r2[0] - r1[0] * r2[2], r1[0] * r2[1] - r1[1] * r2[0]];
  const M: Mat3 = [r1[0], r2[0], r3[0], r1[1], r2[1], r3[1], r1[2], r2[2], r3[2]];
  const lambda = lh / half;
  return { R: nearestRotation(M), t: c3.map((v) => v / lambda) as Vec3 };
}
