/**
 * The few 3-D helpers the renderer needs, on plain tuples. Rotation matrices are row-major 3×3 arrays;
 * `R_a_b` rotates vectors from frame b into frame a (DESIGN.md naming).
 */
import type { Vec3 } from '../../core/messages.js';
import { add, cross, dot, mat3Apply as mulVec, mat3Mul as mulMat, mat3Transpose as transpose, norm, scale, sub, type Mat3 } from '../../core/vec3.js';

export { add, cross, dot, mulMat, mulVec, norm, scale, sub, transpose, type Mat3 };
export const normalize = (a: Vec3): Vec3 => scale(a, 1 / norm(a));

/** A camera's pose in the world (local NED): where its optical centre is and how its OpenCV axes point. */
export interface CameraPose {
  p_ned_m: Vec3;
  /** Rotates camera vectors (x right, y down, z forward) into NED. */
  R_ned_cam: Mat3;
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
