/**
 * `racepilot bench camera`'s render half: how many framesets (all eight images of the four default stereo rigs) the
 * renderer produces per second on this machine, on one thread and split over worker threads (one per core by
 * default). Poses are drawn along a course as in the dataset, so the gate and clutter load is the realistic one.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { CameraModel, type CameraCalibration, scaledCalibration } from '../../camera/camera-model.js';
import { defaultRigs, rigSchema, type CameraConfig } from '../../core/config/camera.js';
import type { RenderWorkerData, RenderWorkerJob } from './render-worker.js';

export interface BenchRenderOptions {
  /** Image size as a fraction of the rig's configured size (0.5: the simulator's size). Default 1. */
  scale?: number;
  /** Framesets to time per run (after a warm-up of 8). Default 20. */
  framesets?: number;
  /** Worker threads; default one per core, at most 8. 0 times only the single-thread run. */
  workers?: number;
  channels?: 1 | 3;
  /** Random blur/noise/exposure per image (the dataset's looks) instead of a plain exposure. */
  effects?: boolean;
  seed?: number;
  /** Target rate to compare with (Hz); the rigs' configured rate by default. */
  targetHz?: number;
  /** The rigs to render (enabled ones); the default configuration's four rigs when absent. */
  rigs?: readonly RigLike[];
}

/** What the bench needs of a rig (a parsed RigConfig, or the raw defaults). */
interface RigLike {
  width: number;
  height: number;
  fps: number;
  enabled?: boolean;
  format?: string;
  left: Pick<CameraCalibration, 'intrinsics' | 'distortion'>;
  right: Pick<CameraCalibration, 'intrinsics' | 'distortion'>;
}

export interface BenchRenderResult {
  width: number;
  height: number;
  channels: 1 | 3;
  images: number;
  framesets: number;
  /** Wall-clock rate on one thread, and the CPU time it took (the rate an otherwise idle core would give). */
  singleThread: { framesetsPerSec: number; msPerImage: number; cpuMsPerFrameset: number };
  /**
   * What the worker split would sustain on this many idle cores, from the CPU time per frameset: the wall-clock
   * figures drop when other processes share the cores, this one does not.
   */
  idleEstimate: { cores: number; framesetsPerSec: number };
  workers: { count: number; framesetsPerSec: number } | null;
  targetHz: number;
  /** The measured wall-clock rate (best of single and workers) reaches targetHz. */
  realTime: boolean;
  /** The idle-core estimate reaches targetHz. */
  realTimeWhenIdle: boolean;
}

/** The eight calibrations of the default rigs (left, right per rig) at a scale of their configured size. */
export function defaultRigCalibrations(scale = 1, rigs: readonly RigLike[] = defaultRigs): CameraCalibration[] {
  return rigs.filter((r) => r.enabled !== false).flatMap((rig) =>
    [rig.left, rig.right].map((img) => {
      const full = new CameraModel({ width: rig.width, height: rig.height, intrinsics: img.intrinsics, distortion: img.distortion });
      return scale === 1 ? full : scaledCalibration(full, Math.round(rig.width * scale), Math.round(rig.height * scale));
    }),
  );
}

export async function benchRender(opts: BenchRenderOptions = {}): Promise<BenchRenderResult> {
  const scale = opts.scale ?? 1;
  const framesets = opts.framesets ?? 20;
  const rigs: readonly RigLike[] = opts.rigs ?? defaultRigs;
  if (!rigs.some((r) => r.enabled !== false)) throw new RangeError('no enabled camera rig to render');
  const format = rigs[0]!.format ?? rigSchema.parse(defaultRigs[0]).format;
  const channels = opts.channels ?? (format === 'RGB' ? 3 : 1);
  const calibs = defaultRigCalibrations(scale, rigs);
  const nWorkers = Math.min(8, opts.workers ?? availableParallelism());
  const seed = opts.seed ?? 7;
  const effects = opts.effects ?? false;
  const targetHz = opts.targetHz ?? rigs[0]!.fps;

  const timeWith = async (groups: CameraCalibration[][]): Promise<{ ms: number; cpuMs: number }> => {
    const workers = groups.map(
      (calibrations) =>
        new Worker(new URL('./render-worker.js', import.meta.url), {
          workerData: {
            scene: { seed },
            // Mountings do not matter here: the bench poses each camera itself.
            cameras: calibrations.map((calibration) => ({ calibration, R_body_cam: [1, 0, 0, 0, 1, 0, 0, 0, 1], p_body_m: [0, 0, 0] })),
            channels,
            effects,
          } satisfies RenderWorkerData,
        }),
    );
    try {
      const ask = (w: Worker, job: RenderWorkerJob) =>
        new Promise<{ ms: number; cpuMs: number }>((resolve, reject) => {
          w.once('message', resolve);
          w.once('error', reject);
          w.postMessage(job);
        });
      await Promise.all(workers.map((w) => new Promise((resolve, reject) => (w.once('message', resolve), w.once('error', reject)))));
      await Promise.all(workers.map((w, k) => ask(w, { kind: 'bench', framesets: 8, poseSeed: seed + 100 + k })));
      const t0 = performance.now();
      const res = await Promise.all(workers.map((w, k) => ask(w, { kind: 'bench', framesets, poseSeed: seed + k })));
      return { ms: performance.now() - t0, cpuMs: Math.max(...res.map((r) => r.cpuMs)) };
    } finally {
      await Promise.all(workers.map((w) => w.terminate()));
    }
  };

  const { ms: singleMs, cpuMs: singleCpuMs } = await timeWith([calibs]);
  let multi: BenchRenderResult['workers'] = null;
  if (nWorkers > 1) {
    const groups: CameraCalibration[][] = Array.from({ length: nWorkers }, () => []);
    calibs.forEach((c, i) => groups[i % nWorkers]!.push(c));
    const { ms } = await timeWith(groups.filter((g) => g.length));
    multi = { count: nWorkers, framesetsPerSec: (framesets * 1000) / ms };
  }
  const single = (framesets * 1000) / singleMs;
  const cpuPerSet = singleCpuMs / framesets;
  const cores = Math.max(1, Math.min(nWorkers, availableParallelism()));
  const idle = (cores * 1000) / cpuPerSet;
  const best = Math.max(single, multi?.framesetsPerSec ?? 0);
  return {
    width: calibs[0]!.width,
    height: calibs[0]!.height,
    channels,
    images: calibs.length,
    framesets,
    singleThread: { framesetsPerSec: single, msPerImage: singleMs / (framesets * calibs.length), cpuMsPerFrameset: cpuPerSet },
    idleEstimate: { cores, framesetsPerSec: idle },
    workers: multi,
    targetHz,
    realTime: best >= targetHz,
    realTimeWhenIdle: idle >= targetHz,
  };
}

/**
 * The hook `racepilot bench camera` calls: the configured rigs at their configured size, and at half that size (the
 * size the simulator renders at: the detector's input is smaller still, and the rate is ~4× higher).
 */
export async function benchCameraRender(opts: { camera: CameraConfig; durationS: number }): Promise<{ configured: BenchRenderResult; half: BenchRenderResult }> {
  const rigs = opts.camera.rigs;
  // Frameset counts sized so each run takes roughly durationS on this class of machine.
  const configured = await benchRender({ rigs, scale: 1, framesets: Math.max(4, Math.round(opts.durationS * 3)) });
  const half = await benchRender({ rigs, scale: 0.5, framesets: Math.max(8, Math.round(opts.durationS * 10)) });
  return { configured, half };
}
