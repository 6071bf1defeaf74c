import { parseArgs } from 'node:util';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { CameraIngest } from '../camera/camera-ingest.js';
import { BufferRing, FrameAssembler, splitSideBySide } from '../camera/frame-splitter.js';
import { bytesPerPixel } from '../camera/rig.js';
import { TopicBus } from '../core/bus.js';
import { WallClock } from '../core/clock.js';
import type { CameraConfig } from '../core/config/camera.js';
import { configWith, loadConfig } from '../core/config/load.js';
import { UsageError, type RacepilotError } from '../core/errors.js';
import type { CameraStreamStats, FrameSetStats, Topics } from '../core/messages.js';

/**
 * `racepilot bench camera`: how many frames per second the ingest sustains for the configured rigs (four by
 * default) through real gst-launch-1.0 videotestsrc pipelines at the configured size, format and rate, and what
 * it costs the daemon's event loop. The rigs' own sources are replaced by the videotestsrc preset so the bench runs
 * anywhere; `--unthrottled` drops the live pacing to find the ceiling (then GStreamer's own work on this machine's
 * cores is usually the limit, not the ingest).
 *
 * RENDER HOOK: the render rate for eight images is measured by `benchCameraRender` in src/sim/render/bench.ts (the
 * renderer's file). `run` calls it after the ingest unless `--no-render`; it is loaded only if present.
 */
export interface CameraIngestBenchOptions {
  config: CameraConfig;
  durationS: number;
  warmupS: number;
  /** false: videotestsrc as fast as it can (is-live=false). */
  live: boolean;
}

export interface CameraIngestBenchResult {
  rigs: number;
  streams: number;
  width: number;
  height: number;
  format: string;
  configuredFps: number;
  live: boolean;
  durationS: number;
  /** Images per second, all cameras together, and per camera. */
  imagesPerS: number;
  framesPerSPerStream: Record<string, number>;
  frameSetsPerS: number;
  frameSetsWithHolesPct: number;
  megabytesPerS: number;
  /** Frames missing at the end, all streams (rate-based, see CameraStreamStats.dropped); late and restarts count the measured window. */
  dropped: number;
  late: number;
  restarts: number;
  lateImagesAtSync: number;
  /** CPU time of this process (user+system) as a share of one core. */
  daemonCpuPctOfOneCore: number;
  eventLoopDelayMs: { p50: number; p99: number; max: number };
  /** In-process cost of cutting 64 KiB pipe chunks into one side-by-side frame and splitting it (µs), no GStreamer. */
  cutAndSplitUsPerFrame: number;
  fatal: string[];
}

/** The ingest's own per-frame work, on this process alone: pipe chunks → frame → left/right pooled images. */
export function measureCutAndSplit(width: number, height: number, bpp: number, frames: number): number {
  const frameBytes = 2 * width * height * bpp;
  const chunk = 65536;
  const stream = Buffer.alloc(frameBytes, 7);
  const rings = [new BufferRing(width * height * bpp, 8), new BufferRing(width * height * bpp, 8)];
  const scratch = Buffer.alloc(frameBytes);
  let done = 0;
  const asm = new FrameAssembler(frameBytes, () => scratch, (f) => {
    splitSideBySide(f, width, height, bpp, rings[0]!.next(), rings[1]!.next());
    done++;
  });
  const t0 = performance.now();
  for (let k = 0; k < frames; k++) for (let off = 0; off < frameBytes; off += chunk) asm.push(stream.subarray(off, off + chunk));
  const us = ((performance.now() - t0) * 1000) / done;
  return Math.round(us * 10) / 10;
}

export async function benchCameraIngest(opts: CameraIngestBenchOptions): Promise<CameraIngestBenchResult> {
  const config: CameraConfig = {
    ...opts.config,
    rigs: opts.config.rigs.map((r) => ({ ...r, source: r.source.preset === 'videotestsrc' ? r.source : { preset: 'videotestsrc' as const, pattern: 'ball' } })),
  };
  const rigs = config.rigs.filter((r) => r.enabled);
  const clock = new WallClock();
  const bus = new TopicBus<Topics>();
  const fatal: RacepilotError[] = [];
  const ingest = new CameraIngest({ config, clock, bus, onFatal: (e) => fatal.push(e), preset: { live: opts.live } });
  let counting = false;
  let images = 0;
  let sets = 0;
  let setsWithHoles = 0;
  let bytes = 0;
  const perStream = new Map<string, number>();
  bus.subscribe('camera/frameset', (fs) => {
    if (!counting) return;
    sets++;
    if (fs.holes.length) setsWithHoles++;
    for (const img of fs.images) {
      if (!img) continue;
      images++;
      bytes += img.data.length;
      const k = `${img.rig}/${img.side}`;
      perStream.set(k, (perStream.get(k) ?? 0) + 1);
    }
  });
  ingest.start();
  await sleep(opts.warmupS * 1000);
  const startStats = ingest.streams.map((s) => s.stats());
  const startSync: FrameSetStats = ingest.sync.stats(clock.nowUs());
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const cpu0 = process.cpuUsage();
  const t0 = clock.nowUs();
  counting = true;
  await sleep(opts.durationS * 1000);
  counting = false;
  const elapsedS = (clock.nowUs() - t0) / 1e6;
  const cpu = process.cpuUsage(cpu0);
  loop.disable();
  const endStats = ingest.streams.map((s) => s.stats());
  const endSync = ingest.sync.stats(clock.nowUs());
  await ingest.stop();
  const delta = (k: keyof Pick<CameraStreamStats, 'late' | 'restarts'>) =>
    endStats.reduce((a, s, i) => a + s[k] - startStats[i]![k], 0);
  const r0 = rigs[0]!;
  const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
  return {
    rigs: rigs.length,
    streams: ingest.streams.length,
    width: r0.width,
    height: r0.height,
    format: r0.format,
    configuredFps: r0.fps,
    live: opts.live,
    durationS: round(elapsedS, 2),
    imagesPerS: round(images / elapsedS),
    framesPerSPerStream: Object.fromEntries([...perStream].map(([k, n]) => [k, round(n / elapsedS)])),
    frameSetsPerS: round(sets / elapsedS),
    frameSetsWithHolesPct: sets ? round((100 * setsWithHoles) / sets) : 0,
    megabytesPerS: round(bytes / elapsedS / 1e6),
    dropped: endStats.reduce((a, s) => a + s.dropped, 0),
    late: delta('late'),
    restarts: delta('restarts'),
    lateImagesAtSync: endSync.lateImages - startSync.lateImages,
    daemonCpuPctOfOneCore: round(((cpu.user + cpu.system) / 1e6 / elapsedS) * 100),
    cutAndSplitUsPerFrame: measureCutAndSplit(r0.width, r0.height, bytesPerPixel(r0.format), 200),
    eventLoopDelayMs: { p50: round(loop.percentile(50) / 1e6, 2), p99: round(loop.percentile(99) / 1e6, 2), max: round(loop.max / 1e6, 2) },
    fatal: fatal.map((e) => e.message),
  };
}

const USAGE = `usage: racepilot bench camera [--config FILE] [--duration S] [--warmup S] [--unthrottled] [--no-render] [--json]

Frames per second the camera ingest sustains for the configured rigs (four stereo rigs by default) through
gst-launch-1.0 videotestsrc pipelines at the configured size and rate, its CPU and event-loop cost, and (unless
--no-render) the render rate of the simulator's eight images.

  --config FILE   configuration whose camera section to use (default: built-in defaults)
  --duration S    measured seconds (default 5)
  --warmup S      seconds before measuring, for the pipelines to start (default 1.5)
  --unthrottled   videotestsrc without live pacing: the ceiling, not the sustained rate
  --no-render     ingest only
  --json          one JSON object on stdout
`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      duration: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '1.5' },
      unthrottled: { type: 'boolean', default: false },
      'no-render': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const durationS = Number(values.duration);
  const warmupS = Number(values.warmup);
  if (!(durationS > 0 && durationS <= 600)) throw new UsageError(`--duration: expected seconds in (0, 600], got "${values.duration}"`);
  if (!(warmupS >= 0 && warmupS <= 60)) throw new UsageError(`--warmup: expected seconds in [0, 60], got "${values.warmup}"`);
  const config = values.config ? loadConfig(values.config) : configWith({});
  const ingest = await benchCameraIngest({ config: config.camera, durationS, warmupS, live: !values.unthrottled });
  let render: unknown = null;
  if (!values['no-render']) render = await renderHook(config.camera, durationS);
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ ingest, render })}\n`);
  } else {
    const i = ingest;
    const bpp = bytesPerPixel(config.camera.rigs[0]!.format);
    process.stdout.write(
      `camera ingest: ${i.rigs} rigs, ${i.streams} gst-launch-1.0 pipelines, ${i.width}x${i.height} ${i.format} (${bpp} B/px) at ${i.configuredFps} fps${i.live ? '' : ' (unthrottled)'}, ${i.durationS} s\n` +
        `  images/s ${i.imagesPerS} (${i.megabytesPerS} MB/s), FrameSets/s ${i.frameSetsPerS} (${i.frameSetsWithHolesPct}% with holes)\n` +
        `  per camera: ${Object.entries(i.framesPerSPerStream).map(([k, v]) => `${k} ${v}`).join(', ')}\n` +
        `  dropped ${i.dropped}, late ${i.late}, restarts ${i.restarts}, late at sync ${i.lateImagesAtSync}\n` +
        `  cut+split in-process: ${i.cutAndSplitUsPerFrame} µs per side-by-side frame\n` +
        `  daemon CPU ${i.daemonCpuPctOfOneCore}% of one core, event-loop delay p50 ${i.eventLoopDelayMs.p50} ms p99 ${i.eventLoopDelayMs.p99} ms max ${i.eventLoopDelayMs.max} ms\n` +
        (i.fatal.length ? `  FAILED: ${i.fatal.join('; ')}\n` : '') +
        `render: ${render === null ? 'skipped' : JSON.stringify(render)}\n`,
    );
  }
  return ingest.fatal.length ? 1 : 0;
}

/**
 * RENDER HOOK. The renderer engineer's src/sim/render/bench.ts exports
 * `benchCameraRender(opts: { camera: CameraConfig; durationS: number }): Promise<object>`; loaded by name so this
 * command works (reporting why) before or without that file.
 */
async function renderHook(camera: CameraConfig, durationS: number): Promise<unknown> {
  const specifier = '../sim/render/bench.js';
  let mod: { benchCameraRender?: (o: { camera: CameraConfig; durationS: number }) => Promise<unknown> };
  try {
    mod = (await import(specifier)) as typeof mod;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') return { skipped: 'src/sim/render/bench.ts not present' };
    throw err;
  }
  if (typeof mod.benchCameraRender !== 'function') return { skipped: 'src/sim/render/bench.ts has no benchCameraRender export' };
  return mod.benchCameraRender({ camera, durationS });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
