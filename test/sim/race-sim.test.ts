import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { configWith } from '../../src/core/config/load.js';
import { InputError } from '../../src/core/errors.js';
import { loadTrack, parseTrack } from '../../src/planning/track.js';
import { runRaceSim } from '../../src/sim/race-sim.js';
import { CollisionMonitor, buildWorld } from '../../src/sim/world.js';
import { flightPicture } from '../../src/sim/flight-picture.js';
import { PNG } from 'pngjs';

const trackFile = (name: string) => fileURLToPath(new URL(`../../../config/tracks/${name}.json`, import.meta.url));

test('the line track flown closed-loop in simulated time (truth perception, drift on) passes every gate, no crash', async () => {
  const r = await runRaceSim({ track: loadTrack(trackFile('line')), seed: 1, drift: true, perception: 'truth', maxSimS: 30 });
  const s = r.summary;
  assert.equal(s.crashed, false, s.endReason);
  assert.equal(s.gatesPassed, s.gatesTotal, s.endReason);
  assert.match(s.endReason, /^finished/);
  assert.ok(s.lapTimeS !== null && s.lapTimeS > 1 && s.lapTimeS < 10, `lap ${s.lapTimeS} s`);
  assert.ok(s.meanSpeedMps > 5, `mean speed ${s.meanSpeedMps} m/s`);
  assert.ok(s.closestPassM !== null && s.closestPassM > 0.2, `closest pass ${s.closestPassM} m`);
  assert.ok(s.gateMapAccepted > 50, 'the gate map fused sightings');
  // Each gate flown to, in order, with the map's error for it as it was passed: sighted gates are found to well
  // under the track's stated 1 m.
  assert.deepEqual(s.gateErrorAtPass.map((g) => g.gate), r.track.gates.map((g) => g.id));
  for (const g of s.gateErrorAtPass) assert.ok(g.acrossM < 0.5 && Math.abs(g.alongM) < 0.5, JSON.stringify(g));
  // The picture of the flight decodes as a PNG with both views.
  const png = PNG.sync.read(flightPicture(r));
  assert.equal(png.width, 1200);
  assert.ok(png.height > 300);
});

test('the same seed flies the same race: the simulation is deterministic', async () => {
  const a = await runRaceSim({ track: loadTrack(trackFile('line')), seed: 3, perception: 'truth', maxSimS: 30 });
  const b = await runRaceSim({ track: loadTrack(trackFile('line')), seed: 3, perception: 'truth', maxSimS: 30 });
  assert.deepEqual({ ...a.summary, wallTimeS: 0, planMsP99: 0 }, { ...b.summary, wallTimeS: 0, planMsP99: 0 });
});

test('a track the vehicle cannot fly within its limits is refused before take-off, naming the gate', async () => {
  const track = loadTrack(trackFile('line'));
  await assert.rejects(
    runRaceSim({ track, perception: 'truth', limits: { thrustToWeight: 1.05, thrustMargin: 0.75, maxTiltDeg: 55, maxSpeedMps: 16, dragPerM: 0.02, maxJerkMps3: 0 } }),
    (err: unknown) => err instanceof InputError && /cannot be flown within the vehicle's limits/.test(err.message) && /gate 1 \("A"\)/.test(err.message),
  );
});

test('collisions: a path through the opening passes, one through the frame, the floor or a wall crashes', () => {
  const track = parseTrack(
    { name: 't', start: { p_ned_m: [0, 0, 0] }, hall: { min_ned_m: [-5, -5, -6], max_ned_m: [20, 5, 0] }, gates: [{ id: 'A', p_ned_m: [10, 0, -2], yaw_deg: 0 }] },
    'test',
  );
  const world = buildWorld(track, 1);
  // The default gate is the AIRR one: 2.438 m opening, 3.353 m frame.
  const through = new CollisionMonitor(world);
  assert.equal(through.step([9.9, 0.1, -2], [10.1, 0.1, -2], true), null);
  assert.ok(Math.abs(through.closestPassM! - (2.438 / 2 - 0.1)) < 1e-9);
  assert.match(new CollisionMonitor(world).step([9.9, 1.1, -2], [10.1, 1.1, -2], true)!, /frame of gate A/);
  assert.equal(new CollisionMonitor(world).step([9.9, 2.0, -2], [10.1, 2.0, -2], true), null, 'beside the gate');
  assert.match(new CollisionMonitor(world).step([3, 0, -0.5], [3, 0, 0], true)!, /floor/);
  assert.equal(new CollisionMonitor(world).step([3, 0, -0.5], [3, 0, 0], false), null, 'on the ground before take-off');
  assert.match(new CollisionMonitor(world).step([3, 4.5, -2], [3, 4.9, -2], true)!, /wall/);
});

test('the detector in the loop: rendered cameras → detector → perception → gate map fly the line track through its first gate', { timeout: 120_000 }, async () => {
  const model = fileURLToPath(new URL('../../../models/gate-detector.onnx', import.meta.url));
  const config = configWith({ perception: { model, providers: ['cpu'] } });
  // A stretch, not the whole lap: rendering and inference on CPU run at about a fifth of real time here.
  const r = await runRaceSim({ track: loadTrack(trackFile('line')), seed: 1, drift: true, perception: 'detector', config, renderWorkers: 2, maxSimS: 7 });
  const s = r.summary;
  assert.equal(s.perception, 'detector');
  assert.ok(s.detector, 'the summary says what the detector did');
  const d = s.detector;
  // Lockstep at the 30 Hz camera rate: one FrameSet per 33.3 ms of simulated time, none dropped.
  assert.ok(Math.abs(d.framesets - Math.floor(7e6 / 33_333)) <= 1, `${d.framesets} framesets`);
  assert.equal(d.renderWidth, 320);
  assert.equal(d.renderHeight, 240);
  assert.ok(d.rigsSkipped > 0, 'rigs that cannot see a gate are skipped');
  assert.ok(d.gates > 0 && d.gatesWithin1m > 0, `detector reported ${d.gates} gates, ${d.gatesWithin1m} within 1 m`);
  assert.ok(s.gateMapAccepted > 0, 'detector sightings reached the gate map');
  assert.equal(s.crashed, false, s.endReason);
  assert.ok(s.gatesPassed >= 1, `passed ${s.gatesPassed}: ${s.endReason}`);
});
