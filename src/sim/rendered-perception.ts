import { CameraModel, scaledCalibration } from '../camera/camera-model.js';
import { mat3Apply, mat3Transpose, type RigCamera } from '../camera/rig.js';
import type { TopicBus } from '../core/bus.js';
import { ManualClock } from '../core/clock.js';
import type { PerceptionConfig } from '../core/config/perception.js';
import type { Logger } from '../core/logger.js';
import type { CameraImage, FrameSet, PerceptionGates, Quat, Topics, Vec3, VehicleState } from '../core/messages.js';
import { BatchPreprocessor } from '../perception/batch-preprocess.js';
import { DetectorSession } from '../perception/detector-session.js';
import { PerceptionStage } from '../perception/perception-stage.js';
import { trackGateInnerSize, type Track } from '../planning/track.js';
import { NEUTRAL_LOOK } from './render/look.js';
import { RenderPool } from './render/render-pool.js';
import { quatToMat } from './render/rig-renderer.js';
import type { SceneCourse } from './render/scene.js';
import type { World } from './world.js';

export interface RenderedPerceptionOptions {
  world: World;
  track: Track;
  seed: number;
  /** Every enabled camera at its configured size, in FrameSet slot order (camera/rig.ts allRigCameras). */
  cameras: readonly RigCamera[];
  /** The perception section; its gate size is replaced by the track's (one truth: the track). */
  perception: PerceptionConfig;
  /** Rendered size as a fraction of the configured one: 0.5 gives the renderer's sim size, 320×240. */
  scale?: number;
  /** Rendered channels; default what the detector's input has (the model is trained on colour frames). */
  channels?: 1 | 3;
  workers?: number;
  /** Capture to publication, simulated: the detector's result is stamped this much after the capture (µs). */
  latencyUs?: number;
  /** Gates further than this are not worth rendering a rig for (m). */
  maxRangeM?: number;
  log: Logger;
  /** FrameSets are published on it (`camera/frameset`), as a live camera stage would. */
  bus?: TopicBus<Topics>;
}

/** What the rendered cameras and the detector did over a flight: enough to say why a flight with them went wrong. */
export interface RenderedPerceptionStats {
  model: string;
  provider: string;
  renderWidth: number;
  renderHeight: number;
  framesets: number;
  /** Rigs rendered and inferred, and rigs skipped because no gate could be in their view. */
  rigsRendered: number;
  rigsSkipped: number;
  /** Gates perception reported (after its geometry checks), and FrameSets with at least one. */
  gates: number;
  framesetsWithGate: number;
  /** Detections the geometry rejected (perception's counter). */
  rejectedDetections: number;
  /** Reported gates within 1 m of a real gate's centre, and the median distance of all reported gates to the nearest (m). */
  gatesWithin1m: number;
  medianErrorM: number | null;
  /** The same by the rig that saw the gate and by reported range (m): where the detector is right and where not. */
  byRig: Record<string, { gates: number; within1m: number }>;
  byRange: Record<'0-5' | '5-10' | '10-15' | '15+', { gates: number; within1m: number }>;
  /** Wall time spent rendering and in the perception stage (ms, whole flight). */
  renderMs: number;
  perceptionMs: number;
}

/** The simulator's course as the renderer wants it: the world's (true) gates in the track's hall. */
export function sceneCourse(world: World, track: Track): SceneCourse {
  return {
    gates: world.gates.map((g) => ({ c_ned_m: [...g.p_ned_m], heading_rad: Math.atan2(g.n_ned[1], g.n_ned[0]), inner_m: g.innerSizeM, outer_m: g.outerSizeM })),
    hall: { min_ned_m: [...track.hall.min_ned_m], max_ned_m: [...track.hall.max_ned_m] },
    path: [[...track.start.p_ned_m], ...world.gates.map((g) => [...g.p_ned_m] as Vec3)],
  };
}

/**
 * `--perception detector`: the rendered cameras and the gate detector in the loop. For a vehicle pose (the TRUE one in
 * the simulator, the reported one in software-in-the-loop) it renders the rigs that could see a gate (through each
 * camera's extrinsics, on the render worker pool), publishes the FrameSet and runs the daemon's own perception stage
 * on it. The stage runs on its own ManualClock set to the capture time, so the result does not depend on how long
 * rendering and inference took on this machine; the caller stamps publication `latencyUs` later.
 */
export class RenderedPerception {
  readonly stats: RenderedPerceptionStats;
  private seq = 0;
  private readonly errors: number[] = [];

  private constructor(
    private readonly o: RenderedPerceptionOptions,
    private readonly pool: RenderPool,
    private readonly session: DetectorSession,
    private readonly pre: BatchPreprocessor,
    private readonly stage: PerceptionStage,
    private readonly stageClock: ManualClock,
    private readonly camsAtSize: RigCamera[],
  ) {
    this.stats = {
      model: o.perception.model, provider: session.provider, renderWidth: camsAtSize[0]!.model.width, renderHeight: camsAtSize[0]!.model.height,
      framesets: 0, rigsRendered: 0, rigsSkipped: 0, gates: 0, framesetsWithGate: 0, rejectedDetections: 0, gatesWithin1m: 0, medianErrorM: null, byRig: {},
      byRange: { '0-5': { gates: 0, within1m: 0 }, '5-10': { gates: 0, within1m: 0 }, '10-15': { gates: 0, within1m: 0 }, '15+': { gates: 0, within1m: 0 } },
      renderMs: 0, perceptionMs: 0,
    };
  }

  static async start(o: RenderedPerceptionOptions): Promise<RenderedPerception> {
    const scale = o.scale ?? 0.5;
    const camsAtSize = o.cameras.map((c) => ({
      ...c,
      model: new CameraModel(scaledCalibration(c.model, Math.round(c.model.width * scale), Math.round(c.model.height * scale))),
    }));
    const cfg: PerceptionConfig = { ...o.perception, gateInnerSizeM: trackGateInnerSize(o.track, o.track.name) };
    const session = await DetectorSession.open(cfg, o.log);
    const pool = await RenderPool.start({
      scene: { seed: o.seed, course: sceneCourse(o.world, o.track) },
      cameras: o.cameras,
      scale,
      channels: o.channels ?? (session.info.input.channels === 1 ? 1 : 3),
      ...(o.workers !== undefined ? { workers: o.workers } : {}),
    }).catch(async (err) => {
      await session.close();
      throw err;
    });
    const pre = new BatchPreprocessor(session.info.input, camsAtSize.length);
    // The stage stamps its message with its clock: one moved to each capture time, never by the work's duration.
    const stageClock = new ManualClock('sim', 0);
    const stage = new PerceptionStage({ cfg, cameras: camsAtSize, lanes: [{ detector: session, pre }], clock: stageClock, log: o.log });
    return new RenderedPerception({ ...o, perception: cfg }, pool, session, pre, stage, stageClock, camsAtSize);
  }

  /** The attitude the flight controller reports (not the truth): the perception stage's upright prior uses it. */
  addVehicle(v: VehicleState): void {
    this.stage.addVehicle(v);
  }

  /** Which cameras (slot order) could see a gate from this pose: both cameras of a rig whose left camera could. */
  visibleSlots(p_ned_m: Vec3, q_ned_body: Quat): boolean[] {
    const R_ned_body = quatToMat(q_ned_body);
    const R_body_ned = mat3Transpose(R_ned_body);
    const maxRange = this.o.maxRangeM ?? 30;
    const want = this.camsAtSize.map(() => false);
    for (const cam of this.camsAtSize) {
      if (cam.side !== 'left') continue;
      const m = cam.model;
      const { fx, fy, cx, cy } = m.intrinsics;
      // Pinhole half-extent of the image with a margin: barrel distortion widens the real view a little.
      const tx = (1.3 * Math.max(cx, m.width - cx)) / fx;
      const ty = (1.3 * Math.max(cy, m.height - cy)) / fy;
      const R_cam_body = mat3Transpose(cam.R_body_cam);
      const sees = this.o.world.gates.some((g) => {
        const h = g.outerSizeM / 2;
        const right: Vec3 = [-g.n_ned[1], g.n_ned[0], 0];
        const pts: Vec3[] = [[0, 0], [-h, -h], [h, -h], [h, h], [-h, h]].map(([s, t]) => [g.p_ned_m[0] + right[0] * s!, g.p_ned_m[1] + right[1] * s!, g.p_ned_m[2] + t!]);
        return pts.some((p) => {
          const b = mat3Apply(R_body_ned, [p[0] - p_ned_m[0], p[1] - p_ned_m[1], p[2] - p_ned_m[2]]);
          const c = mat3Apply(R_cam_body, [b[0] - cam.p_body_m[0], b[1] - cam.p_body_m[1], b[2] - cam.p_body_m[2]]);
          return c[2] > 0.1 && c[2] < maxRange && Math.abs(c[0] / c[2]) < tx && Math.abs(c[1] / c[2]) < ty;
        });
      });
      if (sees) for (const other of this.camsAtSize) if (other.rig === cam.rig) want[other.slot] = true;
    }
    return want;
  }

  /** Renders and perceives the world from a vehicle pose at capture time tSampleUs; stamps the result latency later. */
  async observe(tSampleUs: number, p_ned_m: Vec3, q_ned_body: Quat): Promise<PerceptionGates> {
    const want = this.visibleSlots(p_ned_m, q_ned_body);
    const rigs = new Set(this.camsAtSize.map((c) => c.rig)).size;
    const rendered = new Set(this.camsAtSize.filter((c) => want[c.slot]).map((c) => c.rig)).size;
    this.stats.rigsRendered += rendered;
    this.stats.rigsSkipped += rigs - rendered;
    const t0 = performance.now();
    const outs = rendered > 0 ? await this.pool.renderSome(p_ned_m, q_ned_body, NEUTRAL_LOOK, want) : this.camsAtSize.map(() => null);
    const t1 = performance.now();
    const seq = this.seq++;
    const images: (CameraImage | null)[] = outs.map((out, k) => {
      if (!out) return null;
      const cam = this.camsAtSize[k]!;
      return { tUs: tSampleUs, tSampleUs, rig: cam.rig, side: cam.side, seq, width: out.width, height: out.height, format: out.channels === 3 ? 'RGB' : 'GRAY8', data: out.image };
    });
    const holes = this.camsAtSize.filter((c) => !images[c.slot]).map((c) => `${c.rig}/${c.side}`);
    const fs: FrameSet = { tUs: tSampleUs, tSampleUs, seq, images, holes, dead: [], skewUs: 0 };
    this.o.bus?.publish('camera/frameset', fs);
    this.stageClock.advanceTo(Math.max(this.stageClock.nowUs(), tSampleUs));
    const rejectedBefore = this.stage.stats.rejectedDetections;
    const msg = rendered > 0 ? await this.stage.process(fs) : this.empty(fs);
    this.stats.perceptionMs += performance.now() - t1;
    this.stats.renderMs += t1 - t0;
    this.stats.framesets++;
    this.stats.gates += msg.gates.length;
    if (msg.gates.length > 0) this.stats.framesetsWithGate++;
    this.stats.rejectedDetections += this.stage.stats.rejectedDetections - rejectedBefore;
    // How right perception was: each reported gate against the nearest real one, from the true pose.
    const R = quatToMat(q_ned_body);
    for (const g of msg.gates) {
      const w = mat3Apply(R, g.p_body_m);
      const e = Math.min(...this.o.world.gates.map((wg) => Math.hypot(p_ned_m[0] + w[0] - wg.p_ned_m[0], p_ned_m[1] + w[1] - wg.p_ned_m[1], p_ned_m[2] + w[2] - wg.p_ned_m[2])));
      this.errors.push(e);
      const ok = e <= 1 ? 1 : 0;
      this.stats.gatesWithin1m += ok;
      const rig = (this.stats.byRig[g.rig] ??= { gates: 0, within1m: 0 });
      const bin = this.stats.byRange[g.range_m < 5 ? '0-5' : g.range_m < 10 ? '5-10' : g.range_m < 15 ? '10-15' : '15+'];
      for (const c of [rig, bin]) {
        c.gates++;
        c.within1m += ok;
      }
    }
    if (this.errors.length) this.stats.medianErrorM = Math.round([...this.errors].sort((a, b) => a - b)[this.errors.length >> 1]! * 1000) / 1000;
    const latencyUs = this.o.latencyUs ?? 25_000;
    // Skipped rigs are not faults: keep `rejected` for images that were there and bad.
    const rejected = msg.rejected.filter((r) => !/: missing$/.test(r));
    return { ...msg, rejected, tUs: tSampleUs + latencyUs, timings: { ...msg.timings, endToEndMs: latencyUs / 1000 } };
  }

  private empty(fs: FrameSet): PerceptionGates {
    return {
      tUs: fs.tSampleUs, tSampleUs: fs.tSampleUs, framesetSeq: fs.seq, gates: [], imagesUsed: 0, rejected: [], provider: this.session.provider,
      timings: { queueMs: 0, preprocessMs: 0, inferenceMs: 0, decodeMs: 0, geometryMs: 0, endToEndMs: 0 },
    };
  }

  async close(): Promise<void> {
    await Promise.all([this.pool.close(), this.pre.close(), this.session.close()]);
  }
}
