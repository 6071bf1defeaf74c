import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
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
  const through = new CollisionMonitor(world);
  assert.equal(through.step([9.9, 0.1, -2], [10.1, 0.1, -2], true), null);
  assert.ok(Math.abs(through.closestPassM! - (0.75 - 0.1)) < 1e-9);
  assert.match(new CollisionMonitor(world).step([9.9, 0.8, -2], [10.1, 0.8, -2], true)!, /frame of gate A/);
  assert.equal(new CollisionMonitor(world).step([9.9, 1.5, -2], [10.1, 1.5, -2], true), null, 'beside the gate');
  assert.match(new CollisionMonitor(world).step([3, 0, -0.5], [3, 0, 0], true)!, /floor/);
  assert.equal(new CollisionMonitor(world).step([3, 0, -0.5], [3, 0, 0], false), null, 'on the ground before take-off');
  assert.match(new CollisionMonitor(world).step([3, 4.5, -2], [3, 4.9, -2], true)!, /wall/);
});
