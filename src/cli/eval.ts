import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { InputError, UsageError } from '../core/errors.js';
import { Progress } from './progress.js';
import { perceptionSchema } from '../core/config/perception.js';
import { decodeGates, type DecodedGate } from '../perception/decode.js';
import { readImage } from '../perception/image-io.js';
import { readLabels } from '../perception/labels.js';
import { averagePrecision, type ScoredQuad } from '../perception/metrics.js';
import { checkSelfTest, readModelInfo, selfTestInput, type ModelInfo } from '../perception/model-info.js';
import { Preprocessor } from '../perception/preprocess.js';
import { parseCommandArgs } from './args.js';

const USAGE = `usage: racepilot eval --images DIR --labels FILE.csv [--model FILE] [--json] [options]

Runs the gate detector over the images named in the labels file (corners.csv format: file,x1,y1,...,x4,y4, inner
corners TL TR BR BL) through onnxruntime-node as the daemon does (CPU, batches of 8) and reports the AlphaPilot
Test 2 metric: COCO-style AP with polygon IoU, averaged over IoU 0.50:0.05:0.95, plus AP50 and AP75.

  --images DIR       folder holding the images
  --labels FILE      labels in the corners.csv format
  --model FILE       ONNX model (default: models/gate-detector.onnx, the pruned one)
  --batch N          images per inference (default 8)
  --threads N        ONNX Runtime intra-op threads (default 2)
  --threshold X      lowest centre score kept (default 0.05)
  --refine R         corner refinement radius in output cells (default 0: offsets only)
  --peak-only        corners from the peak cell alone, not the 3x3 weighted mean
  --offsets-only     corners from the offsets alone, not moved toward the corner heatmaps (the daemon moves them)
  --json             print one JSON object {"map","ap50","ap75","images","gates","msPerImage"}
  -h, --help         this text

msPerImage is preprocessing + inference + decoding per image (file reading and image decoding excluded).
`;

export const DEFAULT_MODEL = fileURLToPath(new URL('../../../models/gate-detector.onnx', import.meta.url));

export interface EvalResult {
  map: number;
  ap50: number;
  ap75: number;
  images: number;
  gates: number;
  msPerImage: number;
}

/** Opens a model as the daemon will: metadata validated, names checked, self-test run. Errors name the file. */
export async function openDetector(path: string, threads = 2): Promise<{ info: ModelInfo; session: ort.InferenceSession }> {
  const { info, bytes } = readModelInfo(path);
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, {
      executionProviders: ['cpu'],
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      // The daemon's CPU default (perception.cpu.graphOptimization), so eval scores the outputs the daemon gets.
      graphOptimizationLevel: perceptionSchema.parse({}).cpu.graphOptimization,
    });
  } catch (err) {
    throw new InputError(`ONNX Runtime cannot load the model: ${(err as Error).message}`, path, { cause: err });
  }
  if (!session.inputNames.includes(info.inputName) || !session.outputNames.includes(info.outputName)) {
    throw new InputError(
      `metadata mismatch: metadata names input "${info.inputName}" and output "${info.outputName}", the graph has inputs [${session.inputNames}] and outputs [${session.outputNames}]`, path);
  }
  const { channels: C, height: H, width: W } = info.input;
  let ref: Float32Array;
  try {
    const r = await session.run({ [info.inputName]: new ort.Tensor('float32', selfTestInput(info.input), [1, C, H, W]) });
    ref = r[info.outputName]!.data as Float32Array;
  } catch (err) {
    throw new InputError(`metadata mismatch: the model does not run on the input the metadata describes (${(err as Error).message})`, path, { cause: err });
  }
  checkSelfTest(info, ref);
  return { info, session };
}

export async function evaluate(opts: {
  images: string; labels: string; model: string; batch: number; threads: number; threshold: number; refine: number;
  peakOnly?: boolean;
  offsetsOnly?: boolean;
  progress?: (done: number, total: number) => void;
}): Promise<EvalResult> {
  const labels = readLabels(opts.labels);
  const { info, session } = await openDetector(opts.model, opts.threads);
  const pre = new Preprocessor(info.input);
  const names = [...labels.keys()];
  for (const n of names) {
    if (!existsSync(join(opts.images, n))) throw new InputError(`image named in ${opts.labels} is missing`, join(opts.images, n));
  }
  const { channels: C, height: H, width: W } = info.input;
  const plane = 13 * info.layout.width * info.layout.height;
  const buf = pre.allocate(opts.batch);
  const detections = new Map<string, ScoredQuad[]>();
  let busyMs = 0;
  for (let i = 0; i < names.length; i += opts.batch) {
    const chunk = names.slice(i, i + opts.batch);
    const imgs = chunk.map((n) => readImage(join(opts.images, n), C === 3 ? 3 : 1));
    const t0 = performance.now();
    const scales = imgs.map((img, k) => pre.into(img, buf, k));
    const input = new ort.Tensor('float32', buf.subarray(0, chunk.length * pre.size), [chunk.length, C, H, W]);
    const out = (await session.run({ [info.inputName]: input }))[info.outputName]!.data as Float32Array;
    chunk.forEach((n, k) => {
      const gates: DecodedGate[] = decodeGates(out.subarray(k * plane, (k + 1) * plane), info.layout, scales[k],
        { threshold: opts.threshold, refineRadius: opts.refine, average: !opts.peakOnly, heatmapBlend: !opts.offsetsOnly });
      detections.set(n, gates);
    });
    busyMs += performance.now() - t0;
    opts.progress?.(Math.min(i + opts.batch, names.length), names.length);
  }
  await session.release();
  const ap = averagePrecision(detections, labels);
  let gates = 0;
  for (const g of labels.values()) gates += g.length;
  return { map: ap.map, ap50: ap.ap50, ap75: ap.ap75, images: names.length, gates, msPerImage: busyMs / names.length };
}

function num(v: string | undefined, name: string, def: number, min: number): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) throw new UsageError(`--${name} wants a number >= ${min}, got "${v}"`);
  return n;
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    argv,
    {
      images: { type: 'string' }, labels: { type: 'string' }, model: { type: 'string' },
      batch: { type: 'string' }, threads: { type: 'string' }, threshold: { type: 'string' },
      refine: { type: 'string' }, 'peak-only': { type: 'boolean' }, 'offsets-only': { type: 'boolean' }, json: { type: 'boolean' },
    },
    USAGE,
  );
  if (!parsed) return 0;
  const { values } = parsed;
  if (!values.images || !values.labels) throw new UsageError(`--images and --labels are required\n\n${USAGE}`);
  const showProgress = true; // stderr only: stdout stays one JSON object
  const result = await evaluate({
    images: values.images,
    labels: values.labels,
    model: values.model ?? DEFAULT_MODEL,
    batch: Math.floor(num(values.batch, 'batch', 8, 1)),
    threads: Math.floor(num(values.threads, 'threads', 2, 1)),
    threshold: num(values.threshold, 'threshold', 0.05, 0),
    refine: num(values.refine, 'refine', 0, 0),
    peakOnly: values['peak-only'] ?? false,
    offsetsOnly: values['offsets-only'] ?? false,
    progress: showProgress ? progressTo() : undefined,
  });
  if (values.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } else {
    process.stdout.write(
      `images ${result.images}, gates ${result.gates}\nmAP@[.50:.95] ${result.map.toFixed(4)}  AP50 ${result.ap50.toFixed(4)}  AP75 ${result.ap75.toFixed(4)}\n${result.msPerImage.toFixed(2)} ms/image (preprocess + inference + decode)\n`);
  }
  return 0;
}

function progressTo(): (done: number, total: number) => void {
  let bar: Progress | null = null;
  let seen = 0;
  return (done, total) => {
    bar ??= new Progress(total, 'eval');
    bar.tick(done - seen);
    seen = done;
  };
}
