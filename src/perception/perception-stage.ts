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

/**
 * One preprocessing worker and one detector: a share of each FrameSet's images goes through it. Several lanes split
 * a FrameSet between them, so on a CPU its images are converted and inferred on every core at once (perception-
 * lanes.ts says why that beats ONNX Runtime's own threads); a GPU takes the whole batch in one lane.
 */
export interface PerceptionLane {
  detector: Detector;
  pre: BatchPreprocessor;
}

export interface PerceptionStageOptions {
  cfg: PerceptionConfig;
  /** Cameras in FrameSet slot order (camera/rig.ts allRigCameras): pairs left, right per rig. */
  cameras: readonly RigCamera[];
  /** At least one; lane k takes the k-th of as many contiguous, near-equal shares of the images. */
  lanes: readonly PerceptionLane[];
  clock: Clock;
  log: Logger;
  /** FrameSets being worked on at once: one preprocessed while the previous one is inferred. */
  maxInFlight?: number;
  /** Milliseconds for the stage timings (a measurement only, never used in a decision). */
  nowMs?: () => number;
  /**
   * Hears of every stretch the stage holds the event loop (start in performance.now() milliseconds, so only with
   * the default `nowMs`; length in ms): a measurement only, for `racepilot bench perception` to tell the stage's
   * own holds from other causes of a loop stall.
   */
  onHold?: (startMs: number, ms: number, kind: HoldKind) => void;
}

/**
 * What the stage does while it holds the event loop: taking a FrameSet in and handing its shares to the lanes, copying
 * one image into shared memory, decoding a lane's network output, or the geometry of one rig.
 */
export type HoldKind = 'intake' | 'copy' | 'decode' | 'geometry';

/**
 * The perception stage: FrameSet in, `perception/gates` out. The pixels go to the lanes' workers
 * (batch-preprocess.ts), the network runs in the detectors' worker threads, and only the pixel copy, decoding and
 * geometry (well under a millisecond per gate) run on the event loop. Each lane's inferences are serialised in
 * FrameSet order, and messages come out in FrameSet order; when FrameSets arrive faster than they can be processed,
 * the newest ones are skipped and counted rather than queued (stale perception is worse than none).
 *
 * Bad input never crashes it and never makes a gate: a missing image, one of the wrong size or format, and a black
 * or saturated image are each named in the message's `rejected` list and counted; only the others are inferred on.
 */
export class PerceptionStage {
  /** FrameSets being worked on. */
  private readonly pending = new Set<Promise<PerceptionGates>>();
  /** The FrameSet taken in last, settled: the next one comes out after it (see work). */
  private previous: Promise<void> = Promise.resolve();
  /** Per lane: the inference before which the next one waits. */
  private readonly chains: Promise<unknown>[];
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
    if (o.lanes.length === 0) throw new RangeError('perception needs at least one lane (detector and preprocessor)');
    this.chains = o.lanes.map(() => Promise.resolve());
  }

  /** The execution provider that runs the detector (the first lane's; all lanes open on the same one). */
  get provider(): string {
    return this.o.lanes[0]!.detector.provider;
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
    const job = this.work(fs, this.previous);
    this.previous = job.then(() => undefined, () => undefined);
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

  /**
   * One lane's share of a FrameSet: preprocessed in its worker, then inferred once the lane's previous inference is
   * done (the next FrameSet's preprocessing overlaps this one's inference), and decoded at once, in the same
   * continuation: the detector's output buffer is only guaranteed until the lane's run after next, and another lane
   * may still be busy with this FrameSet. `blind[k]` marks a black or saturated image, which is not decoded.
   */
  private async inferShare(l: number, images: BatchImage[], t0: number) {
    const { detector, pre } = this.o.lanes[l]!;
    const { cfg } = this.o;
    const onHold = this.o.onHold;
    const batch = await pre.run(images, onHold && ((start, ms) => onHold(start, ms, 'copy')));
    const t1 = this.nowMs();
    const prev = this.chains[l]!;
    let done!: () => void;
    this.chains[l] = new Promise<void>((r) => (done = r));
    let out: Float32Array;
    let t2: number;
    try {
      await prev;
      t2 = this.nowMs();
      out = await detector.run(batch.tensor, batch.batch);
    } finally {
      batch.release();
      done();
    }
    const t3 = this.nowMs();
    const { layout } = detector.info;
    const plane = 13 * layout.width * layout.height;
    const blind: ('black' | 'saturated' | null)[] = [];
    const dets: DecodedGate[][] = [];
    batch.means.forEach((mean, k) => {
      blind.push(mean < cfg.blindMeanBelow ? 'black' : mean > cfg.blindMeanAbove ? 'saturated' : null);
      dets.push(blind[k] ? [] : decodeGates(out.subarray(k * plane, (k + 1) * plane), layout, batch.scales[k]!, {
        threshold: cfg.gateThreshold, maxGates: cfg.maxGatesPerImage,
      }));
    });
    const doneMs = this.nowMs();
    this.o.onHold?.(t3, doneMs - t3, 'decode');
    return {
      dets, blind, means: batch.means, preprocessMs: t1 - t0, queueMs: t2 - t1, inferenceMs: t3 - t2, decodeMs: doneMs - t3, inferredMs: t3,
      copyMs: batch.copyMs, copyMaxSliceMs: batch.copyMaxSliceMs,
    };
  }

  private async work(fs: FrameSet, previous: Promise<void>): Promise<PerceptionGates> {
    const t0 = this.nowMs();
    const { cameras, cfg } = this.o;
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
    const timings = { queueMs: 0, preprocessMs: 0, inferenceMs: 0, decodeMs: 0, geometryMs: 0, endToEndMs: 0, mainThreadMs: 0, mainThreadMaxSliceMs: 0 };
    const slice = (ms: number) => (timings.mainThreadMaxSliceMs = Math.max(timings.mainThreadMaxSliceMs, ms));
    const dets: DecodedGate[][] = cameras.map(() => []);
    if (images.length > 0) {
      // The lanes copy their pixels into shared memory one image per turn of the event loop (BatchPreprocessor.run).
      const shares = splitShares(images.length, this.o.lanes.length);
      const running = shares.map(([from, to], l) => this.inferShare(l, images.slice(from, to), t0));
      timings.mainThreadMs = this.nowMs() - t0;
      slice(timings.mainThreadMs);
      this.o.onHold?.(t0, timings.mainThreadMs, 'intake');
      // Every lane settles before this FrameSet does, failed or not: idle() must not report the stage idle while a
      // lane is still inside ONNX Runtime.
      const settled = await Promise.allSettled(running);
      const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      const results = settled.map((r) => (r as PromiseFulfilledResult<Awaited<(typeof running)[number]>>).value);
      // The stage timings of the lane that finished last: the one the FrameSet waited for.
      const last = results.reduce((a, b) => (b.inferredMs > a.inferredMs ? b : a));
      Object.assign(timings, { preprocessMs: last.preprocessMs, queueMs: last.queueMs, inferenceMs: last.inferenceMs });
      // Assembled in slot order whichever lane finished first: the message must not depend on timing.
      results.forEach((res, l) => {
        const [from] = shares[l]!;
        timings.decodeMs += res.decodeMs;
        timings.mainThreadMs += res.copyMs;
        slice(res.decodeMs);
        slice(res.copyMaxSliceMs);
        res.dets.forEach((d, k) => {
          const slot = slots[from + k]!;
          const cam = cameras[slot]!;
          const blind = res.blind[k];
          if (blind) {
            rejected.push(`${cam.rig}/${cam.side}: ${blind} (mean ${res.means[k]!.toFixed(1)})`);
            this.stats.imagesBlind++;
            return;
          }
          this.stats.imagesInferred++;
          dets[slot] = d;
        });
      });
    }
    // FrameSets come out in the order they went in: each lane keeps its own order, but a FrameSet with fewer usable
    // images uses fewer lanes and could otherwise overtake the one before it.
    await previous;
    const gates: GateObservation[] = [];
    for (let r = 0; r < cameras.length; r += 2) {
      // One rig at a time with the event loop in between: with several gates per rig the geometry of a whole
      // FrameSet holds the loop for a millisecond or two, and the setpoint timer must not wait behind it. The
      // result does not depend on what runs in between (the inputs were all taken above).
      // Not in a worker of its own: tried on a branch that was not kept (2026-11-26, five alternating 20 s pairs of
      // `racepilot bench perception` on two cores, geometry in the worker against here), it cut the saturated run's loop stalls it caused from 23-34 to 3-7 and main-thread
      // collections threefold, but the paced run, the one the flight sees, got slower (end-to-end p99 median 28.6
      // against 25.0 ms): a SCHED_IDLE worker waits behind the lanes' workers, and at normal priority it takes the
      // CPU from the event loop instead.
      await yieldToLoop();
      const t4 = this.nowMs();
      const res = rigGates(cameras[r]!, cameras[r + 1]!, dets[r]!, dets[r + 1]!, this.geo, down);
      gates.push(...res.gates);
      this.stats.rejectedDetections += res.rejected;
      const ms = this.nowMs() - t4;
      timings.geometryMs += ms;
      slice(ms);
      this.o.onHold?.(t4, ms, 'geometry');
    }
    timings.mainThreadMs += timings.decodeMs + timings.geometryMs;
    const tUs = this.o.clock.nowUs();
    timings.endToEndMs = (tUs - fs.tSampleUs) / 1000;
    this.stats.framesets++;
    this.stats.gates += gates.length;
    this.stats.tUs = tUs;
    return {
      tUs, tSampleUs: fs.tSampleUs, framesetSeq: fs.seq, gates, imagesUsed: images.length - rejected.filter((r) => /black|saturated/.test(r)).length,
      rejected, provider: this.provider, timings,
    };
  }
}

/**
 * Images [from, to) of the FrameSet's accepted images for each of `lanes` lanes: contiguous, sizes differing by at
 * most one, empty shares left out (fewer images than lanes).
 */
export function splitShares(images: number, lanes: number): [number, number][] {
  const out: [number, number][] = [];
  for (let l = 0; l < lanes; l++) {
    const from = Math.floor((l * images) / lanes);
    const to = Math.floor(((l + 1) * images) / lanes);
    if (to > from) out.push([from, to]);
  }
  return out;
}

/** Lets the event loop run whatever is due (timers, I/O) before the next slice of work. */
function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
