/**
 * The few 3-D helpers the renderer needs, on plain tuples. Rotation matrices are row-major 3×3 arrays;
 * `R_a_b` rotates vectors from frame b into frame a (DESIGN.md naming).
 */
import type { Vec3 } from '../../core/messages.js';

export type Mat3 = [number, number, number, number, number, number, number, number, number];

/** A camera's pose in the world (local NED): where its optical centre is and how its OpenCV axes point. */
export interface CameraPose {
  p_ned_m: Vec3;
  /** Rotates camera vectors (x right, y down, z forward) into NED. */
  R_ned_cam: Mat3;
}

export const dot = (a: Vec3, b: Vec3): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
export const sub = (a: Vec3, b: Vec3): Vec3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
export const add = (a: Vec3, b: Vec3): Vec3 => [a[0] + b[0], a[1] + b[1], a[2] + b[2]];
export const scale = (a: Vec3, k: number): Vec3 => [a[0] * k, a[1] * k, a[2] * k];
export const cross = (a: Vec3, b: Vec3): Vec3 => [
  a[1] * b[2] - a[2] * b[1],
  a[2] * b[0] - a[0] * b[2],
  a[0] * b[1] - a[1] * b[0],
];
export const norm = (a: Vec3): number => Math.hypot(a[0], a[1], a[2]);
export const normalize = (a: Vec3): Vec3 => scale(a, 1 / norm(a));

export function mulMat(A: Mat3, B: Mat3): Mat3 {
  const C = new Array(9).fill(0) as Mat3;
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 3; j++) C[i * 3 + j] = A[i * 3]! * B[j]! + A[i * 3 + 1]! * B[3 + j]! + A[i * 3 + 2]! * B[6 + j]!;
  return C;
}

export function transpose(A: Mat3): Mat3 {
  return [A[0], A[3], A[6], A[1], A[4], A[7], A[2], A[5], A[8]];
}

export function mulVec(A: Mat3, v: Vec3): Vec3 {
  return [
    A[0] * v[0] + A[1] * v[1] + A[2] * v[2],
    A[3] * v[0] + A[4] * v[1] + A[5] * v[2],
    A[6] * v[0] + A[7] * v[1] + A[8] * v[2],
  ];
}

/** World point → camera frame. */
export function worldToCam(pose: CameraPose, p_ned: Vec3): Vec3 {
  return mulVec(transpose(pose.R_ned_cam), sub(p_ned, pose.p_ned_m));
}

/**
 * The rotation of a camera looking along a heading with pitch and roll, as a drone's forward camera would:
 * yaw about NED down, then pitch (positive: nose/camera up), then roll about the optical axis (positive: right wing
 * down, so the horizon tilts anticlockwise in the image).
 */
export function cameraRotation(yaw: number, pitch: number, roll: number): Mat3 {
  // Camera axes at zero angles: z forward = north, x right = east, y down = down.
  const cy = Math.cos(yaw), sy = Math.sin(yaw);
  const cp = Math.cos(pitch), sp = Math.sin(pitch);
  const cr = Math.cos(roll), sr = Math.sin(roll);
  const fwd: Vec3 = [cy * cp, sy * cp, -sp];
  const right0: Vec3 = [-sy, cy, 0];
  const down0 = cross(fwd, right0);
  // Roll the right/down pair about the forward axis.
  const right = add(scale(right0, cr), scale(down0, sr));
  const down = sub(scale(down0, cr), scale(right0, sr));
  // Columns are the camera axes expressed in NED.
  return [right[0], down[0], fwd[0], right[1], down[1], fwd[1], right[2], down[2], fwd[2]];
}
