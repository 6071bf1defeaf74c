import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { TopicBus } from '../../src/core/bus.js';
import { ManualClock } from '../../src/core/clock.js';
import { configWith, loadConfig } from '../../src/core/config/load.js';
import { InputError } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/logger.js';
import type { Topics } from '../../src/core/messages.js';
import { startRace } from '../../src/cli/pipeline.js';
import type { SetpointSource } from '../../src/flight/setpoint.js';

const repo = (p: string) => fileURLToPath(new URL(`../../../${p}`, import.meta.url));
const log = createLogger({ level: 'silent', format: 'json', stream: process.stderr });

function fakeLink() {
  const calls = { source: null as SetpointSource | null, stops: 0 };
  return { calls, link: { setSource: (s: SetpointSource) => void (calls.source = s), stop: async () => (calls.stops++, 'done' as const) } };
}

test('no race track in the configuration: no race, nothing touched', async () => {
  const { calls, link } = fakeLink();
  const race = await startRace({ config: configWith({}), bus: new TopicBus<Topics>(), clock: new ManualClock('sim', 0), log, link: link as never });
  assert.equal(race, null);
  assert.equal(calls.source, null);
});

test('a track the configured vehicle cannot fly is refused before anything starts, naming the gate', async () => {
  const { calls, link } = fakeLink();
  const config = configWith({ race: { track: repo('config/tracks/line.json'), limits: { thrustToWeight: 1.05 } } });
  await assert.rejects(startRace({ config, bus: new TopicBus<Topics>(), clock: new ManualClock('sim', 0), log, link: link as never }), (err: unknown) =>
    err instanceof InputError && /gate 1 \("A"\)/.test(err.message));
  assert.equal(calls.source, null);
});

test('config/sitl-px4.json: the race drives the link, and landing in the race lands the vehicle through the link', async () => {
  const sitl = loadConfig(repo('config/sitl-px4.json'));
  assert.equal(sitl.flight.transport.kind, 'udp');
  assert.deepEqual([sitl.flight.transport.kind === 'udp' && sitl.flight.transport.bindPort, sitl.race.cameras], [14540, 'rendered']);
  const config = { ...sitl, race: { ...sitl.race, track: repo('config/tracks/line.json') }, perception: { ...sitl.perception, model: repo('models/gate-detector.onnx') } };
  const bus = new TopicBus<Topics>();
  const { calls, link } = fakeLink();
  const race = await startRace({ config, bus, clock: new ManualClock('sim', 0), log, link: link as never });
  try {
    assert.ok(race);
    assert.equal(calls.source, race.pipeline.planning, 'the planner is the setpoint source');
    bus.publish('race/event', { tUs: 1, kind: 'phase', message: 'failsafe_hold: no gate seen for 3.0 s' });
    assert.equal(calls.stops, 0);
    bus.publish('race/event', { tUs: 2, kind: 'phase', message: 'landing: failsafe: landing where it holds' });
    bus.publish('race/event', { tUs: 3, kind: 'phase', message: 'landing: again' });
    assert.equal(calls.stops, 1, 'asked to land once');
  } finally {
    await race?.close();
  }
});
