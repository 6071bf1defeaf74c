import type { Quat, Vec3 } from '../core/messages.js';
import { mat3Apply as apply3, mat3Mul as mul3, mat3Transpose as transpose3, type Mat3 } from '../core/vec3.js';

export { apply3, mul3, transpose3, type Mat3 };

/**
 * Rotation helpers for the gate geometry, on row-major 3×3 arrays (`R_a_b` rotates frame-b vectors into frame a, as
 * camera/rig.ts) and [w, x, y, z] quaternions (core/messages.ts). Pure numerics, no allocation beyond results.
 */

export const I3: Mat3 = [1, 0, 0, 0, 1, 0, 0, 0, 1];




/** exp of the skew matrix of w (Rodrigues): the rotation by |w| rad about w. */
export function expRot(w: Vec3): Mat3 {
  const th = Math.hypot(w[0], w[1], w[2]);
  if (th < 1e-12) return [1, -w[2], w[1], w[2], 1, -w[0], -w[1], w[0], 1];
  const [x, y, z] = [w[0] / th, w[1] / th, w[2] / th];
  const c = Math.cos(th);
  const s = Math.sin(th);
  const C = 1 - c;
  return [
    c + x * x * C, x * y * C - z * s, x * z * C + y * s,
    y * x * C + z * s, c + y * y * C, y * z * C - x * s,
    z * x * C - y * s, z * y * C + x * s, c + z * z * C,
  ];
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
  const n = Math.hypot(...q) * (q[0] < 0 ? -1 : 1);
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
  const N = [
    [sxx + syy + szz, szy - syz, sxz - szx, syx - sxy],
    [szy - syz, sxx - syy - szz, sxy + syx, szx + sxz],
    [sxz - szx, sxy + syx, -sxx + syy - szz, syz + szy],
    [syx - sxy, szx + sxz, syz + szy, -sxx - syy + szz],
  ];
  const { values, vectors } = jacobiEigen4(N);
  let best = 0;
  for (let i = 1; i < 4; i++) if (values[i]! > values[best]!) best = i;
  const q: Quat = [vectors[0]![best]!, vectors[1]![best]!, vectors[2]![best]!, vectors[3]![best]!];
  const n = Math.hypot(...q);
  return matFromQuat([q[0] / n, q[1] / n, q[2] / n, q[3] / n]);
}

/** Eigen-decomposition of a symmetric 4×4 (columns of `vectors` are the eigenvectors). */
export function jacobiEigen4(A0: number[][]): { values: number[]; vectors: number[][] } {
  const A = A0.map((r) => [...r]);
  const V: number[][] = [0, 1, 2, 3].map((i) => [0, 1, 2, 3].map((j) => (i === j ? 1 : 0)));
  for (let sweep = 0; sweep < 30; sweep++) {
    let off = 0;
    for (let p = 0; p < 4; p++) for (let q = p + 1; q < 4; q++) off += A[p]![q]! ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < 4; p++) {
      for (let q = p + 1; q < 4; q++) {
        const apq = A[p]![q]!;
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (A[q]![q]! - A[p]![p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < 4; k++) {
          const akp = A[k]![p]!;
          const akq = A[k]![q]!;
          A[k]![p] = c * akp - s * akq;
          A[k]![q] = s * akp + c * akq;
        }
        for (let k = 0; k < 4; k++) {
          const apk = A[p]![k]!;
          const aqk = A[q]![k]!;
          A[p]![k] = c * apk - s * aqk;
          A[q]![k] = s * apk + c * aqk;
        }
        for (let k = 0; k < 4; k++) {
          const vkp = V[k]![p]!;
          const vkq = V[k]![q]!;
          V[k]![p] = c * vkp - s * vkq;
          V[k]![q] = s * vkp + c * vkq;
        }
      }
    }
  }
  return { values: [0, 1, 2, 3].map((i) => A[i]![i]!), vectors: V };
}
