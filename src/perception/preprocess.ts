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
    for (let y = 0; y < H; y++) {
      const r0 = ay.i0[y]! * img.width;
      const r1 = ay.i1[y]! * img.width;
      const fy = ay.f[y]!;
      for (let x = 0; x < W; x++) {
        const k00 = (r0 + ax.i0[x]!) * C;
        const k01 = (r0 + ax.i1[x]!) * C;
        const k10 = (r1 + ax.i0[x]!) * C;
        const k11 = (r1 + ax.i1[x]!) * C;
        const fx = ax.f[x]!;
        const o = base + y * W + x;
        for (let c = 0; c < C; c++) {
          const top = d[k00 + c]! * (1 - fx) + d[k01 + c]! * fx;
          const bot = d[k10 + c]! * (1 - fx) + d[k11 + c]! * fx;
          out[o + c * plane] = (top * (1 - fy) + bot * fy) * this.gain[c]! + this.bias[c]!;
        }
      }
    }
    return { sx: img.width / W, sy: img.height / H };
  }

  private axis(src: number, dst: number): Axis {
    const key = `${src}:${dst}`;
    let a = this.axes.get(key);
    if (!a) {
      a = { i0: new Int32Array(dst), i1: new Int32Array(dst), f: new Float32Array(dst) };
      for (let u = 0; u < dst; u++) {
        const s = Math.min(Math.max((u + 0.5) * (src / dst), 0.5), src - 0.5) - 0.5;
        const i0 = Math.floor(s);
        a.i0[u] = i0;
        a.i1[u] = Math.min(i0 + 1, src - 1);
        a.f[u] = s - i0;
      }
      this.axes.set(key, a);
    }
    return a;
  }
}
