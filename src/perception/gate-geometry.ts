import type { RigCamera } from '../camera/rig.js';
import type { GateObservation, Vec3 } from '../core/messages.js';
import type { DecodedGate } from './decode.js';
import { invert, rotateCov } from './linalg.js';
import { MIN_CORNER_WEIGHT, solveSquarePnp } from './pnp.js';
import { apply3, matFromQuat, mul3, quatFromMat, transpose3, type Mat3 } from './rotation.js';
import { fitSquare, triangulateMidpoint } from './stereo.js';
import { uprightRefine, type UprightView } from './upright.js';

/**
 * Gate geometry: detected corners of one rig's two images → gate poses in the body frame. Pure: no clock, no I/O.
 *
 * Per image, each detection's corners are undistorted with that camera's own model (camera/camera-model.ts) and
 * solved as a planar square of known size (pnp.ts). Detections of the two images of a rig whose single-image poses
 * agree are the same gate: its corners seen in both are triangulated (stereo.ts) and the three estimates (left,
 * right, stereo) are combined by their information matrices. When they disagree by more than their uncertainties
 * say, the combined uncertainty is inflated by the disagreement, so it only shrinks when stereo agrees.
 *
 * Corner pixels are in the camera model's convention (0 at the centre of the top-left pixel), which is also what the
 * training labels (projected with the same model) and so the decoder's output use.
 */
export interface GeometryParams {
  /** Half of the gate's inner side (m). */
  half: number;
  /** Corner noise at full image resolution (px, 1σ). */
  cornerSigmaPx: number;
  /** Corner-heatmap value from which a corner counts as seen. */
  cornerThreshold: number;
  /**
   * 1σ (rad) of the upright prior: how far a gate's down axis may be from gravity as the flight controller gives it
   * (attitude error, camera mounting, a gate not quite plumb). Used only when rigGates is given the gravity direction.
   */
  sigmaTiltRad?: number;
}

/** Default for GeometryParams.sigmaTiltRad: 2°, twice a flight controller's typical roll/pitch error. */
export const DEFAULT_SIGMA_TILT_RAD = (2 * Math.PI) / 180;

/** One image's gate, solved on its own, in that camera's frame. */
export interface MonoGate {
  det: DecodedGate;
  R_cam_gate: Mat3;
  t_cam_m: Vec3;
  covT: number[][];
  sigmaRot: number;
  /** Unit rays (camera frame) through the corners, null where the lens has none. */
  rays: (Vec3 | null)[];
  seen: [boolean, boolean, boolean, boolean];
}

export type RejectReason = 'too_few_corners' | 'degenerate' | 'implausible';

/** Solves one detection in one camera; a reason instead of a pose when it cannot be trusted. */
export function monoGate(cam: RigCamera, det: DecodedGate, p: GeometryParams): MonoGate | RejectReason {
  const m = cam.model;
  const rays = det.corners.map((c) => (Number.isFinite(c[0]) && Number.isFinite(c[1]) ? m.unproject([c[0], c[1]]) : null));
  const seen = det.corners.map(
    (c, i) => rays[i] !== null && rays[i]![2] > 0 && m.inImage([c[0], c[1]]) && det.cornerConfidence[i]! >= p.cornerThreshold,
  ) as MonoGate['seen'];
  if (seen.filter(Boolean).length < 2) return 'too_few_corners';
  // Normalised undistorted points; a corner with no ray (off the lens' fold) is completed as a parallelogram so the
  // homography still has four points, and gets no weight in the fit.
  const pts: ([number, number] | null)[] = rays.map((r) => (r && r[2] > 1e-6 ? [r[0] / r[2], r[1] / r[2]] : null));
  for (let i = 0; i < 4; i++) {
    if (pts[i]) continue;
    const a = pts[(i + 1) % 4];
    const b = pts[(i + 2) % 4];
    const c = pts[(i + 3) % 4];
    if (!a || !b || !c) return 'too_few_corners';
    pts[i] = [a[0] + c[0] - b[0], a[1] + c[1] - b[1]];
  }
  const f = (m.intrinsics.fx + m.intrinsics.fy) / 2;
  if (!convexQuad(pts as [number, number][], (2 * p.cornerSigmaPx) / f)) return 'degenerate';
  const sol = solveSquarePnp({
    points: pts as [number, number][],
    weights: cornerWeights(det, seen),
    half: p.half,
    sigma: p.cornerSigmaPx / f,
  });
  if (!sol) return 'degenerate';
  // A gate is a few metres wide: a fit that needs the corners far off a square of that size is not a gate.
  if (!(sol.t_cam_m[2] > 0.2 && sol.t_cam_m[2] < 200) || sol.rmsSigma > 25) return 'implausible';
  // The gate's normal (its z, away from the camera) must point away from us: a face seen from its back is a misfit.
  const R = sol.R_cam_gate;
  if (R[2] * sol.t_cam_m[0] + R[5] * sol.t_cam_m[1] + R[8] * sol.t_cam_m[2] <= 0) return 'implausible';
  return { det, R_cam_gate: sol.R_cam_gate, t_cam_m: sol.t_cam_m, covT: sol.covT, sigmaRot: sol.sigmaRot, rays, seen };
}

/** How much each corner counts in a fit: by its confidence, 0 when not seen. */
function cornerWeights(det: DecodedGate, seen: readonly boolean[]): number[] {
  return seen.map((s, i) => (s ? Math.max(0.25, Math.min(1, det.cornerConfidence[i]! * 2)) : 0));
}

/** One image's corners as a view for the upright refinement, posed relative to the reference camera. */
function uprightView(m: MonoGate, R_ref_cam: Mat3, o_ref_m: Vec3): UprightView {
  return {
    R_ref_cam, o_ref_m,
    points: m.rays.map((r) => (r && r[2] > 1e-6 ? ([r[0] / r[2], r[1] / r[2]] as const) : null)),
    // Corners not seen (off the image: the network's extrapolation) keep the small weight the PnP gives them, so a
    // gate with only its top edge in view is not left free to spin about that edge.
    weights: cornerWeights(m.det, m.seen).map((w) => Math.max(MIN_CORNER_WEIGHT, w)),
  };
}

/**
 * Replaces an estimate's orientation by the gravity-aided one (upright.ts) when gravity is known.
 *
 * Only the orientation: the fit's position is not used, although on ideal corners it is far better (worst error at
 * 15 m over 300 noisy stereo views 0.8% of the distance against 3.5% for the combined estimate, measured with a
 * scratch script over rendered-truth.ts). With the shipped detector's corners it is worse: at range the network
 * places the corners inside the gate's true outline, so a gate whose tilt is pinned reads up to half again too far
 * (11 m read as 16 m in sim seed 9), while the unconstrained solution absorbs part of that bias into a wrong tilt.
 * Flying on the fit's positions the detector-in-the-loop race fell from 8 to 5 of 10 seeds. Revisit with a detector
 * whose corners are unbiased.
 */
function withGravity(cam: RigCamera, e: Estimate, views: readonly UprightView[], down_body: Vec3 | null | undefined, p: GeometryParams): Estimate {
  if (!down_body) return e;
  const f = (cam.model.intrinsics.fx + cam.model.intrinsics.fy) / 2;
  const r = uprightRefine({
    views, R0: e.R, t0: e.t, down_ref: apply3(transpose3(cam.R_body_cam), down_body), half: p.half,
    sigma: p.cornerSigmaPx / f, sigmaTiltRad: p.sigmaTiltRad ?? DEFAULT_SIGMA_TILT_RAD,
  });
  return r ? { ...e, R: r.R_ref_gate, sigmaRot: r.sigmaRot } : e;
}

/**
 * TL, TR, BR, BL must form a convex quadrilateral turning clockwise on the image (y down) with every side longer than
 * `minSide` (normalised units): anything else is not the view of a square.
 */
function convexQuad(q: readonly [number, number][], minSide: number): boolean {
  for (let i = 0; i < 4; i++) {
    const a = q[i]!;
    const b = q[(i + 1) % 4]!;
    const c = q[(i + 2) % 4]!;
    if (Math.hypot(b[0] - a[0], b[1] - a[1]) < minSide) return false;
    const cross = (b[0] - a[0]) * (c[1] - b[1]) - (b[1] - a[1]) * (c[0] - b[0]);
    if (!(cross > 0)) return false;
  }
  return true;
}

interface Estimate {
  t: Vec3;
  cov: number[][];
  R: Mat3;
  sigmaRot: number;
}

/** The information-weighted mean of several position estimates, inflated when they disagree beyond their covariances. */
export function combine(ests: readonly Estimate[]): Estimate | null {
  const infos = ests.map((e) => invert(e.cov));
  if (infos.some((i) => !i)) return null;
  const info = [0, 1, 2].map((i) => [0, 1, 2].map((j) => infos.reduce((s, m) => s + m![i]![j]!, 0)));
  const cov = invert(info);
  if (!cov) return null;
  const rhs = [0, 1, 2].map((i) => ests.reduce((s, e, k) => s + [0, 1, 2].reduce((a, j) => a + infos[k]![i]![j]! * e.t[j]!, 0), 0));
  const t = [0, 1, 2].map((i) => cov[i]!.reduce((s, v, j) => s + v * rhs[j]!, 0)) as Vec3;
  let chi2 = 0;
  ests.forEach((e, k) => {
    const d = [e.t[0] - t[0], e.t[1] - t[1], e.t[2] - t[2]];
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) chi2 += d[i]! * infos[k]![i]![j]! * d[j]!;
  });
  const dof = 3 * (ests.length - 1);
  const inflate = dof > 0 ? Math.max(1, chi2 / dof) : 1;
  // Orientation: quaternions averaged with weights 1/σ² (all close to each other, so a normalised sum suffices).
  const q0 = quatFromMat(ests[0]!.R);
  const q = [0, 0, 0, 0];
  let wsum = 0;
  for (const e of ests) {
    let qe = quatFromMat(e.R);
    if (qe[0] * q0[0] + qe[1] * q0[1] + qe[2] * q0[2] + qe[3] * q0[3] < 0) qe = qe.map((v) => -v) as typeof qe;
    const w = 1 / (e.sigmaRot * e.sigmaRot);
    for (let i = 0; i < 4; i++) q[i] = q[i]! + w * qe[i]!;
    wsum += w;
  }
  const n = Math.hypot(q[0]!, q[1]!, q[2]!, q[3]!);
  return {
    t,
    cov: cov.map((r) => r.map((v) => v * inflate)),
    R: matFromQuat([q[0]! / n, q[1]! / n, q[2]! / n, q[3]! / n]),
    sigmaRot: Math.sqrt(inflate / wsum),
  };
}

/** Triangulated estimate of a gate seen by both cameras of a rig, in the left camera's frame. */
function stereoEstimate(left: RigCamera, right: RigCamera, l: MonoGate, r: MonoGate, p: GeometryParams): Estimate | null {
  const R_l_r = mul3(transpose3(left.R_body_cam), right.R_body_cam);
  const d = [right.p_body_m[0] - left.p_body_m[0], right.p_body_m[1] - left.p_body_m[1], right.p_body_m[2] - left.p_body_m[2]] as Vec3;
  const o_r = apply3(transpose3(left.R_body_cam), d);
  const baseline = Math.hypot(...o_r);
  const pts = [0, 1, 2, 3].map((i) => {
    if (!l.seen[i] || !r.seen[i]) return null;
    const x = triangulateMidpoint([0, 0, 0], l.rays[i]!, o_r, apply3(R_l_r, r.rays[i]!));
    return x ? x.p : null;
  });
  const n = pts.filter(Boolean).length;
  const fit = fitSquare(pts, p.half);
  if (!fit || !(fit.t[2] > 0.2)) return null;
  const f = (left.model.intrinsics.fx + left.model.intrinsics.fy) / 2;
  const z = Math.hypot(...fit.t);
  const u = fit.t.map((v) => v / z);
  const sn = p.cornerSigmaPx / f;
  // Per corner: z·σ across the line of sight, z²·√2σ/B along it (the disparity carries both images' noise); the
  // centre averages the n corners. Along the line of sight, not the optical axis: off-axis gates are common.
  // With three corners the centre also moves with the fitted rotation (the corners' centroid is off the centre).
  const sigmaRot = Math.atan((Math.sqrt(dep2n(z, sn, o_r, u, baseline)) * Math.SQRT2) / (2 * p.half));
  const lever = n === 4 ? 0 : (p.half * Math.SQRT2) / 3;
  const lat2 = (z * sn) ** 2 / n + (sigmaRot * lever) ** 2;
  // Only the part of the baseline across the line of sight gives disparity.
  const dep2 = dep2n(z, sn, o_r, u, baseline) / n;
  return {
    t: fit.t,
    cov: [0, 1, 2].map((i) => [0, 1, 2].map((j) => (i === j ? lat2 : 0) + (dep2 - lat2) * u[i]! * u[j]!)),
    R: fit.R,
    sigmaRot,
  };
}

/** Depth variance of one triangulated corner at range z: (z²·√2σ/B⊥)², B⊥ the baseline across the line of sight u. */
function dep2n(z: number, sn: number, o_r: Vec3, u: readonly number[], baseline: number): number {
  const bEff = Math.max(0.1 * baseline, Math.hypot(o_r[1] * u[2]! - o_r[2] * u[1]!, o_r[2] * u[0]! - o_r[0] * u[2]!, o_r[0] * u[1]! - o_r[1] * u[0]!));
  return ((z * z * Math.SQRT2 * sn) / bEff) ** 2;
}

function observation(cam: RigCamera, e: Estimate, m: MonoGate, extra: Partial<GateObservation>): GateObservation {
  const R_body_gate = mul3(cam.R_body_cam, e.R);
  const tb = apply3(cam.R_body_cam, e.t);
  const covB = rotateCov(cam.R_body_cam, e.cov);
  return {
    p_body_m: [tb[0] + cam.p_body_m[0], tb[1] + cam.p_body_m[1], tb[2] + cam.p_body_m[2]],
    q_body_gate: quatFromMat(R_body_gate),
    sigma_p_body_m: [Math.sqrt(covB[0]![0]!), Math.sqrt(covB[1]![1]!), Math.sqrt(covB[2]![2]!)],
    sigmaRot_rad: e.sigmaRot,
    range_m: Math.hypot(...e.t),
    score: m.det.score,
    rig: cam.rig,
    seenBy: [cam.side],
    method: 'pnp',
    cornersSeen: [...m.seen],
    corners_px: m.det.corners.map((c) => [c[0], c[1]] as [number, number]),
    ...extra,
  };
}

export interface RigGeometryResult {
  gates: GateObservation[];
  rejected: number;
}

/**
 * All gates of one rig from the detections of its left and right image (either may be empty or missing). Pairs are
 * matched greedily, strongest first, by how well their single-image positions agree.
 *
 * `down_body`, gravity's direction in the body frame at the images' capture time, turns on the upright prior for
 * the gates' orientation; without it (no attitude yet, or too old) the corners alone give it.
 */
export function rigGates(
  left: RigCamera, right: RigCamera, dl: readonly DecodedGate[], dr: readonly DecodedGate[], p: GeometryParams,
  down_body?: Vec3 | null,
): RigGeometryResult {
  let rejected = 0;
  const solve = (cam: RigCamera, ds: readonly DecodedGate[]) =>
    ds.flatMap((d) => {
      const m = monoGate(cam, d, p);
      if (typeof m === 'string') {
        rejected++;
        return [];
      }
      return [m];
    });
  const ml = solve(left, dl);
  const mr = solve(right, dr);
  // Right-image solutions in the left camera's frame, for matching and combining.
  const R_l_r = mul3(transpose3(left.R_body_cam), right.R_body_cam);
  const o_r = apply3(transpose3(left.R_body_cam), [
    right.p_body_m[0] - left.p_body_m[0], right.p_body_m[1] - left.p_body_m[1], right.p_body_m[2] - left.p_body_m[2],
  ]);
  const inLeft = (m: MonoGate): Estimate => {
    const t = apply3(R_l_r, m.t_cam_m);
    return { t: [t[0] + o_r[0], t[1] + o_r[1], t[2] + o_r[2]], cov: rotateCov(R_l_r, m.covT), R: mul3(R_l_r, m.R_cam_gate), sigmaRot: m.sigmaRot };
  };
  const own = (m: MonoGate): Estimate => ({ t: m.t_cam_m, cov: m.covT, R: m.R_cam_gate, sigmaRot: m.sigmaRot });
  const I3: Mat3 = [1, 0, 0, 0, 1, 0, 0, 0, 1];
  const alone = (cam: RigCamera, m: MonoGate) => withGravity(cam, own(m), [uprightView(m, I3, [0, 0, 0])], down_body, p);
  const usedR = new Set<number>();
  const gates: GateObservation[] = [];
  for (const l of [...ml].sort((a, b) => b.det.score - a.det.score)) {
    const el = own(l);
    let best = -1;
    let bestD = Infinity;
    mr.forEach((r, k) => {
      if (usedR.has(k)) return;
      const er = inLeft(r);
      const d = Math.hypot(er.t[0] - el.t[0], er.t[1] - el.t[1], er.t[2] - el.t[2]);
      const gate = 3 * Math.sqrt(el.cov[0]![0]! + el.cov[1]![1]! + el.cov[2]![2]! + er.cov[0]![0]! + er.cov[1]![1]! + er.cov[2]![2]!) + 0.3;
      if (d < gate && d < bestD) [best, bestD] = [k, d];
    });
    if (best < 0) {
      gates.push(observation(left, alone(left, l), l, {}));
      continue;
    }
    usedR.add(best);
    const r = mr[best]!;
    const parts = [el, inLeft(r)];
    const st = stereoEstimate(left, right, l, r, p);
    if (st) parts.push(st);
    const c0 = combine(parts);
    const c = c0 && withGravity(left, c0, [uprightView(l, I3, [0, 0, 0]), uprightView(r, R_l_r, o_r)], down_body, p);
    if (!c) {
      rejected++;
      continue;
    }
    gates.push(observation(left, c, l, {
      score: Math.max(l.det.score, r.det.score),
      seenBy: ['left', 'right'],
      method: st ? 'stereo+pnp' : 'pnp',
      cornersSeen: l.seen.map((s, i) => s || r.seen[i]!) as GateObservation['cornersSeen'],
    }));
  }
  mr.forEach((r, k) => {
    if (!usedR.has(k)) gates.push(observation(right, alone(right, r), r, {}));
  });
  return { gates, rejected };
}
