import type { Image8 } from './image-io.js';

/** What the model expects, read from its metadata (see model-info.ts). */
export interface InputSpec {
  width: number;
  height: number;
  channels: 1 | 3;
  /** Applied as ((pixel * scale) - mean[c]) / std[c]. */
  scale: number;
  mean: readonly number[];
  std: readonly number[];
}

interface Axis {
  i0: Int32Array;
  i1: Int32Array;
  /** i0 and i1 times the channel count: byte offsets within a row. */
  o0: Int32Array;
  o1: Int32Array;
  f: Float32Array;
}

/**
 * Whole frame → NCHW float tensor slot: bilinear resize sampled at pixel centres (edge clamped), then normalised.
 * This is exactly the sampling the training pipeline uses (models/gatedet/data.py `plain_resize`), so the network
 * sees here the pixels it was trained on. Sampling tables are cached per source size: frames of one camera reuse them.
 */
export class Preprocessor {
  private axes = new Map<string, Axis>();
  // Normalisation folded into one multiply-add per value: v * gain[c] + bias[c].
  private readonly gain: Float32Array;
  private readonly bias: Float32Array;

  constructor(readonly spec: InputSpec) {
    this.gain = Float32Array.from({ length: spec.channels }, (_, c) => spec.scale / spec.std[c]!);
    this.bias = Float32Array.from({ length: spec.channels }, (_, c) => -spec.mean[c]! / spec.std[c]!);
  }

  /** Floats per image in the tensor. */
  get size(): number {
    return this.spec.channels * this.spec.width * this.spec.height;
  }

  /** A batch tensor buffer to reuse between calls. */
  allocate(batch: number): Float32Array {
    return new Float32Array(batch * this.size);
  }

  /** Writes img into slot `index` of `out` (NCHW). Returns the scale from network input pixels to image pixels. */
  into(img: Image8, out: Float32Array, index = 0): { sx: number; sy: number } {
    const { width: W, height: H, channels: C } = this.spec;
    if (img.channels !== C) throw new Error(`image has ${img.channels} channels, model wants ${C}`);
    const ax = this.axis(img.width, W);
    const ay = this.axis(img.height, H);
    const base = index * this.size;
    const plane = W * H;
    const d = img.data;
    const row = img.width * C;
    // The four bilinear weights are computed once per output pixel and shared by its channels, the column offsets
    // are precomputed in bytes, and colour is unrolled (a generic per-channel inner loop was slower in a throw-away
    // microbenchmark). `racepilot bench perception` shows what the stage costs (preprocess p50).
    const o0 = ax.o0;
    const o1 = ax.o1;
    const fxs = ax.f;
    if (C === 3) {
      const [g0, g1, g2] = [this.gain[0]!, this.gain[1]!, this.gain[2]!];
      const [b0, b1, b2] = [this.bias[0]!, this.bias[1]!, this.bias[2]!];
      for (let y = 0; y < H; y++) {
        const r0 = ay.i0[y]! * row;
        const r1 = ay.i1[y]! * row;
        const fy = ay.f[y]!;
        const gy = 1 - fy;
        let o = base + y * W;
        for (let x = 0; x < W; x++, o++) {
          const fx = fxs[x]!;
          const w00 = (1 - fx) * gy;
          const w01 = fx * gy;
          const w10 = (1 - fx) * fy;
          const w11 = fx * fy;
          const a0 = r0 + o0[x]!;
          const a1 = r0 + o1[x]!;
          const c0 = r1 + o0[x]!;
          const c1 = r1 + o1[x]!;
          out[o] = (d[a0]! * w00 + d[a1]! * w01 + d[c0]! * w10 + d[c1]! * w11) * g0 + b0;
          out[o + plane] = (d[a0 + 1]! * w00 + d[a1 + 1]! * w01 + d[c0 + 1]! * w10 + d[c1 + 1]! * w11) * g1 + b1;
          out[o + 2 * plane] = (d[a0 + 2]! * w00 + d[a1 + 2]! * w01 + d[c0 + 2]! * w10 + d[c1 + 2]! * w11) * g2 + b2;
        }
      }
    } else {
      const g = this.gain[0]!;
      const b = this.bias[0]!;
      for (let y = 0; y < H; y++) {
        const r0 = ay.i0[y]! * row;
        const r1 = ay.i1[y]! * row;
        const fy = ay.f[y]!;
        const gy = 1 - fy;
        let o = base + y * W;
        for (let x = 0; x < W; x++, o++) {
          const fx = fxs[x]!;
          const top = d[r0 + ax.i0[x]!]! * (1 - fx) + d[r0 + ax.i1[x]!]! * fx;
          const bot = d[r1 + ax.i0[x]!]! * (1 - fx) + d[r1 + ax.i1[x]!]! * fx;
          out[o] = (top * gy + bot * fy) * g + b;
        }
      }
    }
    return { sx: img.width / W, sy: img.height / H };
  }

  private axis(src: number, dst: number): Axis {
    const key = `${src}:${dst}`;
    let a = this.axes.get(key);
    if (!a) {
      a = { i0: new Int32Array(dst), i1: new Int32Array(dst), o0: new Int32Array(dst), o1: new Int32Array(dst), f: new Float32Array(dst) };
      for (let u = 0; u < dst; u++) {
        const s = Math.min(Math.max((u + 0.5) * (src / dst), 0.5), src - 0.5) - 0.5;
        const i0 = Math.floor(s);
        a.i0[u] = i0;
        a.i1[u] = Math.min(i0 + 1, src - 1);
        a.f[u] = s - i0;
        a.o0[u] = a.i0[u]! * this.spec.channels;
        a.o1[u] = a.i1[u]! * this.spec.channels;
      }
      this.axes.set(key, a);
    }
    return a;
  }
}
