/**
 * Worker thread of batch-preprocess.ts: turns the images of one FrameSet into the model's batched NCHW input,
 * using the training pipeline's own resampling (preprocess.ts), so the event loop never spends milliseconds on
 * pixels. Pixels and tensor live in SharedArrayBuffers handed over once per buffer slot; jobs are tiny messages.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Image8 } from './image-io.js';
import { Preprocessor, type InputSpec } from './preprocess.js';
import { lowerThisThreadPriority } from '../core/thread-priority.js';
import { preprocessNumbers, type PreprocessMessage } from './batch-preprocess.js';
import { ReplyWriter, type ReplyRing } from '../core/reply-ring.js';

const { spec, replies: ring } = workerData as { spec: InputSpec; replies: ReplyRing };
// Results go through shared memory, never as a message: see core/reply-ring.ts for the lock a message would share.
const replies = new ReplyWriter(ring);
const direct = new Preprocessor(spec);
// For an image whose channel count differs from the model's: resample the raw values first (scale 1, no
// normalisation) into a scratch plane, then convert and normalise per model channel.
const raw1 = new Preprocessor({ ...spec, channels: 1, scale: 1, mean: [0], std: [1] });
const plane = spec.width * spec.height;
const scratch = new Float32Array(3 * plane);
let gray = new Uint8Array(0);

function brightness(img: Image8): number {
  // Every 29th byte (prime, so it walks through all channels and columns) is plenty to tell a black or saturated
  // frame from a real one: 32 thousand samples of a 640×480 colour frame.
  let s = 0;
  let n = 0;
  for (let i = 0; i < img.data.length; i += 29) (s += img.data[i]!), n++;
  return n ? s / n : 0;
}

function into(img: Image8, out: Float32Array, slot: number): { sx: number; sy: number } {
  if (img.channels === spec.channels) return direct.into(img, out, slot);
  let src = img;
  if (img.channels === 3) {
    // RGB camera, gray model: luminance as the training pipeline's gray decode (image-io.ts).
    const n = img.width * img.height;
    if (gray.length < n) gray = new Uint8Array(n);
    for (let i = 0; i < n; i++) gray[i] = Math.round(0.299 * img.data[3 * i]! + 0.587 * img.data[3 * i + 1]! + 0.114 * img.data[3 * i + 2]!);
    src = { width: img.width, height: img.height, channels: 1, data: gray.subarray(0, n) };
  }
  const scale = raw1.into(src, scratch, 0);
  const base = slot * spec.channels * plane;
  for (let c = 0; c < spec.channels; c++) {
    const g = spec.scale / spec.std[c]!;
    const b = -spec.mean[c]! / spec.std[c]!;
    const o = base + c * plane;
    for (let i = 0; i < plane; i++) out[o + i] = scratch[i]! * g + b;
  }
  return scale;
}

const slots = new Map<number, { pixels: Uint8Array; tensor: Float32Array }>();

lowerThisThreadPriority(); // bulk work: the control loop on the main thread comes first
parentPort!.on('message', (job: PreprocessMessage) => {
  if (job.type === 'slot') {
    slots.set(job.slot, { pixels: new Uint8Array(job.pixels), tensor: new Float32Array(job.tensor) });
    return;
  }
  const t0 = performance.now();
  const { tensor, pixels } = slots.get(job.slot)!;
  const images = job.images.map((d, k) => {
    const img: Image8 = { width: d.width, height: d.height, channels: d.channels, data: pixels.subarray(d.offset, d.offset + d.width * d.height * d.channels) };
    const mean = brightness(img);
    return { ...into(img, tensor, k), mean };
  });
  replies.write(job.id, true, preprocessNumbers(performance.now() - t0, images));
});
