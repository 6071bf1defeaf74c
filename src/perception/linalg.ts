/**
 * Small dense linear algebra for the gate geometry (systems of at most 8 unknowns): Gauss-Jordan elimination with
 * partial pivoting. A singular system gives null (or false) instead of throwing: degenerate corners are an input
 * condition the caller reports, not a programming error.
 */

/** Scratch for invert: systems here are at most 8×8, and the geometry runs on the event loop per gate. */
let scratch = new Float64Array(8 * 17);

/**
 * Solves A·x = b in place, without allocating: M is the n×(n+1) augmented matrix [A | b], row-major; the
 * solution is left in its last column. False for a singular system. For the pose descents, which solve a 6×6
 * system several times per iteration for every gate of every FrameSet on the event loop, and PnP's 8×8 homography:
 * with a new system per solve, their garbage was most of the main thread's collections.
 */
export function solveInPlace(M: Float64Array, n: number): boolean {
  return eliminateInPlace(M, n, n + 1);
}

/**
 * Gauss-Jordan elimination with partial pivoting of an n-row, w-column row-major matrix [A | B] (A is n×n): A
 * becomes I and B becomes A⁻¹·B. False when A is singular.
 */
function eliminateInPlace(M: Float64Array, n: number, w: number): boolean {
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r * w + c]!) > Math.abs(M[p * w + c]!)) p = r;
    const pivot = M[p * w + c]!;
    if (!(Math.abs(pivot) > 1e-300) || !Number.isFinite(pivot)) return false;
    if (p !== c) {
      for (let k = 0; k < w; k++) {
        const tmp = M[c * w + k]!;
        M[c * w + k] = M[p * w + k]!;
        M[p * w + k] = tmp;
      }
    }
    for (let k = c; k < w; k++) M[c * w + k] = M[c * w + k]! / pivot;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = M[r * w + c]!;
      if (f === 0) continue;
      for (let k = c; k < w; k++) M[r * w + k] = M[r * w + k]! - f * M[c * w + k]!;
    }
  }
  return true;
}

/** Inverse of an n×n matrix, or null when singular: one Gauss-Jordan elimination of [A | I] in the scratch. */
export function invert(A: readonly (readonly number[])[]): number[][] | null {
  const n = A.length;
  const w = 2 * n;
  if (scratch.length < n * w) scratch = new Float64Array(n * w);
  const M = scratch;
  for (let i = 0; i < n; i++) {
    const row = A[i]!;
    for (let j = 0; j < n; j++) {
      M[i * w + j] = row[j]!;
      M[i * w + n + j] = i === j ? 1 : 0;
    }
  }
  if (!eliminateInPlace(M, n, w)) return null;
  const out: number[][] = [];
  for (let i = 0; i < n; i++) {
    const row = new Array<number>(n);
    for (let j = 0; j < n; j++) row[j] = M[i * w + n + j]!;
    out.push(row);
  }
  return out;
}

/** R·Σ·Rᵀ for a 3×3 rotation given row-major flat (the covariance of rotated vectors). */
export function rotateCov(R: readonly number[], S: readonly (readonly number[])[]): number[][] {
  const RS = [0, 1, 2].map((i) => [0, 1, 2].map((j) => R[3 * i]! * S[0]![j]! + R[3 * i + 1]! * S[1]![j]! + R[3 * i + 2]! * S[2]![j]!));
  return [0, 1, 2].map((i) => [0, 1, 2].map((j) => RS[i]![0]! * R[3 * j]! + RS[i]![1]! * R[3 * j + 1]! + RS[i]![2]! * R[3 * j + 2]!));
}
