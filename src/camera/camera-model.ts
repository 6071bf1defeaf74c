import type { Vec3 } from '../core/messages.js';

/**
 * The camera model: pinhole intrinsics plus one of OpenCV's two lens-distortion models. Pure functions of the
 * calibration, no I/O: the renderer projects gate corners with it, perception unprojects detections with it, so the
 * two agree by construction. Camera frame in the OpenCV convention: x right, y down, z forward; pixels with (0,0)
 * at the centre of the top-left pixel, as OpenCV's calibration reports them.
 */

/** Focal lengths and principal point in pixels. */
export interface Intrinsics {
  fx: number;
  fy: number;
  cx: number;
  cy: number;
}

/**
 * Lens distortion.
 * - `none`: an ideal pinhole.
 * - `opencv`: OpenCV's standard ("plumb bob") model, radial k1, k2, k3 and tangential p1, p2, on the normalised
 *   image plane (x/z, y/z). Only points in front of the camera (z > 0) project.
 * - `fisheye`: OpenCV's fisheye (equidistant) model, θd = θ(1 + k1θ² + k2θ⁴ + k3θ⁶ + k4θ⁸) with θ the angle from the
 *   optical axis; θ comes from atan2 so wide lenses may see slightly behind their own plane.
 */
export type Distortion =
  | { model: 'none' }
  | { model: 'opencv'; k1: number; k2: number; p1: number; p2: number; k3: number }
  | { model: 'fisheye'; k1: number; k2: number; k3: number; k4: number };

/** One calibrated image: size in pixels, intrinsics, distortion. */
export interface CameraCalibration {
  width: number;
  height: number;
  intrinsics: Intrinsics;
  distortion: Distortion;
}

export type Pixel = [number, number];

/**
 * A calibration with what is derived from it once: the largest undistorted radius (normalised plane for `opencv`,
 * angle θ for `fisheye`) up to which the lens polynomial is still increasing. Beyond it the polynomial folds back
 * and two directions would land on the same pixel; such directions are reported as not visible (null) rather than
 * as a wrong pixel. Strong barrel lenses such as the default wide-angle calibration fold inside ~80° off axis.
 */
export class CameraModel {
  readonly width: number;
  readonly height: number;
  readonly intrinsics: Intrinsics;
  readonly distortion: Distortion;
  /** Undistorted radius (or θ for fisheye) where the radial map stops increasing. */
  readonly maxRadius: number;
  /** Distorted radius reached at maxRadius: pixels farther out than this have no ray. */
  readonly maxDistortedRadius: number;

  constructor(calib: CameraCalibration) {
    const { fx, fy } = calib.intrinsics;
    if (!(fx > 0 && fy > 0)) throw new RangeError(`camera focal lengths must be positive, got fx=${fx} fy=${fy}`);
    if (!(calib.width > 0 && calib.height > 0)) throw new RangeError(`camera image size must be positive, got ${calib.width}x${calib.height}`);
    this.width = calib.width;
    this.height = calib.height;
    this.intrinsics = { ...calib.intrinsics };
    this.distortion = { ...calib.distortion };
    this.maxRadius = foldRadius(this.distortion);
    this.maxDistortedRadius = radialMap(this.distortion, this.maxRadius);
  }

  /** Pixel of a point in the camera frame, or null when it is behind the camera or beyond the lens' fold. */
  project(p_cam: Vec3): Pixel | null {
    const [x, y, z] = p_cam;
    const d = this.distortion;
    let xd: number;
    let yd: number;
    if (d.model === 'fisheye') {
      const rxy = Math.hypot(x, y);
      const theta = Math.atan2(rxy, z);
      if (theta > this.maxRadius) return null;
      if (rxy === 0) {
        if (z <= 0) return null;
        xd = 0;
        yd = 0;
      } else {
        const s = radialMap(d, theta) / rxy;
        xd = x * s;
        yd = y * s;
      }
    } else {
      if (!(z > 0)) return null;
      const a = x / z;
      const b = y / z;
      if (Math.hypot(a, b) > this.maxRadius) return null;
      [xd, yd] = distortNormalized(d, a, b);
    }
    const { fx, fy, cx, cy } = this.intrinsics;
    return [fx * xd + cx, fy * yd + cy];
  }

  /** Unit ray (camera frame) through a pixel, or null when no direction lands there (outside the fold). */
  unproject(px: Pixel): Vec3 | null {
    const { fx, fy, cx, cy } = this.intrinsics;
    const xd = (px[0] - cx) / fx;
    const yd = (px[1] - cy) / fy;
    const d = this.distortion;
    if (d.model === 'fisheye') {
      const rd = Math.hypot(xd, yd);
      if (rd > this.maxDistortedRadius * (1 + 1e-12)) return null;
      if (rd === 0) return [0, 0, 1];
      const theta = invertRadial(d, rd, this.maxRadius);
      const s = Math.sin(theta) / rd;
      return [xd * s, yd * s, Math.cos(theta)];
    }
    const n = this.undistortNormalized(xd, yd);
    if (!n) return null;
    const len = Math.hypot(n[0], n[1], 1);
    return [n[0] / len, n[1] / len, 1 / len];
  }

  /**
   * Where a distorted pixel would be in an ideal pinhole image with the same intrinsics (cv::undistortPoints with
   * P = K). Null when the pixel has no ray, or (fisheye) its ray is 90° or more off axis.
   */
  undistortPoint(px: Pixel): Pixel | null {
    const r = this.unproject(px);
    if (!r || !(r[2] > 0)) return null;
    const { fx, fy, cx, cy } = this.intrinsics;
    return [fx * (r[0] / r[2]) + cx, fy * (r[1] / r[2]) + cy];
  }

  /** True when a pixel lies on the image (pixel centres from 0 to size−1, with the half pixel border around them). */
  inImage(px: Pixel): boolean {
    return px[0] >= -0.5 && px[1] >= -0.5 && px[0] <= this.width - 0.5 && px[1] <= this.height - 0.5;
  }

  /** Normalised undistorted coordinates (x/z, y/z) of a normalised distorted point, for the `opencv`/`none` models. */
  undistortNormalized(xd: number, yd: number): [number, number] | null {
    const d = this.distortion;
    if (d.model === 'none') return [xd, yd];
    if (d.model === 'fisheye') {
      const ray = this.unproject([this.intrinsics.fx * xd + this.intrinsics.cx, this.intrinsics.fy * yd + this.intrinsics.cy]);
      return ray && ray[2] > 0 ? [ray[0] / ray[2], ray[1] / ray[2]] : null;
    }
    const rd = Math.hypot(xd, yd);
    if (rd > this.maxDistortedRadius * (1 + 1e-9) + 1e-12) return null;
    // Start from the radial-only inverse (bisection on the monotonic part, robust even for strong barrel lenses),
    // then refine with Newton steps on the full model so the tangential terms are honoured too.
    let x = xd;
    let y = yd;
    if (rd > 0) {
      const r = invertRadial(d, rd, this.maxRadius);
      x = (xd * r) / rd;
      y = (yd * r) / rd;
    }
    const f = NEWTON; // [xd, yd, Jacobian], refilled per step: this runs for every corner on the event loop
    for (let i = 0; i < 20; i++) {
      plumbBobInto(d, x, y, f);
      const ex = f[0]! - xd;
      const ey = f[1]! - yd;
      if (Math.abs(ex) < 1e-14 && Math.abs(ey) < 1e-14) break;
      const j00 = f[2]!, j01 = f[3]!, j10 = f[4]!, j11 = f[5]!;
      const det = j00 * j11 - j01 * j10;
      if (Math.abs(det) < 1e-15) break;
      x -= (j11 * ex - j01 * ey) / det;
      y -= (-j10 * ex + j00 * ey) / det;
    }
    return [x, y];
  }
}

/** OpenCV's plumb-bob distortion on the normalised image plane. */
export function distortNormalized(d: Distortion, x: number, y: number): [number, number] {
  if (d.model === 'none') return [x, y];
  if (d.model === 'fisheye') {
    const r = Math.hypot(x, y);
    if (r === 0) return [0, 0];
    const s = radialMap(d, Math.atan(r)) / r;
    return [x * s, y * s];
  }
  plumbBobInto(d, x, y, NEWTON);
  return [NEWTON[0]!, NEWTON[1]!];
}

/** Scratch of plumbBobInto's callers (never reentrant). */
const NEWTON = new Float64Array(6);

/**
 * OpenCV's plumb-bob distortion of (x, y) and its Jacobian, into out: [xd, yd, ∂xd/∂x, ∂xd/∂y, ∂yd/∂x, ∂yd/∂y].
 * Into a buffer, not returned: undistortion's Newton steps call it for every corner of every detection.
 */
function plumbBobInto(d: Distortion & { model: 'opencv' }, x: number, y: number, out: Float64Array): void {
  const r2 = x * x + y * y;
  const radial = 1 + r2 * (d.k1 + r2 * (d.k2 + r2 * d.k3));
  out[0] = x * radial + 2 * d.p1 * x * y + d.p2 * (r2 + 2 * x * x);
  out[1] = y * radial + d.p1 * (r2 + 2 * y * y) + 2 * d.p2 * x * y;
  // d(radial)/d(r2)
  const dr = d.k1 + r2 * (2 * d.k2 + 3 * r2 * d.k3);
  out[2] = radial + 2 * x * x * dr + 2 * d.p1 * y + 6 * d.p2 * x;
  out[3] = 2 * x * y * dr + 2 * d.p1 * x + 2 * d.p2 * y;
  out[4] = out[3];
  out[5] = radial + 2 * y * y * dr + 6 * d.p1 * y + 2 * d.p2 * x;
}

/** The radial map: r → r·(1 + k1r² + k2r⁴ + k3r⁶) (opencv), θ → θd (fisheye), identity (none). */
export function radialMap(d: Distortion, r: number): number {
  if (d.model === 'none') return r;
  const r2 = r * r;
  if (d.model === 'opencv') return r * (1 + r2 * (d.k1 + r2 * (d.k2 + r2 * d.k3)));
  return r * (1 + r2 * (d.k1 + r2 * (d.k2 + r2 * (d.k3 + r2 * d.k4))));
}

/** Largest radius (≤ a model-specific cap) up to which the radial map increases. */
function foldRadius(d: Distortion): number {
  // Caps: 85° off axis for a pinhole-type lens (tan 85° ≈ 11.4), 180° for a fisheye.
  const cap = d.model === 'fisheye' ? Math.PI : Math.tan((85 * Math.PI) / 180);
  if (d.model === 'none') return cap;
  const steps = 20000;
  let prev = 0;
  for (let i = 1; i <= steps; i++) {
    const r = (cap * i) / steps;
    const v = radialMap(d, r);
    if (v <= prev) return (cap * (i - 1)) / steps;
    prev = v;
  }
  return cap;
}

/** r in [0, rMax] with radialMap(r) = rd, by bisection (the map is increasing there). */
function invertRadial(d: Distortion, rd: number, rMax: number): number {
  // radialMap written out rather than called: a call the optimiser does not inline returns its number boxed, and
  // this loop runs 80 times for every corner on the event loop. With k4 = 0 the fisheye polynomial is the opencv
  // one, and with every k 0 the identity ('none'), bit for bit.
  const k1 = d.model === 'none' ? 0 : d.k1;
  const k2 = d.model === 'none' ? 0 : d.k2;
  const k3 = d.model === 'none' ? 0 : d.k3;
  const k4 = d.model === 'fisheye' ? d.k4 : 0;
  const h2 = rMax * rMax;
  if (rMax * (1 + h2 * (k1 + h2 * (k2 + h2 * (k3 + h2 * k4)))) <= rd) return rMax;
  // The bracket [lo, hi] lives in a typed array: as two `let`s, V8 (Node 20) kept one of them boxed and allocated a
  // number on every other step, 0.5 kB per corner (measured with the sampling heap profiler).
  const b = BRACKET;
  b[0] = 0;
  b[1] = rMax;
  for (let i = 0; i < 80; i++) {
    const mid = 0.5 * (b[0]! + b[1]!);
    const m2 = mid * mid;
    b[mid * (1 + m2 * (k1 + m2 * (k2 + m2 * (k3 + m2 * k4)))) < rd ? 0 : 1] = mid;
  }
  return 0.5 * (b[0]! + b[1]!);
}

/** invertRadial's bracket [lo, hi] (never reentrant). */
const BRACKET = new Float64Array(2);

/**
 * The same lens at another image size: intrinsics scaled with the image, distortion unchanged (it acts on the
 * normalised plane). How the simulator renders smaller than the calibrated size, and how a rig read out at another
 * size than its calibration's gets its intrinsics.
 */
export function scaledCalibration(model: CameraCalibration, width: number, height: number): CameraCalibration {
  const sx = width / model.width, sy = height / model.height;
  const k = model.intrinsics;
  // Pixel centres sit at integer coordinates: scale about the outer edge (-0.5), not about pixel 0.
  return {
    width,
    height,
    intrinsics: { fx: k.fx * sx, fy: k.fy * sy, cx: (k.cx + 0.5) * sx - 0.5, cy: (k.cy + 0.5) * sy - 0.5 },
    distortion: model.distortion,
  };
}
