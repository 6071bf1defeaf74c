import type { Quat, Vec3 } from '../core/messages.js';
import { mat3Apply as apply3, mat3Mul as mul3, mat3Transpose as transpose3, type Mat3 } from '../core/vec3.js';

export { apply3, mul3, transpose3, type Mat3 };

/**
 * Rotation helpers for the gate geometry, on row-major 3×3 arrays (`R_a_b` rotates frame-b vectors into frame a, as
 * camera/rig.ts) and [w, x, y, z] quaternions (core/messages.ts). Pure numerics; the `…Into` forms write into the
 * caller's arrays, for the loops that run per gate on the event loop.
 */

export const I3: Mat3 = [1, 0, 0, 0, 1, 0, 0, 0, 1];

/** exp of the skew matrix of w (Rodrigues): the rotation by |w| rad about w. */
export function expRot(w: Vec3): Mat3 {
  return expRotInto([0, 0, 0, 0, 0, 0, 0, 0, 0], w[0], w[1], w[2]);
}

/**
 * expRot written into `out`, for the pose descents: they take a rotation step for every trial of every iteration of
 * every gate on the event loop, and their small arrays were most of the main thread's garbage.
 */
export function expRotInto(out: Mat3, w0: number, w1: number, w2: number): Mat3 {
  // Not Math.hypot: V8's builtin allocates for its arguments when called from optimised code.
  const th = Math.sqrt(w0 * w0 + w1 * w1 + w2 * w2);
  if (th < 1e-12) {
    out[0] = 1, out[1] = -w2, out[2] = w1;
    out[3] = w2, out[4] = 1, out[5] = -w0;
    out[6] = -w1, out[7] = w0, out[8] = 1;
    return out;
  }
  const x = w0 / th, y = w1 / th, z = w2 / th;
  const c = Math.cos(th);
  const s = Math.sin(th);
  const C = 1 - c;
  out[0] = c + x * x * C, out[1] = x * y * C - z * s, out[2] = x * z * C + y * s;
  out[3] = y * x * C + z * s, out[4] = c + y * y * C, out[5] = y * z * C - x * s;
  out[6] = z * x * C - y * s, out[7] = z * y * C + x * s, out[8] = c + z * z * C;
  return out;
}

/** a·b written into `out` (which must be neither a nor b). */
export function mul3Into(out: Mat3, a: Mat3, b: Mat3): Mat3 {
  for (let i = 0; i < 3; i++) {
    const a0 = a[3 * i], a1 = a[3 * i + 1], a2 = a[3 * i + 2];
    out[3 * i] = a0 * b[0] + a1 * b[3] + a2 * b[6];
    out[3 * i + 1] = a0 * b[1] + a1 * b[4] + a2 * b[7];
    out[3 * i + 2] = a0 * b[2] + a1 * b[5] + a2 * b[8];
  }
  return out;
}

export function quatFromMat(m: Mat3): Quat {
  // Shepperd's method: branch on the largest diagonal term for accuracy.
  const tr = m[0] + m[4] + m[8];
  let q: Quat;
  if (tr > 0) {
    const s = Math.sqrt(tr + 1) * 2;
    q = [0.25 * s, (m[7] - m[5]) / s, (m[2] - m[6]) / s, (m[3] - m[1]) / s];
  } else if (m[0] > m[4] && m[0] > m[8]) {
    const s = Math.sqrt(1 + m[0] - m[4] - m[8]) * 2;
    q = [(m[7] - m[5]) / s, 0.25 * s, (m[1] + m[3]) / s, (m[2] + m[6]) / s];
  } else if (m[4] > m[8]) {
    const s = Math.sqrt(1 + m[4] - m[0] - m[8]) * 2;
    q = [(m[2] - m[6]) / s, (m[1] + m[3]) / s, 0.25 * s, (m[5] + m[7]) / s];
  } else {
    const s = Math.sqrt(1 + m[8] - m[0] - m[4]) * 2;
    q = [(m[3] - m[1]) / s, (m[2] + m[6]) / s, (m[5] + m[7]) / s, 0.25 * s];
  }
  const n = Math.sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]) * (q[0] < 0 ? -1 : 1);
  return [q[0] / n, q[1] / n, q[2] / n, q[3] / n];
}

export function matFromQuat(q: Quat): Mat3 {
  const [w, x, y, z] = q;
  return [
    1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
    2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
    2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
  ];
}

/** Angle (rad) of the rotation taking a to b. */
export function rotationAngle(a: Mat3, b: Mat3): number {
  const r = mul3(transpose3(a), b);
  return Math.acos(Math.min(1, Math.max(-1, (r[0] + r[4] + r[8] - 1) / 2)));
}

/**
 * The rotation R maximising Σ_ij R_ij·M_ij, i.e. the nearest rotation to M (M = Σ w·a·bᵀ for Kabsch alignment of
 * points b onto a), by Horn's quaternion method: the eigenvector of the largest eigenvalue of a symmetric 4×4,
 * found with cyclic Jacobi sweeps (a fixed, tiny amount of work, and robust for repeated eigenvalues).
 */
export function nearestRotation(M: Mat3): Mat3 {
  const [sxx, sxy, sxz, syx, syy, syz, szx, szy, szz] = M;
  const N = EIG_A;
  N[0] = sxx + syy + szz, N[1] = szy - syz, N[2] = sxz - szx, N[3] = syx - sxy;
  N[5] = sxx - syy - szz, N[6] = sxy + syx, N[7] = szx + sxz;
  N[10] = -sxx + syy - szz, N[11] = syz + szy;
  N[15] = -sxx - syy + szz;
  N[4] = N[1], N[8] = N[2], N[12] = N[3], N[9] = N[6], N[13] = N[7], N[14] = N[11];
  const V = EIG_V;
  jacobiEigen4InPlace(N, V);
  let best = 0;
  for (let i = 1; i < 4; i++) if (N[5 * i]! > N[5 * best]!) best = i;
  const q0 = V[best]!, q1 = V[4 + best]!, q2 = V[8 + best]!, q3 = V[12 + best]!;
  const n = Math.sqrt(q0 * q0 + q1 * q1 + q2 * q2 + q3 * q3);
  return matFromQuat([q0 / n, q1 / n, q2 / n, q3 / n]);
}

/** Scratch of nearestRotation's eigenproblem (row-major 4×4): it runs for every gate on the event loop. */
const EIG_A = new Float64Array(16);
const EIG_V = new Float64Array(16);

/**
 * Cyclic Jacobi sweeps on a symmetric 4×4 held row-major in A: A ends (nearly) diagonal with the eigenvalues, and V
 * (set to the identity first) holds the eigenvectors as its columns.
 */
function jacobiEigen4InPlace(A: Float64Array, V: Float64Array): void {
  V.fill(0);
  V[0] = V[5] = V[10] = V[15] = 1;
  for (let sweep = 0; sweep < 30; sweep++) {
    let off = 0;
    for (let p = 0; p < 4; p++) for (let q = p + 1; q < 4; q++) off += A[4 * p + q]! * A[4 * p + q]!;
    if (off < 1e-30) break;
    for (let p = 0; p < 4; p++) {
      for (let q = p + 1; q < 4; q++) {
        const apq = A[4 * p + q]!;
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (A[5 * q]! - A[5 * p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < 4; k++) {
          const akp = A[4 * k + p]!;
          const akq = A[4 * k + q]!;
          A[4 * k + p] = c * akp - s * akq;
          A[4 * k + q] = s * akp + c * akq;
        }
        for (let k = 0; k < 4; k++) {
          const apk = A[4 * p + k]!;
          const aqk = A[4 * q + k]!;
          A[4 * p + k] = c * apk - s * aqk;
          A[4 * q + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < 4; k++) {
          const vkp = V[4 * k + p]!;
          const vkq = V[4 * k + q]!;
          V[4 * k + p] = c * vkp - s * vkq;
          V[4 * k + q] = s * vkp + c * vkq;
        }
      }
    }
  }
}
