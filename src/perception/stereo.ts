import type { Vec3 } from '../core/messages.js';
import { nearestRotation, type Mat3 } from './rotation.js';

/**
 * Two-view geometry of a stereo rig. OpenCV.js has no triangulatePoints, and the midpoint of the shortest segment
 * between two rays is all a calibrated pair needs: with the rays' directions exact up to the corner noise, its error
 * is the familiar z²·σ/(f·B) in depth.
 */

/** Midpoint of the closest approach of rays o1 + s·d1 and o2 + t·d2; null when parallel or behind either camera. */
export function triangulateMidpoint(o1: Vec3, d1: Vec3, o2: Vec3, d2: Vec3): { p: Vec3; gap: number } | null {
  const w0 = [o1[0] - o2[0], o1[1] - o2[1], o1[2] - o2[2]];
  const a = d1[0] * d1[0] + d1[1] * d1[1] + d1[2] * d1[2];
  const b = d1[0] * d2[0] + d1[1] * d2[1] + d1[2] * d2[2];
  const c = d2[0] * d2[0] + d2[1] * d2[1] + d2[2] * d2[2];
  const d = d1[0] * w0[0]! + d1[1] * w0[1]! + d1[2] * w0[2]!;
  const e = d2[0] * w0[0]! + d2[1] * w0[1]! + d2[2] * w0[2]!;
  const den = a * c - b * b;
  if (!(den > 1e-14 * a * c)) return null;
  const s = (b * e - c * d) / den;
  const t = (a * e - b * d) / den;
  if (!(s > 0 && t > 0)) return null;
  const p1: Vec3 = [o1[0] + s * d1[0], o1[1] + s * d1[1], o1[2] + s * d1[2]];
  const p2: Vec3 = [o2[0] + t * d2[0], o2[1] + t * d2[1], o2[2] + t * d2[2]];
  return { p: [(p1[0] + p2[0]) / 2, (p1[1] + p2[1]) / 2, (p1[2] + p2[2]) / 2], gap: Math.hypot(p1[0] - p2[0], p1[1] - p2[1], p1[2] - p2[2]) };
}

/** Gate-frame inner corners TL, TR, BR, BL for half side h (x right, y down, in the gate plane z = 0). */
export function squareCorners(h: number): Vec3[] {
  return [[-h, -h, 0], [h, -h, 0], [h, h, 0], [-h, h, 0]];
}

/**
 * Pose of a square of half side `half` from three or four of its corners measured in 3-D (null entries unknown):
 * the weighted least-squares rigid fit (Kabsch, solved with Horn's quaternion method). R maps gate-frame vectors
 * into the measurement frame, t is the square's centre there.
 */
export function fitSquare(points: readonly (Vec3 | null)[], half: number): { R: Mat3; t: Vec3 } | null {
  const obj = squareCorners(half);
  const idx = [0, 1, 2, 3].filter((i) => points[i]);
  if (idx.length < 3) return null;
  const mean = (sel: (i: number) => Vec3): Vec3 => {
    const m: Vec3 = [0, 0, 0];
    for (const i of idx) for (let k = 0; k < 3; k++) m[k] = m[k]! + sel(i)[k]! / idx.length;
    return m;
  };
  const pm = mean((i) => points[i]!);
  const om = mean((i) => obj[i]!);
  const M: Mat3 = [0, 0, 0, 0, 0, 0, 0, 0, 0];
  for (const i of idx) {
    const p = points[i]!;
    const o = obj[i]!;
    for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) M[3 * r + c] = M[3 * r + c]! + (p[r]! - pm[r]!) * (o[c]! - om[c]!);
  }
  const R = nearestRotation(M);
  const Ro: Vec3 = [R[0] * om[0] + R[1] * om[1] + R[2] * om[2], R[3] * om[0] + R[4] * om[1] + R[5] * om[2], R[6] * om[0] + R[7] * om[1] + R[8] * om[2]];
  return { R, t: [pm[0] - Ro[0], pm[1] - Ro[1], pm[2] - Ro[2]] };
}
