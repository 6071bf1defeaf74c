import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { run as runReplay } from '../../src/cli/replay.js';
import { fileURLToPath } from 'node:url';
import { common, minimal, type MavLinkData } from 'mavlink-mappings';
import { TopicBus } from '../../src/core/bus.js';
import { ManualClock } from '../../src/core/clock.js';
import { configWith } from '../../src/core/config/load.js';
import type { Topics } from '../../src/core/messages.js';
import { FlightLink } from '../../src/flight/flight-link.js';
import { MavlinkEncoder } from '../../src/flight/mavlink/codec.js';
import { encodePx4Mode } from '../../src/flight/modes.js';
import { TransportBase } from '../../src/flight/transport/transport.js';
import { fcStateStage } from '../../src/recording/fc-replay-stage.js';
import { startRecording } from '../../src/recording/recorder.js';
import { replayLog } from '../../src/recording/replay.js';
import { replayCapture } from '../../src/recording/capture-replay.js';
import { openIndexed, recordingConfig, tempDir } from './fixtures.js';

/** The autopilot's end of a link, in memory: what the test pushes arrives at the FlightLink. */
class MemoryTransport extends TransportBase {
  readonly name = 'memory';
  async start(): Promise<void> {}
  send(bytes: Uint8Array): void {
    this.stats.bytesOut += bytes.length;
  }
  async close(): Promise<void> {}
  push(bytes: Buffer): void {
    this.emitData(bytes);
  }
}

const flight = configWith({}).flight;

function heartbeat(mode: string, armed: boolean): MavLinkData {
  const hb = new minimal.Heartbeat();
  const code = encodePx4Mode(mode);
  hb.type = minimal.MavType.QUADROTOR;
  hb.autopilot = minimal.MavAutopilot.PX4;
  hb.baseMode = code.baseMode | (armed ? minimal.MavModeFlag.SAFETY_ARMED : 0);
  hb.customMode = code.customMode;
  hb.systemStatus = minimal.MavState.ACTIVE;
  hb.mavlinkVersion = 3;
  return hb;
}

function position(tBootMs: number, x: number): MavLinkData {
  const p = new common.LocalPositionNed();
  p.timeBootMs = tBootMs;
  p.x = x;
  p.y = 0.5;
  p.z = -2;
  p.vx = 1;
  return p;
}

/**
 * A live flight link session on a simulated clock, recorded: heartbeats at 1 Hz (mode change, arming), positions
 * at 20 Hz, then the autopilot goes silent so the link is lost.
 */
async function recordFcSession(chunkBytes?: number): Promise<string> {
  const bus = new TopicBus<Topics>();
  const clock = new ManualClock('sim', 5_000_000);
  const rec = startRecording(bus, clock, recordingConfig(chunkBytes ? { chunkBytes } : {}), { basePath: join(tempDir(), 'fc') });
  const transport = new MemoryTransport();
  const link = new FlightLink({ transport, clock, bus, config: flight });
  await link.start();
  const px4 = new MavlinkEncoder(1, 1);
  for (let ms = 0; ms < 6000; ms += 50) {
    clock.advanceTo(5_000_000 + ms * 1000 + 137); // off the link's cadence, as real bytes are
    if (ms % 1000 === 0) transport.push(px4.encode(heartbeat(ms < 3000 ? 'POSCTL' : 'OFFBOARD', ms >= 2000)));
    transport.push(px4.encode(position(ms, ms / 1000)));
  }
  clock.advanceBy(3_000_000); // silence: the link times out
  await link.close();
  const summary = await rec.stop();
  return summary.files[0]!;
}

test('a recorded flight-link session replays through fc-state and reproduces fc/status and fc/vehicle_state', async () => {
  const file = await recordFcSession();
  const result = await replayLog(file, { stages: [fcStateStage(flight)], speed: 'max' });
  assert.deepEqual(result.divergences, []);
  const status = result.topics['fc/status']!;
  // link up, armed, mode change, link lost: at least four status changes, all matched.
  assert.ok(status.recorded >= 4, JSON.stringify(status));
  assert.equal(status.matched, status.recorded);
  assert.equal(result.topics['fc/vehicle_state']!.matched, 120);
  assert.ok(result.ok);
});

test('a deliberate change (a shorter heartbeat timeout) makes the replay fail and say where', async () => {
  const file = await recordFcSession();
  const changed = fcStateStage({ ...flight, heartbeatTimeoutS: 0.5 });
  const result = await replayLog(file, { stages: [changed], speed: 'max' });
  assert.equal(result.ok, false);
  const first = result.divergences[0]!;
  assert.equal(first.topic, 'fc/status');
  // The changed link goes down between heartbeats, where the recorded one stayed up.
  assert.match(first.path, /^\$\.(linkUp|tUs)$/);
  assert.ok(first.tUs !== null && first.tUs > 5_000_000);
});

test('--from/--to limit the comparison; state before --from is still built up', async () => {
  const file = await recordFcSession();
  const result = await replayLog(file, { stages: [fcStateStage(flight)], fromS: 2.5, toS: 4.0 });
  assert.ok(result.ok, JSON.stringify(result.divergences));
  const vs = result.topics['fc/vehicle_state']!;
  assert.ok(vs.recorded >= 29 && vs.recorded <= 31, JSON.stringify(vs));
});

test('racepilot replay --json --record --report: reproduces, records the new run, writes a self-contained report', async () => {
  const file = await recordFcSession();
  const dir = tempDir();
  const out: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string) => (out.push(String(chunk)), true)) as typeof process.stdout.write;
  let code: number;
  try {
    code = await runReplay([file, '--json', '--record', join(dir, 'again.mcap'), '--report', join(dir, 'r.html')]);
  } finally {
    process.stdout.write = write;
  }
  assert.equal(code, 0, out.join(''));
  const r = JSON.parse(out.join('')) as { ok: boolean; stages: string[]; recorded: string[] };
  assert.equal(r.ok, true);
  assert.deepEqual(r.stages, ['fc-state']);
  // The new run holds what the stages produced again, so it replays itself.
  const again = await replayLog(r.recorded[0]!, { stages: [fcStateStage(flight)] });
  // All but possibly the final link-lost status: the new log ends at that status, and the replay's 50 Hz tick,
  // phased from the new log's first message, may fall just after it.
  assert.equal(again.topics['fc/vehicle_state']!.matched, 120, JSON.stringify(again.topics));
  assert.equal(again.topics['fc/status']!.diverged, 0, JSON.stringify(again.divergences));
  assert.ok(again.topics['fc/status']!.matched >= 3, JSON.stringify(again.topics));
  const html = readFileSync(join(dir, 'r.html'), 'utf8');
  assert.match(html, /<svg[^>]*>.*<path d="M/s);
  assert.ok(!/<script|https?:\/\//.test(html.replaceAll('http://www.w3.org/2000/svg', '')), 'self-contained: no scripts, no links');
});

const tlogDir = join(fileURLToPath(new URL('.', import.meta.url)), '../../../../shared/data/mavlink/tlog');

test('a real autopilot .tlog replays as flight-controller input and fc-state follows it', { skip: existsSync(tlogDir) ? false : `no ${tlogDir} (../shared absent)` }, async () => {
  const file = join(tlogDir, 'ahmadkhanfar_sitl_copter.tlog');
  const r = replayCapture(file, { stages: [fcStateStage(flight)] });
  assert.ok(r.packets > 1000, `${r.packets} packets`);
  const statuses = r.produced['fc/status'] as Topics['fc/status'][];
  assert.ok(statuses.length > 0);
  assert.equal(statuses[0]!.linkUp, true);
  assert.equal(statuses[0]!.autopilot, 'ardupilot');
  assert.ok((r.produced['fc/vehicle_state'] ?? []).length > 10);
  // Every tlog in the folder replays without throwing, corrupted one included.
  for (const f of readdirSync(tlogDir)) replayCapture(join(tlogDir, f), { stages: [fcStateStage(flight)] });
});

test('a damaged chunk in a log whose summary is intact: the part before it replays, and the replay says where it stopped', async () => {
  const file = await recordFcSession(4096);
  const bytes = readFileSync(file);
  // Flip bytes inside a chunk in the middle of the file (the summary at the end stays intact, so the index is used).
  const chunks = (await openIndexed(file)).chunkIndexes;
  assert.ok(chunks.length >= 3, `${chunks.length} chunks`);
  const mid = Number(chunks[Math.floor(chunks.length / 2)]!.chunkStartOffset) + 60;
  const damaged = join(tempDir(), 'damaged.mcap');
  for (let i = 0; i < 64; i++) bytes[mid + i] = bytes[mid + i]! ^ 0xa5;
  writeFileSync(damaged, bytes);
  const result = await replayLog(damaged, { stages: [fcStateStage(flight)], speed: 'max' });
  assert.equal(result.ending.kind, 'corrupt', JSON.stringify(result.ending));
  assert.ok(result.inputsFed > 0, 'the messages before the damage were replayed');
  if (result.ending.kind === 'corrupt') assert.ok(result.ending.atOffset > 0 && result.ending.atOffset <= mid + 64);
});
