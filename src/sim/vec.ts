import type { Quat, Vec3 } from '../core/messages.js';
import { cross, dot, norm, quatRotate, scale } from '../core/vec3.js';

/**
 * The small amount of 3-D algebra the simulator needs: vectors and Hamilton quaternions [w, x, y, z] that rotate
 * body vectors into the world frame (q_ned_body). Plain functions on tuples, allocation per call is fine at the
 * simulator's rates (a few thousand steps per simulated second).
 */
export { add, cross, dot, norm, scale, sub } from '../core/vec3.js';
export function normalize(a: Vec3): Vec3 {
  const n = norm(a);
  return n > 0 ? scale(a, 1 / n) : [0, 0, 0];
}
export const clamp = (x: number, lo: number, hi: number): number => (x < lo ? lo : x > hi ? hi : x);

export function qmul(a: Quat, b: Quat): Quat {
  const [aw, ax, ay, az] = a;
  const [bw, bx, by, bz] = b;
  return [
    aw * bw - ax * bx - ay * by - az * bz,
    aw * bx + ax * bw + ay * bz - az * by,
    aw * by - ax * bz + ay * bw + az * bx,
    aw * bz + ax * by - ay * bx + az * bw,
  ];
}
export const qconj = (q: Quat): Quat => [q[0], -q[1], -q[2], -q[3]];
export function qnormalize(q: Quat): Quat {
  const n = Math.hypot(q[0], q[1], q[2], q[3]);
  return n > 0 ? [q[0] / n, q[1] / n, q[2] / n, q[3] / n] : [1, 0, 0, 0];
}
/** The same rotation with a non-negative scalar part (the short way round). */
export const qcanonical = (q: Quat): Quat => (q[0] < 0 ? [-q[0], -q[1], -q[2], -q[3]] : q);

/** Rotates v by q (body → world for q_ned_body). */
export const qrotate = quatRotate;

/** Third column of the rotation matrix: the body z axis (FRD: down through the frame) in the world frame. */
export const qdcmZ = (q: Quat): Vec3 => qrotate(q, [0, 0, 1]);

/** The shortest rotation taking direction a onto direction b (PX4 matrix::Quatf(a, b)). */
export function qfromTwoVectors(a: Vec3, b: Vec3): Quat {
  const c = cross(a, b);
  const d = dot(a, b) + Math.sqrt(dot(a, a) * dot(b, b));
  if (d < 1e-6 * Math.max(norm(a) * norm(b), 1e-12)) {
    // Opposite vectors: any perpendicular axis, half-turn.
    const axis = Math.abs(a[0]) > Math.abs(a[2]) ? normalize([-a[1], a[0], 0]) : normalize([0, -a[2], a[1]]);
    return [0, axis[0], axis[1], axis[2]];
  }
  return qnormalize([d, c[0], c[1], c[2]]);
}

/** Rotation matrix columns → quaternion (Shepperd's method, stable for every rotation). */
export function qfromColumns(x: Vec3, y: Vec3, z: Vec3): Quat {
  const m00 = x[0], m10 = x[1], m20 = x[2];
  const m01 = y[0], m11 = y[1], m21 = y[2];
  const m02 = z[0], m12 = z[1], m22 = z[2];
  const tr = m00 + m11 + m22;
  let q: Quat;
  if (tr > 0) {
    const s = Math.sqrt(tr + 1) * 2;
    q = [0.25 * s, (m21 - m12) / s, (m02 - m20) / s, (m10 - m01) / s];
  } else if (m00 > m11 && m00 > m22) {
    const s = Math.sqrt(1 + m00 - m11 - m22) * 2;
    q = [(m21 - m12) / s, 0.25 * s, (m01 + m10) / s, (m02 + m20) / s];
  } else if (m11 > m22) {
    const s = Math.sqrt(1 + m11 - m00 - m22) * 2;
    q = [(m02 - m20) / s, (m01 + m10) / s, 0.25 * s, (m12 + m21) / s];
  } else {
    const s = Math.sqrt(1 + m22 - m00 - m11) * 2;
    q = [(m10 - m01) / s, (m02 + m20) / s, (m12 + m21) / s, 0.25 * s];
  }
  return qcanonical(qnormalize(q));
}

/** Heading (rad) of a q_ned_body: the rotation about NED z, as PX4's Eulerf(q).psi(). */
export function qyaw(q: Quat): number {
  const [w, x, y, z] = q;
  return Math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z));
}

export const qfromYaw = (yaw: number): Quat => [Math.cos(yaw / 2), 0, 0, Math.sin(yaw / 2)];

/** Tilt (rad): the angle between the body z axis and the world's down direction. */
export const qtilt = (q: Quat): number => Math.acos(clamp(qdcmZ(q)[2], -1, 1));

/** Integrates a body-frame angular rate over dt exactly for constant rate (the rotation vector w·dt). */
export function qintegrate(q: Quat, w_body: Vec3, dt: number): Quat {
  const angle = norm(w_body) * dt;
  if (angle < 1e-12) return q;
  const axis = normalize(w_body);
  const s = Math.sin(angle / 2);
  return qnormalize(qmul(q, [Math.cos(angle / 2), axis[0] * s, axis[1] * s, axis[2] * s]));
}

export const wrapPi = (a: number): number => Math.atan2(Math.sin(a), Math.cos(a));
