import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GateMap, bodyToOdom, defaultGateMapParams } from '../../src/estimation/gate-map.js';
import { parseTrack } from '../../src/planning/track.js';
import type { Quat, Vec3 } from '../../src/core/messages.js';

/** Seeded Gaussian noise, so the filter's tests are reproducible. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  const u = () => ((s = (s * 1664525 + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

const track = parseTrack(
  {
    name: 't',
    start: { p_ned_m: [0, 0, 0] },
    hall: { min_ned_m: [-10, -20, -8], max_ned_m: [60, 20, 0] },
    gates: [
      { id: 'A', p_ned_m: [10, 0, -2], yaw_deg: 0, uncertaintyM: 0.05 },
      { id: 'B', p_ned_m: [25, 5, -2], yaw_deg: 0, uncertaintyM: 1.5 },
      { id: 'C', p_ned_m: [40, 0, -3], yaw_deg: 0, uncertaintyM: 0.05 },
      { id: 'A-back', sameAs: 'A', p_ned_m: [10, 0, -2], yaw_deg: 180, uncertaintyM: 0.05 },
    ],
  },
  'test',
);

test('the drift estimate follows an injected drift from sightings of well-known gates', () => {
  const map = new GateMap(track);
  const noise = rng(7);
  let drift: Vec3 = [0, 0, 0];
  for (let t = 0; t <= 30_000_000; t += 33_333) {
    // The odometry drifts 1.5 m north and 1 m east over 30 s, as VIO does over a lap.
    drift = [1.5 * (t / 30e6), -1.0 * (t / 30e6), 0.2 * (t / 30e6)];
    for (const k of [0, 2]) {
      const g = track.gates[k]!.p_ned_m;
      map.observe({ tUs: t, p_odom_ned_m: [g[0] + drift[0] + 0.1 * noise(), g[1] + drift[1] + 0.1 * noise(), g[2] + drift[2] + 0.1 * noise()], sigmaM: 0.1 }, null);
    }
  }
  const d = map.drift();
  const err = Math.hypot(d[0] - drift[0], d[1] - drift[1], d[2] - drift[2]);
  assert.ok(err < 0.15, `drift error ${err.toFixed(3)} m (estimate ${d.map((v) => v.toFixed(2))})`);
});

test('a loosely mapped gate converges to where it is seen', () => {
  const map = new GateMap(track);
  const truth: Vec3 = [26.2, 4.1, -2.4]; // 1.6 m from where the track says
  const noise = rng(3);
  for (let i = 0; i < 100; i++) {
    const t = i * 33_333;
    map.observe({ tUs: t, p_odom_ned_m: [10 + 0.05 * noise(), 0.05 * noise(), -2 + 0.05 * noise()], sigmaM: 0.1 }, 0);
    map.observe({ tUs: t, p_odom_ned_m: [truth[0] + 0.2 * noise(), truth[1] + 0.2 * noise(), truth[2] + 0.2 * noise()], sigmaM: 0.3 }, 1);
  }
  const b = map.gateInOdom(1);
  assert.ok(Math.hypot(b[0] - truth[0], b[1] - truth[1], b[2] - truth[2]) < 0.15);
  assert.ok(map.snapshot(4e6).gates[1]!.sigmaM < 0.1);
});

test('a sighting far from every gate is rejected as an outlier, and counted', () => {
  const map = new GateMap(track);
  assert.equal(map.observe({ tUs: 0, p_odom_ned_m: [18, -12, -2], sigmaM: 0.2 }, 1), null);
  const snap = map.snapshot(0);
  assert.equal(snap.rejected, 1);
  assert.equal(snap.accepted, 0);
  assert.deepEqual(snap.drift_ned_m, [0, 0, 0]);
});

test('a gate flown twice is one gate in the map', () => {
  const map = new GateMap(track);
  assert.equal(map.physicalIndex(3), map.physicalIndex(0));
  assert.equal(map.observe({ tUs: 0, p_odom_ned_m: [10.02, 0, -2], sigmaM: 0.1 }, 3), 0);
  assert.deepEqual(map.snapshot(0).gates[0]!.ids, ['A', 'A-back']);
  assert.equal(map.snapshot(0).gates.length, 3);
});

test('drift uncertainty grows while nothing is seen', () => {
  const map = new GateMap(track, defaultGateMapParams);
  map.predict(0);
  const before = map.snapshot(0).driftSigmaM;
  map.predict(10_000_000);
  assert.ok(map.snapshot(10_000_000).driftSigmaM > before + 0.05);
});

test('body-frame sightings are rotated by the vehicle attitude', () => {
  const yaw90: Quat = [Math.SQRT1_2, 0, 0, Math.SQRT1_2]; // facing east
  const p = bodyToOdom([5, 0, 0], [1, 2, -3], yaw90);
  assert.ok(Math.abs(p[0] - 1) < 1e-9 && Math.abs(p[1] - 7) < 1e-9 && Math.abs(p[2] + 3) < 1e-9);
});

test('a camera sighting is trusted across its line of sight and not along it', () => {
  // Gate B (σ 1.5 m in the track) is really 1 m east of its mapped place; the camera, 15 m south of it looking north,
  // places it right sideways but 2 m too far, as a detector misjudging the gate's apparent size does.
  const map = new GateMap(track);
  const truth: Vec3 = [25, 6, -2];
  for (let i = 0; i < 5; i++) {
    const los = { u_ned: [1, 0, 0] as Vec3, sigmaLateralM: 0.15, sigmaRangeM: 3 }; // the detector floor at 15 m
    map.observe({ tUs: i * 33_333, p_odom_ned_m: [truth[0] + 2, truth[1], truth[2]], sigmaM: 3, los }, 1);
  }
  const b = map.gateInOdom(1);
  assert.ok(Math.abs(b[1] - truth[1]) < 0.1, `east ${b[1].toFixed(2)}: the lateral offset is learnt`);
  assert.ok(b[0] - truth[0] < 1.5, `north ${b[0].toFixed(2)}: the range error is only partly believed`);
  // The same five sightings as spheres of the lateral σ drag the gate the whole 2 m along the line of sight.
  const sphere = new GateMap(track);
  for (let i = 0; i < 5; i++) sphere.observe({ tUs: i * 33_333, p_odom_ned_m: [truth[0] + 2, truth[1], truth[2]], sigmaM: 0.15 }, 1);
  assert.ok(sphere.gateInOdom(1)[0] - truth[0] > 1.8);
});

test('a gate seen side-on is not placed by that sighting', () => {
  const map = new GateMap(track); // gate B faces north (yaw 0)
  const at: Vec3 = [25, 5.3, -2];
  const oblique = { u_ned: [Math.cos((70 * Math.PI) / 180), Math.sin((70 * Math.PI) / 180), 0] as Vec3, sigmaLateralM: 0.2, sigmaRangeM: 0.5 };
  assert.equal(map.observe({ tUs: 0, p_odom_ned_m: at, sigmaM: 0.5, los: oblique }, 1), null, '70° off the face: rejected');
  const frontal = { u_ned: [Math.cos((20 * Math.PI) / 180), Math.sin((20 * Math.PI) / 180), 0] as Vec3, sigmaLateralM: 0.2, sigmaRangeM: 0.5 };
  assert.equal(map.observe({ tUs: 0, p_odom_ned_m: at, sigmaM: 0.5, los: frontal }, 1), 1, '20° off the face: fused');
  assert.equal(map.snapshot(0).rejected, 1);
});

test('flying to the race\'s last gate, sightings go to it alone: the next track entry is no longer "ahead"', () => {
  const params = { ...defaultGateMapParams, associateAhead: 2 };
  // Flying to B (track index 1). With gates left after it, C (the next entry) may take a sighting of itself.
  const more = new GateMap(track, params);
  assert.equal(more.observe({ tUs: 0, p_odom_ned_m: [40, 0, -3], sigmaM: 0.2 }, 1, 3), 2, 'C is the next gate: fused');
  // With B the last gate of the race, C is not ahead: its sighting is an outlier rather than a pull on the drift.
  const last = new GateMap(track, params);
  assert.equal(last.observe({ tUs: 0, p_odom_ned_m: [40, 0, -3], sigmaM: 0.2 }, 1, 1), null, 'B is the last gate: C is not ahead');
  assert.equal(last.snapshot(0).rejected, 1);
});
