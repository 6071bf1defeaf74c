import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { allRigCameras, mat3Apply, mat3Mul, type RigCamera } from '../camera/rig.js';
import { WallClock } from '../core/clock.js';
import { perceptionSchema, type PerceptionConfig } from '../core/config/perception.js';
import { configWith } from '../core/config/load.js';
import { createLogger } from '../core/logger.js';
import type { CameraImage, FrameSet, PerceptionGates, PerceptionTimings } from '../core/messages.js';
import { summarize } from '../core/stats.js';
import { DetectorSession } from '../perception/detector-session.js';
import { openPerceptionLanes } from '../perception/perception-lanes.js';
import { PerceptionStage } from '../perception/perception-stage.js';
import { NEUTRAL_LOOK } from '../sim/render/look.js';
import { Renderer } from '../sim/render/renderer.js';
import { buildScene } from '../sim/render/scene.js';
import { TopicBus } from '../core/bus.js';
import type { Topics } from '../core/messages.js';
import { startRecording, type Recording } from '../recording/recorder.js';
import { StallWatch, type StallReport } from './stall-watch.js';

const root = (p: string) => fileURLToPath(new URL(`../../../${p}`, import.meta.url));

export interface StageFigures { p50: number; p99: number }
export interface RunFigures {
  framesets: number;
  framesetsPerS: number;
  imagesPerS: number;
  skipped: number;
  gatesPerFrameset: number;
  latencyMs: Record<keyof PerceptionTimings, StageFigures>;
  eventLoopMaxStallMs: number;
  eventLoopP99Ms: number;
  /**
   * Each stall over 5 ms, counted one by one and charged to a cause (stall-watch.ts), with the rate beside the idle
   * loop's and the main thread's garbage collections (count, longest pause).
   */
  stalls: StallReport;
  /**
   * What perception's own code held the loop: the most for one FrameSet (its stretches summed: the loop runs in
   * between) and the longest single stretch (`sliceMs`).
   */
  heldMaxMs: number;
  /** The longest single stretch perception held the event loop (the stall it can cause by itself), p99 and max. */
  sliceMs: { p99: number; max: number };
  /** CPU time of the whole process (all threads: event loop, worker, ONNX Runtime) per FrameSet. */
  cpuMsPerFrameset: number;
  /** 2 cores × 1000 / cpuMsPerFrameset: the rate two otherwise idle cores would allow (an estimate, not a measurement). */
  idleTwoCoreFramesetsPerS: number;
  /**
   * The run as it went, for pictures: its start (epoch ms, the stall records' time base), its length, and per
   * FrameSet when it came out (ms after the start) and its end-to-end latency. Left out of --json output.
   */
  trace: { startMs: number; seconds: number; doneMs: number[]; endToEndMs: number[] };
}

/** What --json leaves out: the per-FrameSet and per-stall series kept for the picture. */
export const jsonWithoutSeries = (res: BenchPerceptionResult): string =>
  JSON.stringify(res, (k, v: unknown) => (k === 'trace' || k === 'all' ? undefined : v));
export interface ModelFigures {
  model: string;
  variant: string;
  mflopsPerImage: number;
  provider: string;
  selfTestMs: number;
  saturated: RunFigures;
  paced: RunFigures & { rateHz: number };
  /** With --record: what the recorder wrote over the three runs (warm-up, saturated, paced); files only when kept. */
  recording?: { messages: number; bytes: number; droppedImages: number; abortedReason: string | null; files: string[] };
}
/**
 * Issue 5's target, judged on the pruned model's paced run at the camera rate (30 Hz or more): that rate in
 * FrameSets/s, end-to-end p99 under 30 ms, and no event-loop stall over 5 ms that this process caused (stall-watch.ts:
 * perception's holds or a main-thread collection cover half of it, or the main thread was blocked in the kernel).
 * The other stalls are reported beside it, with the idle loop's, not hidden: on the loop with neither perception
 * nor GC in it, waiting for a CPU, asleep past a timer.
 */
export interface PerceptionTarget {
  model: string;
  framesetsPerS: number;
  endToEndP99Ms: number;
  stallsCaused: number;
  otherStalls: { onLoop: number; waitingForCpu: number; timerLate: number };
  met: boolean;
}

/** The target verdict for the pruned model's paced run, or null when the pruned model was not measured. */
export function judgeTarget(models: readonly ModelFigures[]): PerceptionTarget | null {
  const m = models.find((x) => x.variant === 'pruned');
  if (!m) return null;
  const p = m.paced;
  const u = p.stalls.uncaused;
  const target = {
    model: m.model, framesetsPerS: p.framesetsPerS, endToEndP99Ms: p.latencyMs.endToEndMs.p99, stallsCaused: p.stalls.caused,
    otherStalls: { onLoop: u.onLoop, waitingForCpu: u.waitingForCpu, timerLate: u.timerLate },
  };
  // 1 % of slack on the rate: the paced run counts what finished inside its window, one FrameSet short at worst.
  // Without the kernel's accounting (not Linux) nothing can be told apart, so the target cannot be judged met.
  const met = p.rateHz >= 30 && p.framesetsPerS >= 0.99 * p.rateHz && target.endToEndP99Ms < 30 && p.stalls.attributed && p.stalls.caused === 0;
  return { ...target, met };
}

export interface BenchPerceptionResult {
  detector: 'worker' | 'inline';
  /** The event loop of this process doing nothing, just before the runs: what the machine's load alone causes. */
  idleEventLoop: { maxStallMs: number; p99Ms: number; stalls: StallReport };
  images: number;
  width: number;
  height: number;
  format: string;
  threads: number;
  /** Perception lanes each FrameSet was shared between (perception-lanes.ts). */
  lanes: number;
  /** perception.cpu.graphOptimization the sessions ran with (one for both models: see the config's comment). */
  graphOptimization: string;
  durationS: number;
  models: ModelFigures[];
  target: PerceptionTarget | null;
}

export interface BenchPerceptionOptions {
  config?: ReturnType<typeof configWith>;
  models?: string[];
  durationS?: number;
  rateHz?: number;
  threads?: number;
  lanes?: PerceptionConfig['lanes'];
  /** Run the session on the event loop's thread (onnxruntime-node blocks it for the inference) instead of the worker. */
  inline?: boolean;
  /** Distinct rendered FrameSets cycled through (rendering is slower than perception on a small machine). */
  distinctFramesets?: number;
  /** Record every FrameSet and perception message meanwhile, with the configuration's recording section. */
  record?: boolean;
  /** With record: keep the log under this base path (per model: `${keep}-${variant}`), instead of a temporary folder. */
  keepRecordingAs?: string;
}

/** Renders `n` FrameSets of all rig cameras from vehicle poses in front of the course's gates. */
function renderFramesets(cams: readonly RigCamera[], formats: ('GRAY8' | 'RGB')[], n: number): CameraImage[][] {
  const scene = buildScene({ seed: 5 });
  const renderers = cams.map((c, k) => new Renderer(scene, c.model, formats[k] === 'RGB' ? 3 : 1));
  const sets: CameraImage[][] = [];
  for (let i = 0; i < n; i++) {
    const g = scene.gates[i % scene.gates.length]!;
    const d = 4 + ((i * 3) % 9);
    const yaw = Math.atan2(g.f_ned[1], g.f_ned[0]);
    const [c, s] = [Math.cos(yaw), Math.sin(yaw)];
    const R_ned_body = [c, -s, 0, s, c, 0, 0, 0, 1] as RigCamera['R_body_cam'];
    const p = [g.c_ned_m[0] - g.f_ned[0] * d, g.c_ned_m[1] - g.f_ned[1] * d, g.c_ned_m[2] - 0.5];
    sets.push(cams.map((cam, k) => {
      const o = mat3Apply(R_ned_body, cam.p_body_m);
      const out = renderers[k]!.render({ p_ned_m: [p[0]! + o[0], p[1]! + o[1], p[2]! + o[2]], R_ned_cam: mat3Mul(R_ned_body, cam.R_body_cam) }, NEUTRAL_LOOK);
      return { tUs: 0, tSampleUs: 0, rig: cam.rig, side: cam.side, seq: i, width: out.width, height: out.height,
        format: out.channels === 3 ? 'RGB' : 'GRAY8', data: out.image } satisfies CameraImage;
    }));
  }
  return sets;
}

/** Where the stage's holds go: the StallWatch of the run in progress. */
interface HoldSink { watch: StallWatch | null }

/**
 * The bus a recorder listens on (--record): each FrameSet and message is published on it as the daemon publishes
 * them, and the time a FrameSet's publication takes (the recorder copying its pixels) is reported as a hold.
 */
function recordingBus(sink: HoldSink): { bus: TopicBus<Topics>; frameSet(fs: FrameSet): void; gates(m: PerceptionGates): void } {
  const bus = new TopicBus<Topics>();
  return {
    bus,
    frameSet(fs) {
      const t = performance.now();
      bus.publish('camera/frameset', fs);
      sink.watch?.hold(t, performance.now() - t, 'record');
    },
    gates: (m) => bus.publish('perception/gates', m),
  };
}

async function measure(
  stage: PerceptionStage, sink: HoldSink, sets: CameraImage[][], clock: WallClock, durationS: number, rateHz: number | null,
  rec: ReturnType<typeof recordingBus> | null = null,
): Promise<RunFigures> {
  // What the figures need of each message, not the message: the daemon lets its messages die young, and a bench
  // that kept them all would make every young-generation collection copy them (longer GC pauses than the flight's).
  const msgs: (Pick<PerceptionGates, 'timings' | 'imagesUsed'> & { gates: number; doneMs: number })[] = [];
  let t0 = performance.now();
  let seq = 0;
  let inFlight = 0;
  let skipped = 0;
  const h = monitorEventLoopDelay({ resolution: 1 });
  let failed: unknown = null;
  let running = true;
  const feed = (): void => {
    const t = clock.nowUs();
    const images = sets[seq % sets.length]!.map((img) => ({ ...img, tUs: t, tSampleUs: t }));
    const fs: FrameSet = { tUs: t, tSampleUs: t, seq: seq++, images, holes: [], dead: [], skewUs: 0 };
    inFlight++;
    rec?.frameSet(fs);
    stage.process(fs).then(
      (m) => {
        rec?.gates(m);
        msgs.push({ timings: m.timings, imagesUsed: m.imagesUsed, gates: m.gates.length, doneMs: performance.now() - t0 });
        inFlight--;
        if (rateHz === null && running) feed();
      },
      (err: unknown) => {
        // Stop feeding and report it once the run has drained: a bench that hangs on a failed FrameSet says nothing.
        failed ??= err;
        running = false;
        inFlight--;
      },
    );
  };
  const watch = await StallWatch.start(5);
  sink.watch = watch;
  let timer: NodeJS.Timeout | null = null;
  let stalls: StallReport;
  let elapsed: number;
  let cpu: NodeJS.CpuUsage;
  try {
    h.enable();
    const cpu0 = process.cpuUsage();
    t0 = performance.now();
    if (rateHz === null) {
      feed();
      feed();
    } else {
      // Camera-paced: FrameSet k is due at t0 + k/rate whatever the timers' lateness; one that finds two in flight
      // is skipped, as the stage skips on the bus.
      let due = 0;
      const tick = (): void => {
        const now = performance.now();
        while (running && t0 + (due * 1000) / rateHz <= now) {
          due++;
          if (inFlight < 2) feed();
          else skipped++;
        }
        if (running) timer = setTimeout(tick, Math.max(0, t0 + (due * 1000) / rateHz - performance.now()));
      };
      tick();
    }
    await new Promise((r) => setTimeout(r, durationS * 1000));
    running = false;
    elapsed = (performance.now() - t0) / 1000;
    while (inFlight > 0) await new Promise((r) => setTimeout(r, 5));
    cpu = process.cpuUsage(cpu0);
  } finally {
    running = false;
    if (timer) clearTimeout(timer);
    h.disable();
    sink.watch = null;
    // The watch ran on while the last FrameSets drained: its rate is per second of its own span, not of the feeding.
    stalls = await watch.stop();
  }
  if (failed) throw failed;
  const keys: (keyof PerceptionTimings)[] = ['queueMs', 'preprocessMs', 'inferenceMs', 'decodeMs', 'geometryMs', 'endToEndMs', 'mainThreadMs'];
  const r3 = (v: number) => Math.round(v * 100) / 100;
  const latencyMs = Object.fromEntries(keys.map((k) => {
    const s = summarize(msgs.map((m) => m.timings[k] ?? 0));
    return [k, { p50: r3(s.p50), p99: r3(s.p99) }];
  })) as RunFigures['latencyMs'];
  const images = msgs.reduce((a, m) => a + m.imagesUsed, 0);
  return {
    framesets: msgs.length,
    framesetsPerS: r3(msgs.length / elapsed),
    imagesPerS: r3(images / elapsed),
    skipped,
    gatesPerFrameset: r3(msgs.reduce((a, m) => a + m.gates, 0) / Math.max(1, msgs.length)),
    latencyMs,
    cpuMsPerFrameset: r3((cpu.user + cpu.system) / 1000 / Math.max(1, msgs.length)),
    idleTwoCoreFramesetsPerS: r3((2 * 1000 * Math.max(1, msgs.length)) / ((cpu.user + cpu.system) / 1000)),
    eventLoopMaxStallMs: r3(h.max / 1e6),
    eventLoopP99Ms: r3(h.percentile(99) / 1e6),
    stalls,
    heldMaxMs: r3(msgs.reduce((a, m) => Math.max(a, m.timings.mainThreadMs ?? 0), 0)),
    sliceMs: { p99: r3(summarize(msgs.map((m) => m.timings.mainThreadMaxSliceMs ?? 0)).p99), max: r3(msgs.reduce((a, m) => Math.max(a, m.timings.mainThreadMaxSliceMs ?? 0), 0)) },
    trace: { startMs: performance.timeOrigin + t0, seconds: elapsed, doneMs: msgs.map((m) => m.doneMs), endToEndMs: msgs.map((m) => m.timings.endToEndMs) },
  };
}

export async function benchPerception(opts: BenchPerceptionOptions = {}): Promise<BenchPerceptionResult> {
  const config = opts.config ?? configWith({});
  const threads = opts.threads ?? config.perception.cpu.intraOpThreads;
  const durationS = opts.durationS ?? 4;
  const rigs = config.camera.rigs.filter((r) => r.enabled);
  const cams = allRigCameras(config.camera.rigs);
  const formats = rigs.flatMap((r) => [r.format, r.format]);
  const rateHz = opts.rateHz ?? rigs[0]!.fps;
  const sets = renderFramesets(cams, formats, opts.distinctFramesets ?? 4);
  const log = createLogger({ level: 'warn', format: 'json', stream: process.stderr });
  const models = opts.models ?? [root('models/gate-detector.onnx'), root('models/gate-detector-dense.onnx')];
  const out: ModelFigures[] = [];
  let lanes = 1;
  const idle = monitorEventLoopDelay({ resolution: 1 });
  idle.enable();
  const idleWatch = await StallWatch.start(5);
  await new Promise((r) => setTimeout(r, Math.max(2, durationS) * 1000));
  idle.disable();
  const idleStalls = await idleWatch.stop();
  const idleEventLoop = {
    maxStallMs: Math.round(idle.max / 1e4) / 100, p99Ms: Math.round(idle.percentile(99) / 1e4) / 100,
    stalls: idleStalls,
  };
  for (const model of models) {
    const cfg: PerceptionConfig = perceptionSchema.parse({ ...config.perception, model, cpu: { ...config.perception.cpu, intraOpThreads: threads } });
    const opened = await openPerceptionLanes(cfg, log, cams.length, {
      lanes: opts.inline ? 1 : opts.lanes ?? cfg.lanes,
      ...(opts.inline ? { open: (c: PerceptionConfig) => DetectorSession.open(c, log) } : {}),
    });
    const session = opened.detector;
    lanes = opened.lanes.length;
    const clock = new WallClock();
    const sink: HoldSink = { watch: null };
    const stage = new PerceptionStage({ cfg, cameras: cams, lanes: opened.lanes, clock, log, onHold: (start, ms, kind) => sink.watch?.hold(start, ms, kind) });
    const rb = opts.record ? recordingBus(sink) : null;
    // The log goes where the daemon's would (same disk, same write costs), in a folder of its own that is deleted after.
    let dir: string | null = null;
    let basePath = opts.keepRecordingAs ? `${opts.keepRecordingAs.replace(/\.mcap$/i, '')}-${session.info.variant}` : null;
    if (rb && !basePath) {
      mkdirSync(config.recording.dir, { recursive: true });
      dir = mkdtempSync(join(config.recording.dir, '.bench-perception-'));
      basePath = join(dir, 'bench');
    } else if (basePath) mkdirSync(dirname(basePath), { recursive: true });
    let recording: Recording | null = null;
    try {
      if (rb) recording = startRecording(rb.bus, clock, { ...config.recording, enabled: true }, { basePath: basePath!, metadata: { mode: 'bench-perception' } });
      await measure(stage, sink, sets, clock, Math.min(1, durationS), null, rb); // warm-up: JIT, ONNX Runtime arenas, buffers
      const saturated = await measure(stage, sink, sets, clock, durationS, null, rb);
      const paced = await measure(stage, sink, sets, clock, durationS, rateHz, rb);
      const summary = recording ? await recording.stop() : null;
      out.push({
        model, variant: session.info.variant, mflopsPerImage: Math.round(session.info.flops / 1e5) / 10, provider: session.provider,
        selfTestMs: Math.round(session.selfTestMs * 10) / 10, saturated, paced: { ...paced, rateHz },
        ...(summary ? {
          recording: {
            messages: summary.messages, bytes: summary.bytes, droppedImages: summary.droppedImages, abortedReason: summary.abortedReason,
            files: dir ? [] : summary.files,
          },
        } : {}),
      });
    } finally {
      try {
        await recording?.stop().catch(() => undefined);
        await opened.close();
      } finally {
        if (dir) rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  return { detector: opts.inline ? 'inline' : 'worker', idleEventLoop, graphOptimization: config.perception.cpu.graphOptimization, images: cams.length, width: cams[0]!.model.width, height: cams[0]!.model.height, format: formats[0]!, threads, lanes, durationS, models: out, target: judgeTarget(out) };
}
