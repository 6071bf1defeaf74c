/**
 * A small dense Kalman filter for the gate map: a few dozen states at most (drift + 3 per gate), updated with
 * 3-dimensional position observations, so plain arrays beat pulling in a linear-algebra library.
 */
export class LinearKalman {
  readonly n: number;
  readonly x: Float64Array;
  /** Covariance, row-major n×n. */
  readonly P: Float64Array;

  constructor(x0: ArrayLike<number>, P0diag: ArrayLike<number>) {
    this.n = x0.length;
    this.x = Float64Array.from(x0);
    this.P = new Float64Array(this.n * this.n);
    for (let i = 0; i < this.n; i++) this.P[i * this.n + i] = P0diag[i]!;
  }

  /** Random-walk prediction: adds process noise q·dt to the listed states' variances. */
  addProcessNoise(states: number[], variance: number): void {
    for (const i of states) this.P[i * this.n + i]! += variance;
  }

  /**
   * Innovation of an observation z = Σ_k x[idx_k] (per axis) for a sum of state blocks, e.g. gate + drift.
   * `blocks` are start indices of 3-state blocks whose sum is observed. Returns the innovation and its covariance.
   */
  innovation(blocks: number[], z: ArrayLike<number>, R: ArrayLike<number>): { y: number[]; S: number[] } {
    const y = [0, 1, 2].map((a) => z[a]! - blocks.reduce((s, b) => s + this.x[b + a]!, 0));
    const S = new Array<number>(9).fill(0);
    for (let a = 0; a < 3; a++)
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (const b1 of blocks) for (const b2 of blocks) s += this.P[(b1 + a) * this.n + (b2 + c)]!;
        S[a * 3 + c] = s + R[a * 3 + c]!;
      }
    return { y, S };
  }

  /** Mahalanobis distance squared of an innovation: for gating and outlier rejection. */
  static mahalanobis2(y: number[], S: number[]): number {
    const Si = inv3(S);
    if (!Si) return Infinity;
    let d = 0;
    for (let a = 0; a < 3; a++) for (let c = 0; c < 3; c++) d += y[a]! * Si[a * 3 + c]! * y[c]!;
    return d;
  }

  /** Standard update for an observation of a sum of 3-state blocks. Joseph form keeps P symmetric and positive. */
  update(blocks: number[], z: ArrayLike<number>, R: ArrayLike<number>): boolean {
    const { y, S } = this.innovation(blocks, z, R);
    const Si = inv3(S);
    if (!Si) return false;
    const n = this.n;
    // PHt = P Hᵀ (n×3): sum of the P columns of the observed blocks.
    const PHt = new Float64Array(n * 3);
    for (let i = 0; i < n; i++)
      for (let a = 0; a < 3; a++) {
        let s = 0;
        for (const b of blocks) s += this.P[i * n + b + a]!;
        PHt[i * 3 + a] = s;
      }
    const K = new Float64Array(n * 3);
    for (let i = 0; i < n; i++)
      for (let a = 0; a < 3; a++) {
        let s = 0;
        for (let c = 0; c < 3; c++) s += PHt[i * 3 + c]! * Si[c * 3 + a]!;
        K[i * 3 + a] = s;
      }
    for (let i = 0; i < n; i++) this.x[i]! += K[i * 3]! * y[0]! + K[i * 3 + 1]! * y[1]! + K[i * 3 + 2]! * y[2]!;
    // P ← P − K S Kᵀ (equivalent to (I−KH)P for the optimal gain), then symmetrise.
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let a = 0; a < 3; a++) s += K[i * 3 + a]! * PHt[j * 3 + a]!;
        this.P[i * n + j]! -= s;
      }
    for (let i = 0; i < n; i++)
      for (let j = i + 1; j < n; j++) {
        const m = 0.5 * (this.P[i * n + j]! + this.P[j * n + i]!);
        this.P[i * n + j] = m;
        this.P[j * n + i] = m;
      }
    return true;
  }

  /** 1-sigma of a 3-state block, as the root of the mean variance of its axes. */
  sigma(block: number): number {
    const n = this.n;
    return Math.sqrt((this.P[block * n + block]! + this.P[(block + 1) * n + block + 1]! + this.P[(block + 2) * n + block + 2]!) / 3);
  }
}

export function inv3(m: ArrayLike<number>): number[] | null {
  const [a, b, c, d, e, f, g, h, i] = Array.from(m) as number[];
  const A = e! * i! - f! * h!;
  const B = -(d! * i! - f! * g!);
  const C = d! * h! - e! * g!;
  const det = a! * A + b! * B + c! * C;
  if (!(Math.abs(det) > 1e-15)) return null;
  const r = 1 / det;
  return [
    A * r,
    -(b! * i! - c! * h!) * r,
    (b! * f! - c! * e!) * r,
    B * r,
    (a! * i! - c! * g!) * r,
    -(a! * f! - c! * d!) * r,
    C * r,
    -(a! * h! - b! * g!) * r,
    (a! * e! - b! * d!) * r,
  ];
}
