import { Worker } from 'node:worker_threads';
import type { InputSpec } from './preprocess.js';
import { createReplyRing, type Reply, type ReplyRingShape } from '../core/reply-ring.js';
import { WorkerRequests } from '../core/worker-requests.js';

/** One image handed to the batch: 8-bit, interleaved, rows without padding. */
export interface BatchImage {
  width: number;
  height: number;
  channels: 1 | 3;
  data: Uint8Array;
}

/** Messages to the worker: a (new or grown) buffer slot, or a job on one. */
export type PreprocessMessage =
  | { type: 'slot'; slot: number; pixels: SharedArrayBuffer; tensor: SharedArrayBuffer }
  | { type: 'job'; id: number; slot: number; images: { width: number; height: number; channels: 1 | 3; offset: number }[] };

/**
 * The worker's replies come through a shared ring (core/reply-ring.ts), not as messages: numbers [ms, then per image
 * sx, sy, mean]. Eight slots: more than the two or three FrameSets in flight; should more ever be, the worker waits
 * for the event loop to read (never overwrites).
 */
export const preprocessReplies = (maxBatch: number): ReplyRingShape => ({ slots: 8, numbers: 1 + 3 * maxBatch, textBytes: 0 });

/** The reply's numbers for one batch (written by preprocess-worker.ts): its time, then each image's scale and mean. */
export function preprocessNumbers(ms: number, images: readonly { sx: number; sy: number; mean: number }[]): number[] {
  const out = [ms];
  for (const { sx, sy, mean } of images) out.push(sx, sy, mean);
  return out;
}

/** A reply's numbers (preprocessNumbers) as the result they carry. */
export function preprocessResult(r: Reply): PreprocessResult {
  const n = (r.numbers.length - 1) / 3;
  const scales: { sx: number; sy: number }[] = [];
  const means: number[] = [];
  for (let k = 0; k < n; k++) {
    scales.push({ sx: r.numbers[1 + 3 * k]!, sy: r.numbers[2 + 3 * k]! });
    means.push(r.numbers[3 + 3 * k]!);
  }
  return { id: r.id, scales, means, ms: r.numbers[0]! };
}

export interface PreprocessResult {
  id: number;
  /** Per image: network-input pixels to image pixels. */
  scales: { sx: number; sy: number }[];
  /** Per image: mean byte value (0..255), for black and saturated frames. */
  means: number[];
  /** Time the worker spent (ms). */
  ms: number;
}

/**
 * A filled batch tensor (in a SharedArrayBuffer: hand it to a worker without copying; ONNX Runtime in this thread
 * needs it copied, which DetectorSession.run does); `release` hands the buffers back once inference is done with it.
 */
export interface Batch {
  tensor: Float32Array;
  batch: number;
  scales: { sx: number; sy: number }[];
  means: number[];
  workerMs: number;
  /** Event-loop time spent copying the pixels into shared memory (ms), and its longest single stretch. */
  copyMs: number;
  copyMaxSliceMs: number;
  release(): void;
}

interface Slot {
  index: number;
  pixels: SharedArrayBuffer;
  /** The batch tensor in shared memory: the inference worker reads it where the preprocessing worker wrote it. */
  shared: Float32Array;
}

/**
 * Pre-processing of a FrameSet's images into one batched tensor, off the event loop. The event loop copies the
 * camera bytes into shared memory (camera buffers are pooled by their sources and cannot be given away) and the
 * worker's tensor out of it; the worker resizes, converts and normalises. `depth` buffer slots circulate, so the
 * next FrameSet can be prepared while the previous one is inferred. Nothing is allocated or transferred per frame:
 * passing ArrayBuffers back and forth by transfer was measured to drive V8 into a scavenge every few milliseconds
 * (external-memory accounting), with pauses up to ~50 ms on the event loop.
 */
export class BatchPreprocessor {
  private readonly worker: Worker;
  private readonly requests: WorkerRequests;
  private readonly free: Slot[] = [];
  private slotCount = 0;
  readonly floatsPerImage: number;

  constructor(readonly spec: InputSpec, readonly maxBatch = 8, depth = 2) {
    this.floatsPerImage = spec.channels * spec.width * spec.height;
    const ring = createReplyRing(preprocessReplies(maxBatch));
    this.worker = new Worker(new URL('./preprocess-worker.js', import.meta.url), { workerData: { spec, replies: ring } });
    this.requests = new WorkerRequests(this.worker, ring);
    for (let i = 0; i < depth; i++) this.free.push(this.newSlot(640 * 480 * maxBatch));
    this.worker.on('error', (err) => this.requests.lose(err));
    this.worker.on('exit', (code) => this.requests.lose(new Error(`preprocessing worker exited with code ${code}`)));
    // The worker keeps the process alive only while a job is out: an idle stage must not block a clean exit.
    this.worker.unref();
  }

  /**
   * Should more batches be in flight than `depth`, another buffer pair is made (and then kept), never a wait.
   */
  private acquire(): Slot {
    return this.free.pop() ?? this.newSlot(640 * 480 * this.maxBatch);
  }

  private newSlot(pixelBytes: number, index = this.slotCount++): Slot {
    const floats = this.maxBatch * this.floatsPerImage;
    const shared = new SharedArrayBuffer(floats * 4);
    const slot: Slot = { index, pixels: new SharedArrayBuffer(pixelBytes), shared: new Float32Array(shared) };
    const msg: PreprocessMessage = { type: 'slot', slot: index, pixels: slot.pixels, tensor: shared };
    this.worker.postMessage(msg);
    return slot;
  }

  private giveBack(b: Slot): void {
    this.free.push(b);
  }

  /** Buffer pairs made so far that are idle (for tests: reuse means this does not grow). */
  get idleBuffers(): number {
    return this.free.length;
  }

  /**
   * Fills a batch tensor from up to maxBatch images (slot k of the tensor is images[k]). `onSlice` hears of each
   * stretch the copy held the event loop (performance.now() start, ms): benches attribute loop stalls with it.
   */
  async run(images: readonly BatchImage[], onSlice?: (startMs: number, ms: number) => void): Promise<Batch> {
    if (this.requests.lost) throw this.requests.lost;
    if (images.length === 0 || images.length > this.maxBatch) throw new RangeError(`batch of ${images.length} images, 1..${this.maxBatch} allowed`);
    let bytes = 0;
    for (const img of images) {
      const n = img.width * img.height * img.channels;
      if (img.data.length < n) throw new RangeError(`image data has ${img.data.length} bytes, ${img.width}x${img.height}x${img.channels} needs ${n}`);
      bytes += n;
    }
    let buf = this.acquire();
    // Grow once to the largest FrameSet seen (with headroom), then reuse.
    if (buf.pixels.byteLength < bytes) buf = this.newSlot(Math.ceil(bytes * 1.25), buf.index);
    const px = new Uint8Array(buf.pixels);
    let offset = 0;
    const desc: { width: number; height: number; channels: 1 | 3; offset: number }[] = [];
    // One image per turn of the event loop: a FrameSet's 7 MB in one go held the loop for 0.8 ms typically and for
    // 5 ms at the 99th percentile while the workers stream memory beside it. Camera pixels stay valid for
    // `camera.bufferFrames` frames (CameraImage.data), far longer than these few turns.
    const copy = { ms: 0, maxSliceMs: 0 };
    for (let k = 0; k < images.length; k++) {
      await new Promise<void>((r) => setImmediate(r)); // the first too: the caller may start other batches meanwhile
      const t = performance.now();
      const img = images[k]!;
      const n = img.width * img.height * img.channels;
      px.set(img.data.subarray(0, n), offset);
      desc.push({ width: img.width, height: img.height, channels: img.channels, offset });
      offset += n;
      const ms = performance.now() - t;
      copy.ms += ms;
      copy.maxSliceMs = Math.max(copy.maxSliceMs, ms);
      onSlice?.(t, ms);
    }
    // The worker may have died during the copy's turns of the loop: then the request fails at once.
    let r: PreprocessResult;
    try {
      const reply = await this.requests.request((id) => {
        const job: PreprocessMessage = { type: 'job', id, slot: buf.index, images: desc };
        this.worker.postMessage(job);
      });
      if (!reply.ok) throw new Error(`preprocessing failed: ${reply.text || 'no reason given'}`);
      r = preprocessResult(reply);
    } catch (err) {
      this.giveBack(buf);
      throw err;
    }
    const n = images.length * this.floatsPerImage;
    let released = false;
    return {
      tensor: buf.shared.subarray(0, n),
      batch: images.length,
      scales: r.scales,
      means: r.means,
      workerMs: r.ms,
      copyMs: copy.ms,
      copyMaxSliceMs: copy.maxSliceMs,
      release: () => {
        if (released) return;
        released = true;
        this.giveBack(buf);
      },
    };
  }

  async close(): Promise<void> {
    // An unref'd worker's termination does not hold the event loop open, and the await would be abandoned.
    this.worker.ref();
    await this.worker.terminate();
  }
}
