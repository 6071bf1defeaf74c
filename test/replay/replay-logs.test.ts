import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { configWith } from '../../src/core/config/load.js';
import type { RaceEvent } from '../../src/core/messages.js';
import { defaultLimits } from '../../src/planning/limits.js';
import { loadTrack } from '../../src/planning/track.js';
import { fcStateStage } from '../../src/recording/fc-replay-stage.js';
import { decodeMessage, iterateLog, readerReady } from '../../src/recording/mcap-reader.js';
import { estimationReplayStage, planningReplayStage, type PlanningReplayOptions } from '../../src/recording/pipeline-replay-stages.js';
import { replayLog, type ReplayResult } from '../../src/recording/replay.js';
import { trackForLog } from '../../src/recording/log-track.js';
import { REPLAY_DIR, TRACK_FILE } from './scenarios.js';

/**
 * The committed logs (scripts/regen-replay-logs.sh) replayed through the core: received MAVLink bytes → fc-state,
 * recorded perception/gates → estimation, recorded control-state events → race logic, planning and setpoint
 * sampling, all recomputed. Truth perception and the planner are deterministic and the log clock replays the
 * live interleaving, so everything must come out identical (times too); the comparison's only tolerance is
 * replay's default 100 ms on *Us fields, which these logs do not use.
 */
const flight = configWith({}).flight;
const track = loadTrack(TRACK_FILE);
const log = (name: string) => `${REPLAY_DIR}logs/${name}-000.mcap`;

function stages(planning: Partial<PlanningReplayOptions> = {}) {
  return [estimationReplayStage(track), planningReplayStage({ track, flight, ...planning }), fcStateStage(flight)];
}

async function replay(name: string, planning: Partial<PlanningReplayOptions> = {}): Promise<ReplayResult> {
  return replayLog(log(name), { stages: stages(planning), speed: 'max', timeToleranceUs: 0 });
}

async function recorded<T>(name: string, topic: string): Promise<T[]> {
  await readerReady();
  const out: T[] = [];
  const it = iterateLog(log(name));
  for (let r = it.next(); !r.done; r = it.next()) if (r.value.topic === topic) out.push(decodeMessage(r.value) as T);
  return out;
}

function assertReproduced(r: ReplayResult): void {
  assert.deepEqual(r.divergences, [], `${r.file} diverged`);
  for (const topic of ['fc/vehicle_state', 'estimation/gate_map', 'race/event', 'fc/setpoint']) {
    const c = r.topics[topic];
    assert.ok(c && c.recorded > 0 && c.matched === c.recorded && c.produced === c.recorded, `${topic}: ${JSON.stringify(c)}`);
  }
}

for (const name of ['clean-lap', 'sighting-blackout', 'pilot-takeover', 'link-loss']) {
  test(`${name}: the log exists (npm run regen-replay-logs makes it)`, () => assert.ok(existsSync(log(name)), log(name)));
}

test('clean lap: every gate passed; gate map, race events, trajectories and setpoints reproduced exactly', async () => {
  const events = await recorded<RaceEvent>('clean-lap', 'race/event');
  assert.equal(events.filter((e) => e.kind === 'gate_passed').length, track.gates.length);
  assert.ok(events.some((e) => e.kind === 'phase' && e.message.startsWith('finished')));
  const r = await replay('clean-lap');
  assertReproduced(r);
  assert.ok(r.topics['planning/trajectory']!.matched > 5);
});

test('sighting blackout: the race flies on the gate map through 1.4 s without sightings, sees again and finishes', async () => {
  const maps = await recorded<{ tUs: number }>('sighting-blackout', 'estimation/gate_map');
  const gap = Math.max(...maps.slice(1).map((m, i) => m.tUs - maps[i]!.tUs));
  assert.ok(gap >= 1_000_000, `longest gap without a fused sighting ${gap} µs`);
  const events = await recorded<RaceEvent>('sighting-blackout', 'race/event');
  assert.ok(events.some((e) => e.kind === 'phase' && e.message.startsWith('finished')));
  assertReproduced(await replay('sighting-blackout'));
});

test('pilot takeover: the race aborts when the pilot switches the mode, and replay reproduces it', async () => {
  const events = await recorded<RaceEvent>('pilot-takeover', 'race/event');
  assert.match(events.at(-1)!.message, /aborted: a pilot took over/);
  assertReproduced(await replay('pilot-takeover'));
});

test('link loss: fc-state loses the heartbeat, the race aborts, the setpoints hold; replay reproduces it', async () => {
  const events = await recorded<RaceEvent>('link-loss', 'race/event');
  assert.match(events.at(-1)!.message, /aborted: flight-controller link lost/);
  const r = await replay('link-loss');
  assertReproduced(r);
  assert.ok(r.topics['fc/status']!.matched >= 3);
});

test('a deliberate planner change (max speed 16 → 12 m/s) fails the replay and says topic, field and time', async () => {
  const r = await replay('clean-lap', { limits: { ...defaultLimits, maxSpeedMps: 12 } });
  assert.equal(r.ok, false);
  const first = r.divergences[0]!;
  assert.ok(['planning/trajectory', 'fc/setpoint'].includes(first.topic), first.topic);
  assert.match(first.path, /^\$\./);
  const racingUs = (await recorded<RaceEvent>('clean-lap', 'race/event')).find((e) => e.message.startsWith('racing'))!.tUs;
  assert.ok(first.tUs !== null && first.tUs >= racingUs, `first divergence at ${first.tUs} µs, racing from ${racingUs}`);
  assert.ok(r.topics['planning/trajectory']!.diverged > 0);
});

test('the logs carry their track: racepilot replay needs no --track for them', async () => {
  for (const name of ['clean-lap', 'pilot-takeover']) assert.deepEqual(await trackForLog(log(name), null), track, name);
});
