import { spawn, type ChildProcess } from 'node:child_process';
import type { Clock, Timer } from '../core/clock.js';
import { ConfigError, LinkError, type RacepilotError } from '../core/errors.js';
import type { CameraImage, CameraStreamStats } from '../core/messages.js';
import { BufferRing, FrameAssembler, splitSideBySide } from './frame-splitter.js';
import { pipelineArgs, type StreamSpec } from './presets.js';

/**
 * One gst-launch-1.0 child per stream, raw frames on its stdout, cut into CameraImages.
 *
 * Capture timestamps. A frame's `tUs` is the injected clock's monotonic time when its last byte was read from the
 * pipe; `tSampleUs` is that minus the rig's configured `pipelineLatencyMs` (exposure → ISP → conversion → pipe).
 * fdsink writes a whole buffer at once, so the last byte arrives within a pipe read of the write. How far it can be
 * trusted: (1) jitter: the time the event loop takes to get to the pipe, typically under a millisecond on an idle
 * loop and up to the loop's longest stall (a few ms by design, more on a loaded two-core machine); frames that
 * arrive in the same read (small frames, a stalled loop) share one time. (2) bias: the configured latency is a
 * constant guess; the real one varies with exposure time (up to a frame period) and must be measured per setup.
 * GStreamer's own buffer timestamps are running times on the pipeline clock, not ours, and fdsink drops them, so
 * they would need a side channel per buffer; for ±few-ms camera sync arrival time is the robust choice.
 *
 * Failures. A child that exits or stalls (no frame for `stallPeriods` frame periods) is killed and restarted with
 * exponential backoff; the gap shows in `dropped` and `maxGapUs`. A pipeline gst-launch cannot parse or link is a
 * configuration error: no restart, `onFatal` with an error naming the rig.
 */
export interface GstStreamOptions {
  spec: StreamSpec;
  clock: Clock;
  /** Subtracted from arrival to give the capture time (µs). */
  latencyUs?: number;
  /** Pooled buffers per image (see CameraImage.data). */
  bufferFrames?: number;
  stallPeriods?: number;
  restart?: { initialS: number; maxS: number };
  /** Restart when the pipeline ends by itself (EOS, exit code 0). Tests with num-buffers turn it off. */
  restartOnEnd?: boolean;
  /** Left then right for a side-by-side stream; one image for a mono stream. */
  onImages: (images: CameraImage[]) => void;
  onStats?: (stats: CameraStreamStats) => void;
  onFatal?: (err: RacepilotError) => void;
  statsIntervalUs?: number;
  /** How long a freshly started pipeline may take to its first frame before it counts as stalled (µs). */
  startupGraceUs?: number;
  gstLaunch?: string;
}

/**
 * Backoff before restart number `failuresInARow` + 1 (counted since the last frame): initial, doubling, capped.
 * A camera that delivers again resets it.
 */
export function restartDelayS(failuresInARow: number, r: { initialS: number; maxS: number }): number {
  return Math.min(r.maxS, r.initialS * 2 ** failuresInARow);
}

/** Lines gst-launch prints when the pipeline text itself is wrong, as opposed to a device failing at run time. */
const PIPELINE_ERROR = /erroneous pipeline|no element|could not link|syntax error|no property|could not set property|unbalanced/i;

export class GstStream {
  private child: ChildProcess | null = null;
  private readonly assembler: FrameAssembler;
  private readonly rings: BufferRing[];
  private readonly periodUs: number;
  private state: CameraStreamStats['state'] = 'stopped';
  private stderrTail = '';
  private frames = 0;
  private framesAtLastStats = 0;
  private fps = 0;
  private lastStatsUs = 0;
  private dropped = 0;
  private late = 0;
  private restarts = 0;
  private failuresInARow = 0;
  private maxGapUs = 0;
  private lastFrameUs: number | null = null;
  private firstFrameUs: number | null = null;
  private runStartUs = 0;
  private framesThisRun = 0;
  private lastError: string | null = null;
  private watchdog: Timer | null = null;
  private statsTimer: Timer | null = null;
  private restartTimer: Timer | null = null;
  private stopping = false;
  private stallKill = false;
  private endWaiters: (() => void)[] = [];

  constructor(private readonly opts: GstStreamOptions) {
    const { spec } = opts;
    const imageBytes = spec.width * spec.height * spec.bpp;
    const count = opts.bufferFrames ?? 8;
    this.periodUs = 1e6 / spec.fps;
    if (spec.layout === 'side-by-side') {
      this.rings = [new BufferRing(imageBytes, count), new BufferRing(imageBytes, count)];
      // The split copies synchronously, so one scratch frame is enough.
      const scratch = Buffer.alloc(spec.frameBytes);
      this.assembler = new FrameAssembler(spec.frameBytes, () => scratch, (f) => this.onSbsFrame(f));
    } else {
      this.rings = [new BufferRing(imageBytes, count)];
      this.assembler = new FrameAssembler(spec.frameBytes, () => this.rings[0]!.next(), (f) => this.onMonoFrame(f));
    }
  }

  get name(): string {
    return this.opts.spec.name;
  }

  /** The running child's pid (tests kill it to check the restart). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    if (this.state !== 'stopped') return;
    this.stopping = false;
    this.state = 'starting';
    this.lastStatsUs = this.opts.clock.nowUs();
    const stallUs = (this.opts.stallPeriods ?? 10) * this.periodUs;
    this.watchdog = this.opts.clock.every(Math.max(this.periodUs, 10_000), () => {
      // No child: a restart is already scheduled. A restarted child that never delivers is caught like any other.
      if (!this.child) return;
      // A fresh gst-launch needs a moment to build its pipeline (hundreds of ms, seconds for nvarguscamerasrc).
      const firstFrame = this.framesThisRun === 0;
      const since = firstFrame ? this.runStartUs : this.lastFrameUs!;
      const limitUs = firstFrame ? Math.max(stallUs, this.opts.startupGraceUs ?? 5e6) : stallUs;
      if (this.opts.clock.nowUs() - since > limitUs) {
        this.stallKill = true;
        this.lastError = `stalled: no frame for ${Math.round(limitUs / 1000)} ms`;
        this.child.kill('SIGKILL');
      }
    });
    this.statsTimer = this.opts.clock.every(this.opts.statsIntervalUs ?? 1e6, () => {
      this.measureFps();
      this.opts.onStats?.(this.stats());
    });
    this.spawnChild();
  }

  /** Stops the child and the timers; resolves once the child has exited. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.watchdog?.cancel();
    this.statsTimer?.cancel();
    this.restartTimer?.cancel();
    this.watchdog = this.statsTimer = this.restartTimer = null;
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      await exited;
    }
    if (this.state !== 'failed') this.state = 'stopped';
    this.flushWaiters();
  }

  /** Resolves when the stream has stopped for good: stop(), a fatal error, or an end without restart. */
  whenEnded(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'failed') return Promise.resolve();
    return new Promise((resolve) => this.endWaiters.push(resolve));
  }

  /** A snapshot of the counters; `fps` is over the last stats interval. */
  stats(): CameraStreamStats {
    return {
      tUs: this.opts.clock.nowUs(),
      stream: this.opts.spec.name,
      state: this.state,
      frames: this.frames,
      dropped: this.dropped,
      late: this.late,
      restarts: this.restarts,
      maxGapUs: this.maxGapUs,
      fps: this.fps,
      lastError: this.lastError,
    };
  }

  private measureFps(): void {
    const now = this.opts.clock.nowUs();
    const dt = now - this.lastStatsUs;
    this.fps = dt > 0 ? ((this.frames - this.framesAtLastStats) * 1e6) / dt : 0;
    this.framesAtLastStats = this.frames;
    this.lastStatsUs = now;
  }

  private spawnChild(): void {
    const { spec } = this.opts;
    let args: string[];
    try {
      args = ['-q', ...pipelineArgs(spec.pipeline), '!', 'fdsink', 'fd=1', 'sync=false'];
    } catch (err) {
      this.fail(new ConfigError(`bad pipeline text: ${(err as Error).message}`, spec.where));
      return;
    }
    this.assembler.reset();
    this.stderrTail = '';
    this.framesThisRun = 0;
    this.runStartUs = this.opts.clock.nowUs();
    const child = spawn(this.opts.gstLaunch ?? 'gst-launch-1.0', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout!.on('data', (chunk: Buffer) => {
      if (this.child === child) this.assembler.push(chunk);
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-2000);
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (this.child !== child) return;
      this.child = null;
      if (err.code === 'ENOENT') {
        this.fail(new LinkError(`${this.opts.gstLaunch ?? 'gst-launch-1.0'} not found: install GStreamer (gstreamer1.0-tools)`, spec.where));
      } else {
        this.lastError = `cannot start gst-launch-1.0: ${err.message}`;
        this.scheduleRestart();
      }
    });
    child.on('close', (code, signal) => {
      if (this.child !== child) return;
      this.child = null;
      if (this.stopping) return;
      const stderr = this.stderrTail.trim().split('\n').filter(Boolean);
      const parseLine = stderr.find((l) => PIPELINE_ERROR.test(l));
      if (this.framesThisRun === 0 && parseLine) {
        this.fail(new ConfigError(`gst-launch-1.0 refused the pipeline: ${parseLine.replace(/^WARNING:\s*/, '')}`, spec.where));
        return;
      }
      if (code === 0 && this.opts.restartOnEnd === false) {
        this.state = 'stopped';
        this.stop().catch(() => {});
        return;
      }
      if (this.stallKill) this.stallKill = false;
      else {
        // gst-launch's first ERROR line names the element and the problem; later lines are consequences.
        const reason = stderr.find((l) => l.startsWith('ERROR:'))?.replace(/^ERROR:\s*/, '') ?? stderr.at(-1);
        this.lastError = `pipeline ended (${signal ?? `exit ${code}`})${reason ? `: ${reason}` : ''}`;
      }
      this.scheduleRestart();
    });
    this.state = this.restarts > 0 ? 'restarting' : 'starting';
  }

  private scheduleRestart(): void {
    if (this.stopping) return;
    const delayS = restartDelayS(this.failuresInARow, this.opts.restart ?? { initialS: 0.2, maxS: 5 });
    this.failuresInARow++;
    this.state = 'restarting';
    this.restartTimer = this.opts.clock.after(delayS * 1e6, () => {
      this.restartTimer = null;
      if (this.stopping) return;
      this.restarts++;
      this.spawnChild();
    });
  }

  private fail(err: RacepilotError): void {
    this.lastError = err.message;
    this.state = 'failed';
    this.stopping = true;
    this.watchdog?.cancel();
    this.statsTimer?.cancel();
    this.opts.onStats?.(this.stats());
    this.opts.onFatal?.(err);
    this.flushWaiters();
  }

  private flushWaiters(): void {
    const w = this.endWaiters;
    this.endWaiters = [];
    for (const f of w) f();
  }

  /** Arrival bookkeeping shared by both layouts: gaps, drops, lateness, the timestamp. */
  private arrive(): { tUs: number; tSampleUs: number; seq: number } {
    const now = this.opts.clock.nowUs();
    if (this.lastFrameUs !== null) {
      const gap = now - this.lastFrameUs;
      if (gap > this.maxGapUs) this.maxGapUs = gap;
      if (gap > 1.5 * this.periodUs) this.late++;
    }
    // Dropped frames from the rate, not from single gaps: a frame held up in the pipe is followed by a burst that
    // makes up for it, so only frames still missing over the whole stream (restart gaps included) count.
    if (this.firstFrameUs === null) this.firstFrameUs = now;
    const expected = Math.round((now - this.firstFrameUs) / this.periodUs) + 1;
    this.dropped = Math.max(0, expected - (this.frames + 1));
    this.lastFrameUs = now;
    this.framesThisRun++;
    this.failuresInARow = 0;
    this.state = 'running';
    return { tUs: now, tSampleUs: now - (this.opts.latencyUs ?? 0), seq: this.frames++ };
  }

  private image(side: 'left' | 'right', data: Buffer, t: { tUs: number; tSampleUs: number; seq: number }): CameraImage {
    const { spec } = this.opts;
    return { ...t, rig: spec.rig, side, width: spec.width, height: spec.height, format: spec.format, data };
  }

  private onSbsFrame(frame: Buffer): void {
    const { spec } = this.opts;
    const t = this.arrive();
    const left = this.rings[0]!.next();
    const right = this.rings[1]!.next();
    splitSideBySide(frame, spec.width, spec.height, spec.bpp, left, right);
    this.opts.onImages([this.image('left', left, t), this.image('right', right, t)]);
  }

  private onMonoFrame(frame: Buffer): void {
    const t = this.arrive();
    this.opts.onImages([this.image(this.opts.spec.side ?? 'left', frame, t)]);
  }
}
