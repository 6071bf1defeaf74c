import { test } from 'node:test';
import assert from 'node:assert/strict';
import { common } from 'mavlink-mappings';
import type { VehicleState } from '../../src/core/messages.js';
import { encodeSetpoint, holdSetpoint, pointSample, TimedReference, trajectorySetpoint, typeMaskFor, BRAKE_DECEL_MPS2 } from '../../src/flight/setpoint.js';
import { MavlinkEncoder, decode } from '../../src/flight/mavlink/codec.js';
import { MavlinkParser } from '../../src/flight/mavlink/parser.js';

const vehicle = (p: [number, number, number], v: [number, number, number]): VehicleState => ({
  tUs: 0, tSampleUs: 0, p_ned_m: p, v_ned_mps: v, q_ned_body: [Math.cos(0.25), 0, 0, Math.sin(0.25)], w_body_radps: null, source: 'odometry',
});

test('a full setpoint uses position, velocity, acceleration and yaw; yaw rate ignored; force bit clear', () => {
  const sp = trajectorySetpoint({ p_ned_m: [1, 2, -3], v_ned_mps: [4, 5, 6], a_ned_mps2: [0.1, 0.2, 0.3], yaw_rad: 0.5 }, 0);
  const mask = typeMaskFor(sp);
  assert.equal(mask, 2048);
  assert.equal(mask & common.PositionTargetTypemask.FORCE_SET, 0);
});

test('encoding survives the wire: frame LOCAL_NED, every field in place', () => {
  const sp = trajectorySetpoint({ p_ned_m: [1, 2, -3], v_ned_mps: [4, 5, 6], a_ned_mps2: [0.5, -0.5, 1], yaw_rad: 0.25 }, 0);
  const bytes = new MavlinkEncoder(1, 191).encode(encodeSetpoint(sp, { targetSystem: 1, targetComponent: 1, timeBootMs: 1234 }));
  const [pkt] = new MavlinkParser().push(bytes);
  const m = decode(pkt!) as common.SetPositionTargetLocalNed;
  assert.ok(m instanceof common.SetPositionTargetLocalNed);
  assert.equal(m.coordinateFrame, common.MavFrame.LOCAL_NED);
  assert.equal(m.typeMask, 2048);
  assert.equal(m.timeBootMs, 1234);
  assert.deepEqual([m.x, m.y, m.z, m.vx, m.vy, m.vz, m.afx, m.afy, m.afz], [1, 2, -3, 4, 5, 6, 0.5, -0.5, 1]);
  assert.equal(m.yaw, 0.25);
  assert.equal(m.targetSystem, 1);
});

test('the hold setpoint brakes to the stopping point with zero velocity and keeps the heading', () => {
  const sp = holdSetpoint(vehicle([0, 0, -2], [10, 0, 0]), 5);
  assert.equal(sp.source, 'hold');
  assert.deepEqual(sp.v_ned_mps, [0, 0, 0]);
  assert.ok(Math.abs(sp.p_ned_m[0] - 100 / (2 * BRAKE_DECEL_MPS2)) < 1e-9);
  assert.equal(sp.p_ned_m[2], -2);
  assert.ok(Math.abs(sp.yaw_rad - 0.5) < 1e-9);
  assert.equal(typeMaskFor(sp), 2048);
});

test('without any vehicle state the hold setpoint is "velocity zero" with position and yaw ignored', () => {
  const sp = holdSetpoint(null, 0);
  const M = common.PositionTargetTypemask;
  assert.equal(typeMaskFor(sp), M.X_IGNORE | M.Y_IGNORE | M.Z_IGNORE | M.YAW_IGNORE | M.YAW_RATE_IGNORE);
  const m = encodeSetpoint(sp, { targetSystem: 1, targetComponent: 1, timeBootMs: 0 });
  assert.ok([m.x, m.y, m.z, m.yaw].every((v) => v === 0), 'no NaN on the wire');
});

test('TimedReference goes stale after its limit and clear() drops it', () => {
  const ref = new TimedReference(500_000);
  assert.equal(ref.sample(0), null);
  ref.update(() => pointSample([1, 0, -2]), 1_000_000);
  assert.deepEqual(ref.sample(1_500_000)!.p_ned_m, [1, 0, -2]);
  assert.equal(ref.sample(1_500_001), null);
  ref.update(() => pointSample([1, 0, -2]), 2_000_000);
  ref.clear();
  assert.equal(ref.sample(2_000_000), null);
});
