import type { RigCamera } from '../camera/rig.js';
import type { TopicBus } from '../core/bus.js';
import type { Clock } from '../core/clock.js';
import type { PerceptionConfig } from '../core/config/perception.js';
import type { Logger } from '../core/logger.js';
import type { FrameSet, GateObservation, PerceptionGates, PerceptionStats, VehicleState } from '../core/messages.js';
import type { BatchPreprocessor, BatchImage } from './batch-preprocess.js';
import { decodeGates, type DecodedGate } from './decode.js';
import { rigGates, type GeometryParams } from './gate-geometry.js';
import { GravityHistory } from './gravity-history.js';
import type { ModelInfo } from './model-info.js';

/** What the stage needs of the detector (DetectorSession, or a fake in tests). */
export interface Detector {
  readonly info: ModelInfo;
  readonly provider: string;
  run(input: Float32Array, batch: number): Promise<Float32Array>;
}

export interface PerceptionStageOptions {
  cfg: PerceptionConfig;
  /** Cameras in FrameSet slot order (camera/rig.ts allRigCameras): pairs left, right per rig. */
  cameras: readonly RigCamera[];
  detector: Detector;
  pre: BatchPreprocessor;
  clock: Clock;
  log: Logger;
  /** FrameSets being worked on at once: one preprocessed while the previous one is inferred. */
  maxInFlight?: number;
  /** Milliseconds for the stage timings (a measurement only, never used in a decision). */
  nowMs?: () => number;
}

/**
 * The perception stage: FrameSet in, `perception/gates` out. The pixels go to the worker (batch-preprocess.ts),
 * the network runs in ONNX Runtime's threads, and only decoding and geometry (well under a millisecond per gate)
 * run on the event loop. Inferences are serialised in FrameSet order; when FrameSets arrive faster than they can be
 * processed, the newest ones are skipped and counted rather than queued (stale perception is worse than none).
 *
 * Bad input never crashes it and never makes a gate: a missing image, one of the wrong size or format, and a black
 * or saturated image are each named in the message's `rejected` list and counted; only the others are inferred on.
 */
export class PerceptionStage {
  /** FrameSets being worked on. */
  private readonly pending = new Set<Promise<PerceptionGates>>();
  private chain: Promise<unknown> = Promise.resolve();
  private readonly geo: GeometryParams;
  /** Attitude from fc/vehicle_state, for the gates' upright prior (gate-geometry.ts); fed by attach() or addVehicle(). */
  private readonly gravity = new GravityHistory();
  private readonly nowMs: () => number;
  readonly stats: PerceptionStats = {
    tUs: 0, framesets: 0, skipped: 0, imagesInferred: 0, imagesMissing: 0, imagesBlind: 0, imagesBadSize: 0, gates: 0, rejectedDetections: 0,
  };

  constructor(private readonly o: PerceptionStageOptions) {
    this.geo = {
      half: o.cfg.gateInnerSizeM / 2, cornerSigmaPx: o.cfg.cornerSigmaPx, cornerThreshold: o.cfg.cornerThreshold,
      sigmaTiltRad: (o.cfg.uprightPriorDeg * Math.PI) / 180,
    };
    this.nowMs = o.nowMs ?? (() => performance.now());
    if (o.cameras.length % 2 !== 0) throw new RangeError(`perception needs stereo pairs, got ${o.cameras.length} cameras`);
  }

  /** The flight controller's attitude: gives the gates' orientation its upright prior. */
  addVehicle(v: VehicleState): void {
    this.gravity.push(v);
  }

  /** Subscribes to FrameSets (and the attitude) and publishes gates on the bus; returns the unsubscribe function. */
  attach(bus: TopicBus): () => void {
    const offVehicle = bus.subscribe('fc/vehicle_state', (v) => this.addVehicle(v));
    const offFrames = bus.subscribe('camera/frameset', (fs) => {
      const maxInFlight = this.o.maxInFlight ?? 2;
      if (this.pending.size >= maxInFlight) {
        this.stats.skipped++;
        return;
      }
      this.process(fs).then(
        (msg) => {
          bus.publish('perception/gates', msg);
          if (this.stats.framesets % 30 === 0) bus.publish('perception/stats', { ...this.stats, tUs: msg.tUs });
        },
        (err) => this.o.log.error({ err, seq: fs.seq }, 'perception: FrameSet failed'),
      );
    });
    return () => {
      offVehicle();
      offFrames();
    };
  }

  /** Runs one FrameSet through the whole path and resolves with its message (also used by the bench and tests). */
  async process(fs: FrameSet): Promise<PerceptionGates> {
    const job = this.work(fs);
    this.pending.add(job);
    try {
      return await job;
    } finally {
      this.pending.delete(job);
    }
  }

  /**
   * Resolves once every FrameSet taken in has come out (or failed). Shutting down: detach first, then wait for
   * this, then close the workers, so that no inference is cut off inside ONNX Runtime.
   */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private async work(fs: FrameSet): Promise<PerceptionGates> {
    const t0 = this.nowMs();
    const { cameras, cfg, detector } = this.o;
    // Gravity at the capture, looked up as the FrameSet arrives (before any await) so that what the geometry gets
    // depends on the order of messages only, never on how long inference took. uprightPriorDeg 0: no prior.
    const down = cfg.uprightPriorDeg > 0 ? this.gravity.downAt(fs.tSampleUs) : null;
    const rejected: string[] = [];
    const slots: number[] = [];
    const images: BatchImage[] = [];
    cameras.forEach((cam, k) => {
      const name = `${cam.rig}/${cam.side}`;
      const img = fs.images[k] ?? null;
      if (!img) {
        rejected.push(`${name}: missing`);
        this.stats.imagesMissing++;
        return;
      }
      const ch = img.format === 'RGB' ? 3 : img.format === 'GRAY8' ? 1 : 0;
      if (img.width !== cam.model.width || img.height !== cam.model.height || ch === 0 || img.data.length < img.width * img.height * ch) {
        rejected.push(`${name}: ${img.width}x${img.height} ${img.format} (${img.data.length} bytes), calibrated for ${cam.model.width}x${cam.model.height}`);
        this.stats.imagesBadSize++;
        return;
      }
      slots.push(k);
      images.push({ width: img.width, height: img.height, channels: ch as 1 | 3, data: img.data });
    });
    const timings = { queueMs: 0, preprocessMs: 0, inferenceMs: 0, decodeMs: 0, geometryMs: 0, endToEndMs: 0, mainThreadMs: 0 };
    const dets: DecodedGate[][] = cameras.map(() => []);
    if (images.length > 0) {
      const pending = this.o.pre.run(images);
      timings.mainThreadMs = this.nowMs() - t0;
      const batch = await pending;
      const t1 = this.nowMs();
      timings.preprocessMs = t1 - t0;
      let out: Float32Array;
      // One inference at a time, in FrameSet order: the next FrameSet's preprocessing overlaps this one's inference.
      const prev = this.chain;
      let done!: () => void;
      this.chain = new Promise<void>((r) => (done = r));
      try {
        await prev;
        const t2 = this.nowMs();
        timings.queueMs = t2 - t1;
        out = await detector.run(batch.tensor, batch.batch);
        timings.inferenceMs = this.nowMs() - t2;
      } finally {
        batch.release();
        done();
      }
      const t3 = this.nowMs();
      const plane = 13 * detector.info.layout.width * detector.info.layout.height;
      slots.forEach((slot, k) => {
        const cam = cameras[slot]!;
        const mean = batch.means[k]!;
        if (mean < cfg.blindMeanBelow || mean > cfg.blindMeanAbove) {
          rejected.push(`${cam.rig}/${cam.side}: ${mean < cfg.blindMeanBelow ? 'black' : 'saturated'} (mean ${mean.toFixed(1)})`);
          this.stats.imagesBlind++;
          return;
        }
        this.stats.imagesInferred++;
        dets[slot] = decodeGates(out.subarray(k * plane, (k + 1) * plane), detector.info.layout, batch.scales[k], {
          threshold: cfg.gateThreshold, maxGates: cfg.maxGatesPerImage,
        });
      });
      timings.decodeMs = this.nowMs() - t3;
    }
    const gates: GateObservation[] = [];
    for (let r = 0; r < cameras.length; r += 2) {
      // One rig at a time with the event loop in between: with several gates per rig the geometry of a whole
      // FrameSet holds the loop for a millisecond or two, and the setpoint timer must not wait behind it. The
      // result does not depend on what runs in between (the inputs were all taken above).
      await yieldToLoop();
      const t4 = this.nowMs();
      const res = rigGates(cameras[r]!, cameras[r + 1]!, dets[r]!, dets[r + 1]!, this.geo, down);
      gates.push(...res.gates);
      this.stats.rejectedDetections += res.rejected;
      timings.geometryMs += this.nowMs() - t4;
    }
    timings.mainThreadMs += timings.decodeMs + timings.geometryMs;
    const tUs = this.o.clock.nowUs();
    timings.endToEndMs = (tUs - fs.tSampleUs) / 1000;
    this.stats.framesets++;
    this.stats.gates += gates.length;
    this.stats.tUs = tUs;
    return {
      tUs, tSampleUs: fs.tSampleUs, framesetSeq: fs.seq, gates, imagesUsed: images.length - rejected.filter((r) => /black|saturated/.test(r)).length,
      rejected, provider: detector.provider, timings,
    };
  }
}

/** Lets the event loop run whatever is due (timers, I/O) before the next slice of work. */
function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
