/**
 * Worker side of multi-core rendering (RenderPool) and of the render benchmark: builds the scene from its options
 * (scenes are deterministic, so every worker holds the same world without shipping it) and renderers for the
 * cameras it was given, then renders on request: one frame of its cameras from a vehicle pose (images transferred
 * back), or a timed run of random framesets for the bench.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { CameraModel, type CameraCalibration } from '../../camera/camera-model.js';
import type { Quat, Vec3 } from '../../core/messages.js';
import { NEUTRAL_LOOK, randomLook, type Look } from './look.js';
import type { Mat3 } from './math3.js';
import { samplePose } from './poses.js';
import { Prng } from './prng.js';
import { Renderer, type RenderOutput } from './renderer.js';
import { RigRenderer } from './rig-renderer.js';
import { buildScene, type SceneOptions } from './scene.js';

export interface WorkerCamera {
  calibration: CameraCalibration;
  R_body_cam: Mat3;
  p_body_m: Vec3;
}

export interface RenderWorkerData {
  scene: SceneOptions;
  cameras: WorkerCamera[];
  channels: 1 | 3;
  /** Bench only: random looks (blur, noise) instead of the neutral one. */
  effects: boolean;
}

export type RenderWorkerJob =
  | { kind: 'bench'; framesets: number; poseSeed: number }
  /** `which`: this worker's cameras to render (indices into its list); all when absent. */
  | { kind: 'frame'; id: number; p_ned_m: Vec3; q_ned_body: Quat; look: Look; which?: number[] };

const data = workerData as RenderWorkerData;
const scene = buildScene(data.scene);
const rig = new RigRenderer(
  scene,
  data.cameras.map((c, k) => ({ rig: 'w', side: 'left' as const, slot: k, model: new CameraModel(c.calibration), R_body_cam: c.R_body_cam, p_body_m: c.p_body_m, fps: 0 })),
  { scale: 1, channels: data.channels },
);

parentPort!.on('message', (job: RenderWorkerJob) => {
  if (job.kind === 'frame') {
    const poses = rig.cameraPoses(job.p_ned_m, job.q_ned_body);
    const outs = rig.renderers.map((r, k) => (!job.which || job.which.includes(k) ? r.render(poses[k]!, job.look) : null));
    const buffers = outs.flatMap((o) => (o ? [o.image.buffer as ArrayBuffer, o.gateIds.buffer as ArrayBuffer] : []));
    parentPort!.postMessage({ id: job.id, outs }, buffers);
    return;
  }
  const rng = new Prng(job.poseSeed);
  const outs: (RenderOutput | undefined)[] = rig.renderers.map(() => undefined);
  // process.cpuUsage is process-wide: it is this thread's time only while the other threads idle (the
  // single-thread run), which is where the bench reads it.
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let f = 0; f < job.framesets; f++)
    rig.renderers.forEach((r: Renderer, k) => {
      outs[k] = r.render(samplePose(scene, rng), data.effects ? randomLook(rng) : NEUTRAL_LOOK, outs[k]);
    });
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  parentPort!.postMessage({ ms, cpuMs: (c.user + c.system) / 1000 });
});
parentPort!.postMessage({ ready: true });
