import { availableParallelism } from 'node:os';
import type { PerceptionConfig } from '../core/config/perception.js';
import type { Logger } from '../core/logger.js';
import { BatchPreprocessor } from './batch-preprocess.js';
import type { Detector, PerceptionLane } from './perception-stage.js';
import { WorkerDetector } from './worker-detector.js';

/** A detector that can be closed: WorkerDetector in the daemon, DetectorSession where the bench runs it inline. */
export type ClosableDetector = Detector & { readonly selfTestMs: number; close(): Promise<void> };

export interface OpenedLanes {
  lanes: PerceptionLane[];
  /** The first lane's detector: its provider, attempts and self-test are the ones the log reports. */
  detector: ClosableDetector;
  close(): Promise<void>;
}

/**
 * How many lanes a FrameSet of `images` images is split over. On a CPU, one per core: a FrameSet's eight images
 * then take about half the time on two cores, where ONNX Runtime's own intra-op threads (each operator split across
 * cores, with a spin-wait at every step) were measured to cost twice the CPU per FrameSet for a fifth off the
 * inference time (`racepilot bench perception --lanes 1 --threads 2`). A GPU takes the whole batch at once: one lane.
 */
export function laneCount(setting: PerceptionConfig['lanes'], provider: string, images: number, cores = availableParallelism()): number {
  const most = Math.max(1, Math.floor(images / 2)); // a lane per stereo rig at most: smaller batches lose efficiency
  if (setting !== 'auto') return Math.min(setting, Math.max(1, images));
  return provider === 'cpu' ? Math.max(1, Math.min(cores, most)) : 1;
}

/**
 * Opens the perception lanes: the first detector tries the configured providers in order (with the self-test);
 * the others open on the provider that won, so that every lane runs the same arithmetic. Each lane gets its own
 * preprocessing worker, sized for its share of the batch. On any failure what was opened is closed again.
 */
export async function openPerceptionLanes(
  cfg: PerceptionConfig,
  log: Logger,
  images: number,
  opts: { modelPath?: string; lanes?: PerceptionConfig['lanes']; open?: (cfg: PerceptionConfig) => Promise<ClosableDetector> } = {},
): Promise<OpenedLanes> {
  const open = opts.open ?? ((c: PerceptionConfig) => WorkerDetector.open(c, log, opts.modelPath ? { modelPath: opts.modelPath } : {}));
  const first = await open(cfg);
  const n = laneCount(opts.lanes ?? cfg.lanes, first.provider, images);
  const detectors: ClosableDetector[] = [first];
  const pres: BatchPreprocessor[] = [];
  const close = async () => {
    await Promise.all(pres.map((p) => p.close()));
    await Promise.all(detectors.map((d) => d.close()));
  };
  try {
    const rest = await Promise.allSettled(Array.from({ length: n - 1 }, () => open({ ...cfg, providers: [first.provider as PerceptionConfig['providers'][number]] })));
    for (const r of rest) if (r.status === 'fulfilled') detectors.push(r.value);
    const failed = rest.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    const perLane = Math.ceil(images / n);
    for (let l = 0; l < n; l++) pres.push(new BatchPreprocessor(first.info.input, perLane));
  } catch (err) {
    await close();
    throw err;
  }
  if (n > 1) log.info({ lanes: n, provider: first.provider, imagesPerLane: Math.ceil(images / n) }, `perception: ${n} lanes share each FrameSet`);
  return { lanes: detectors.map((detector, l) => ({ detector, pre: pres[l]! })), detector: first, close };
}
