import { TopicBus } from '../core/bus.js';
import { LogClock } from './log-clock.js';
import type { Topics } from '../core/messages.js';
import { readCaptureFile, type CaptureStats } from './tlog.js';
import type { ReplayStage } from './replay.js';

export interface CaptureReplayResult {
  file: string;
  packets: number;
  stats: CaptureStats;
  /** Log time covered (s), from the tlog timestamps. */
  spanS: number;
  /** Everything the stages published, per topic, in order. */
  produced: Record<string, unknown[]>;
}

/**
 * Replays a MAVLink capture (.tlog from QGroundControl or Mission Planner, or a raw byte capture) as the flight
 * controller's input: each packet becomes a received `mavlink/bytes` message at its tlog time on a log clock, so the
 * state tracking (and, as it arrives, the race logic) meets real autopilot traffic. There is nothing recorded to
 * compare with; the caller checks what was produced. Packets of a raw capture, which has no times, are 1 ms apart.
 */
export function replayCapture(file: string, o: { stages: ReplayStage[] }): CaptureReplayResult {
  const capture = readCaptureFile(file);
  const bus = new TopicBus<Topics>();
  const t0 = capture.packets.find((p) => p.timeUs !== null)?.timeUs ?? 0;
  const clock = new LogClock(0);
  const produced: Record<string, unknown[]> = {};
  const outputs = new Set<string>(o.stages.flatMap((s) => s.outputs.concat(['fc/event'])));
  bus.subscribeAll((topic, msg) => {
    if (outputs.has(topic as string)) (produced[topic as string] ??= []).push(structuredClone(msg));
  });
  const detach = o.stages.map((s) => s.attach({ bus, clock }));
  let t = 0;
  for (const p of capture.packets) {
    // Timestamps can go backwards in a tlog (clock steps): hold time rather than rewind it.
    t = p.timeUs !== null ? Math.max(t, p.timeUs - t0) : t + 1000;
    clock.advanceTo(t);
    bus.publish('mavlink/bytes', { tUs: t, direction: 'rx', bytes: p.packet.bytes });
  }
  for (const d of detach) d();
  return { file, packets: capture.packets.length, stats: capture.stats, spanS: t / 1e6, produced };
}
