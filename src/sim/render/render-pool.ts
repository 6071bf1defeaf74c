/**
 * Rendering off the event loop: the cameras are split over worker threads (one per core by default), each holding
 * the same deterministic scene, and a frame is the eight images of one vehicle pose. The simulator awaits
 * `render()` while its control loop keeps running; at most one frame is in flight per pool (a caller asking
 * while one is busy gets an error and should skip the frame, as a real camera drops one).
 */
import { scaledCalibration } from '../../camera/camera-model.js';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { RigCamera } from '../../camera/rig.js';
import type { Quat, Vec3 } from '../../core/messages.js';
import type { Look } from './look.js';
import type { RenderOutput } from './renderer.js';
import type { RenderWorkerData, WorkerCamera } from './render-worker.js';
import type { SceneOptions } from './scene.js';

export interface RenderPoolOptions {
  scene: SceneOptions;
  cameras: readonly RigCamera[];
  /** Rendered size as a fraction of the configured size. Default 0.5. */
  scale?: number;
  channels?: 1 | 3;
  workers?: number;
}

export class RenderPool {
  private readonly workers: Worker[];
  /** Which camera slots each worker renders, in order. */
  private readonly slots: number[][];
  private busy = false;
  private nextId = 1;

  private constructor(workers: Worker[], slots: number[][]) {
    this.workers = workers;
    this.slots = slots;
  }

  static async start(opts: RenderPoolOptions): Promise<RenderPool> {
    const scale = opts.scale ?? 0.5;
    const n = Math.max(1, Math.min(opts.workers ?? availableParallelism(), opts.cameras.length));
    const cams: WorkerCamera[] = opts.cameras.map((c) => ({
      calibration: scaledCalibration(c.model, Math.round(c.model.width * scale), Math.round(c.model.height * scale)),
      R_body_cam: c.R_body_cam,
      p_body_m: c.p_body_m,
    }));
    const slots: number[][] = Array.from({ length: n }, () => []);
    cams.forEach((_, i) => slots[i % n]!.push(i));
    const workers = slots.map((s) => {
      const wd: RenderWorkerData = { scene: opts.scene, cameras: s.map((i) => cams[i]!), channels: opts.channels ?? 1, effects: false };
      return new Worker(new URL('./render-worker.js', import.meta.url), { workerData: wd });
    });
    try {
      await Promise.all(workers.map((w) => new Promise((resolve, reject) => (w.once('message', resolve), w.once('error', reject)))));
    } catch (err) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw err;
    }
    return new RenderPool(workers, slots);
  }

  /** All cameras' images for the vehicle pose, in slot order. */
  async render(p_ned_m: Vec3, q_ned_body: Quat, look: Look): Promise<RenderOutput[]> {
    return (await this.renderSome(p_ned_m, q_ned_body, look, null)) as RenderOutput[];
  }

  /**
   * The images of the cameras whose slot `want` marks (all when null), in slot order; null for the others. A worker
   * with nothing to render is not asked.
   */
  async renderSome(p_ned_m: Vec3, q_ned_body: Quat, look: Look, want: readonly boolean[] | null): Promise<(RenderOutput | null)[]> {
    if (this.busy) throw new Error('render pool busy: the previous frame is still rendering');
    this.busy = true;
    try {
      const id = this.nextId++;
      const parts = await Promise.all(
        this.workers.map((w, wi) => {
          const which = want ? this.slots[wi]!.flatMap((slot, j) => (want[slot] ? [j] : [])) : undefined;
          if (which && which.length === 0) return Promise.resolve(this.slots[wi]!.map(() => null));
          return new Promise<(RenderOutput | null)[]>((resolve, reject) => {
              const onMsg = (m: { id: number; outs: (RenderOutput | null)[] }) => {
                if (m.id !== id) return;
                w.off('message', onMsg);
                w.off('error', reject);
                resolve(m.outs);
              };
              w.on('message', onMsg);
              w.once('error', reject);
              w.postMessage({ kind: 'frame', id, p_ned_m, q_ned_body, look, which });
            });
        }),
      );
      const out: (RenderOutput | null)[] = [];
      parts.forEach((p, k) => p.forEach((o, j) => (out[this.slots[k]![j]!] = o)));
      return out;
    } finally {
      this.busy = false;
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
