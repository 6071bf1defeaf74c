import type { TopicBus } from '../core/bus.js';
import type { Clock, Timer } from '../core/clock.js';
import type { CameraConfig } from '../core/config/camera.js';
import type { RacepilotError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { CameraImage, Topics } from '../core/messages.js';
import { GstStream } from './gstreamer-source.js';
import { rigStreams, type PresetOptions } from './presets.js';
import { SIDES } from './rig.js';
import { RigSync } from './rig-sync.js';

/**
 * The live camera edge: one GstStream per configured stream, their images into RigSync, FrameSets and counters
 * onto the bus (`camera/frameset`, `camera/stream_stats`, `camera/sync_stats`). The only part of camera/ with
 * processes and timers; the grouping itself is RigSync's pure logic.
 */
export interface CameraIngestOptions {
  config: CameraConfig;
  clock: Clock;
  bus: TopicBus<Topics>;
  log?: Logger;
  /** A stream whose pipeline cannot work (bad pipeline text, no gst-launch-1.0); the others keep running. */
  onFatal?: (err: RacepilotError) => void;
  preset?: PresetOptions;
  statsIntervalUs?: number;
  gstLaunch?: string;
}

export class CameraIngest {
  readonly streams: GstStream[] = [];
  readonly sync: RigSync;
  private timers: Timer[] = [];

  constructor(private readonly opts: CameraIngestOptions) {
    const { config, clock, bus } = opts;
    const rigs = config.rigs.filter((r) => r.enabled);
    const slots = rigs.flatMap((r) => SIDES.map((s) => `${r.name}/${s}`));
    this.sync = new RigSync({
      slots,
      startUs: clock.nowUs(),
      maxSkewUs: config.sync.maxSkewMs * 1000,
      timeoutUs: config.sync.timeoutMs * 1000,
      deadAfterUs: config.sync.deadAfterMs * 1000,
    });
    const restartsLogged = new Map<string, number>();
    config.rigs.forEach((rig, index) => {
      if (!rig.enabled) return;
      for (const spec of rigStreams(rig, index, opts.preset)) {
        this.streams.push(
          new GstStream({
            spec,
            clock,
            latencyUs: rig.pipelineLatencyMs * 1000,
            bufferFrames: config.bufferFrames,
            stallPeriods: config.stallPeriods,
            restart: config.restart,
            onImages: (imgs) => this.onImages(imgs),
            onStats: (s) => {
              // One warning per restart (at most one per stats interval), with the reason; counters stay on the bus.
              const seen = restartsLogged.get(spec.name) ?? 0;
              if (s.restarts > seen) {
                opts.log?.warn({ stream: s.stream, restarts: s.restarts, dropped: s.dropped, maxGapMs: s.maxGapUs / 1000, reason: s.lastError }, 'camera pipeline restarted');
                restartsLogged.set(spec.name, s.restarts);
              }
              bus.publish('camera/stream_stats', s);
            },
            onFatal: (err) => {
              opts.log?.error({ err: err.message }, 'camera stream failed');
              opts.onFatal?.(err);
            },
            statsIntervalUs: opts.statsIntervalUs ?? 1e6,
            ...(opts.gstLaunch ? { gstLaunch: opts.gstLaunch } : {}),
          }),
        );
      }
    });
  }

  start(): void {
    const { clock, bus, config } = this.opts;
    for (const s of this.streams) s.start();
    // Sets waiting for a late camera go out on this cadence at the latest.
    const pollUs = Math.max(1000, (config.sync.timeoutMs * 1000) / 4);
    this.timers.push(clock.every(pollUs, () => this.publish(this.sync.poll(clock.nowUs()))));
    this.timers.push(clock.every(this.opts.statsIntervalUs ?? 1e6, () => bus.publish('camera/sync_stats', this.sync.stats(clock.nowUs()))));
  }

  async stop(): Promise<void> {
    for (const t of this.timers) t.cancel();
    this.timers = [];
    await Promise.all(this.streams.map((s) => s.stop()));
  }

  private onImages(imgs: CameraImage[]): void {
    const now = this.opts.clock.nowUs();
    this.publish(this.sync.pushAll(imgs, now));
  }

  private publish(sets: ReturnType<RigSync['poll']>): void {
    for (const s of sets) this.opts.bus.publish('camera/frameset', s);
  }
}
