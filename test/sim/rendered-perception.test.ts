import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadTrack, parseTrack, AIRR_INNER_M, AIRR_OUTER_M } from '../../src/planning/track.js';
import { trackGateInnerSize } from '../../src/planning/track.js';
import { sceneCourse } from '../../src/sim/rendered-perception.js';
import { buildScene } from '../../src/sim/render/scene.js';
import { buildWorld } from '../../src/sim/world.js';

const trackFile = (name: string) => fileURLToPath(new URL(`../../../config/tracks/${name}.json`, import.meta.url));

test('one gate size: track defaults are the AIRR gate, and the rendered gates are the world gates with the track sizes', () => {
  const track = loadTrack(trackFile('alphapilot-hall'));
  assert.ok(track.gates.every((g) => g.innerSizeM === AIRR_INNER_M && g.outerSizeM === AIRR_OUTER_M));
  assert.equal(trackGateInnerSize(track, 'alphapilot'), AIRR_INNER_M);
  const world = buildWorld(track, 3);
  const scene = buildScene({ seed: 3, course: sceneCourse(world, track) });
  // G2 is flown twice (sameAs): one physical gate, rendered once.
  assert.equal(scene.gates.length, world.gates.length);
  assert.equal(scene.gates.length, track.gates.length - 1);
  scene.gates.forEach((g, k) => {
    const w = world.gates[k]!;
    assert.deepEqual(g.c_ned_m, w.p_ned_m);
    assert.ok(Math.abs(g.innerHalf_m - w.innerSizeM / 2) < 1e-12 && Math.abs(g.outerHalf_m - w.outerSizeM / 2) < 1e-12);
    assert.ok(Math.hypot(g.f_ned[0] - w.n_ned[0], g.f_ned[1] - w.n_ned[1]) < 1e-9, `gate ${k} faces the track's direction`);
  });
  // The hall is the track's box, floor at z = 0.
  assert.deepEqual([scene.hall.x0, scene.hall.x1, scene.hall.y0, scene.hall.y1, scene.hall.height], [-6, 54, -16, 18, 9]);
});

test('a track with another gate size renders and perceives that size; mixed sizes are refused for perception', () => {
  const input = {
    name: 'small', start: { p_ned_m: [0, 0, 0] }, hall: { min_ned_m: [-5, -5, -6], max_ned_m: [30, 5, 0] },
    gates: [{ id: 'A', p_ned_m: [10, 0, -2], yaw_deg: 0, innerSizeM: 1.5, outerSizeM: 2.1 }, { id: 'B', p_ned_m: [20, 0, -2], yaw_deg: 0, innerSizeM: 1.5, outerSizeM: 2.1 }],
  };
  const track = parseTrack(input, 'test');
  const scene = buildScene({ seed: 1, course: sceneCourse(buildWorld(track, 1), track) });
  assert.deepEqual(scene.gates.map((g) => [g.innerHalf_m, g.outerHalf_m]), [[0.75, 1.05], [0.75, 1.05]]);
  assert.equal(trackGateInnerSize(track, 'small'), 1.5);
  const mixed = parseTrack({ ...input, gates: [input.gates[0], { ...input.gates[1], innerSizeM: 1.2 }] }, 'test');
  assert.throws(() => trackGateInnerSize(mixed, 'mixed'), /one gate size.*1\.5, 1\.2/);
});

test('a gate whose frame would go through the floor is refused, naming the gate', () => {
  assert.throws(
    () => parseTrack({ name: 'low', start: { p_ned_m: [0, 0, 0] }, hall: { min_ned_m: [-5, -5, -6], max_ned_m: [30, 5, 0] }, gates: [{ id: 'L', p_ned_m: [10, 0, -1.5], yaw_deg: 0 }] }, 'low.json'),
    /gate 0 \("L"\) field p_ned_m: the gate does not fit inside the hall/,
  );
});
