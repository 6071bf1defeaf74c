import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_QUAD_PARAMS, DEFAULT_STEP_S, hoverThrustN, maxThrustN, restingState, step, type QuadState,
} from '../../src/sim/quadrotor.js';
import {
  attitudeControl, DEFAULT_CONTROL_PARAMS, holdSetpoint, initialControllerState, nan3, positionControl, type TrajectorySetpoint,
} from '../../src/sim/px4-control.js';
import { qtilt, qyaw } from '../../src/sim/vec.js';
import type { Vec3 } from '../../src/core/messages.js';

const P = DEFAULT_QUAD_PARAMS;
const dt = DEFAULT_STEP_S;

function hovering(z: number): QuadState {
  return { ...restingState([0, 0, 0]), p_ned_m: [0, 0, z], onGround: false, thrustN: hoverThrustN(P) };
}

/** Closed loop: controller + dynamics for `seconds`, calling `each` after every step. */
function fly(s0: QuadState, sp: (t: number) => TrajectorySetpoint, seconds: number, each?: (s: QuadState, t: number) => void): QuadState {
  let s = s0;
  let ctrl = initialControllerState();
  const n = Math.round(seconds / dt);
  for (let i = 0; i < n; i++) {
    const t = i * dt;
    const out = positionControl(ctrl, s, sp(t), dt, DEFAULT_CONTROL_PARAMS, P);
    ctrl = out.state;
    s = step(s, out.command, dt, P);
    each?.(s, t + dt);
  }
  return s;
}

test('open loop: hover thrust holds altitude', () => {
  let s = hovering(-5);
  for (let i = 0; i < 5 / dt; i++) s = step(s, { thrustN: hoverThrustN(P), w_body_radps: [0, 0, 0] }, dt, P);
  assert.ok(Math.abs(s.p_ned_m[2] + 5) < 1e-9, `z drifted to ${s.p_ned_m[2]}`);
  assert.ok(Math.abs(s.v_ned_mps[2]) < 1e-9);
  assert.equal(s.onGround, false);
});

test('open loop: less than hover thrust sinks, and the ground stops it', () => {
  let s = hovering(-1);
  for (let i = 0; i < 3 / dt; i++) s = step(s, { thrustN: 0.5 * hoverThrustN(P), w_body_radps: [0, 0, 0] }, dt, P);
  assert.equal(s.p_ned_m[2], 0);
  assert.equal(s.onGround, true);
  assert.deepEqual(s.v_ned_mps, [0, 0, 0]);
});

test('thrust is limited to thrust-to-weight × weight, and the climb acceleration with it', () => {
  let s = hovering(-10);
  for (let i = 0; i < 0.5 / dt; i++) s = step(s, { thrustN: 100 * maxThrustN(P), w_body_radps: [0, 0, 0] }, dt, P);
  assert.ok(s.thrustN <= maxThrustN(P) + 1e-9);
  assert.ok(s.thrustN > 0.99 * maxThrustN(P));
  // Without drag, 0.5 s at (TWR − 1)·g at most; drag only lowers it.
  const vMax = (P.thrustToWeight - 1) * P.gravity * 0.5;
  assert.ok(-s.v_ned_mps[2] <= vMax + 1e-6, `climb rate ${-s.v_ned_mps[2]} above ${vMax}`);
  assert.ok(-s.v_ned_mps[2] > 0.8 * vMax);
  // A negative command gives no thrust at all (props do not reverse).
  s = step(s, { thrustN: -50, w_body_radps: [0, 0, 0] }, dt, P);
  assert.ok(s.thrustN >= 0);
});

test('body rates never exceed their limits, and approach the command with the rate time constant', () => {
  let s = hovering(-50);
  let maxSeen: Vec3 = [0, 0, 0];
  for (let i = 0; i < 0.3 / dt; i++) {
    s = step(s, { thrustN: hoverThrustN(P), w_body_radps: [100, -100, 100] }, dt, P);
    maxSeen = maxSeen.map((m, k) => Math.max(m, Math.abs(s.w_body_radps[k]!))) as Vec3;
  }
  for (let k = 0; k < 3; k++) assert.ok(maxSeen[k]! <= P.maxRatesRadps[k]! + 1e-12, `axis ${k}: ${maxSeen[k]}`);
  assert.ok(Math.abs(s.w_body_radps[0] - P.maxRatesRadps[0]) < 1e-3);
  // One time constant after a step from rest: 1 − 1/e of the (limited) command.
  let r = hovering(-50);
  for (let i = 0; i < Math.round(P.rateTauS / dt); i++) r = step(r, { thrustN: hoverThrustN(P), w_body_radps: [1, 0, 0] }, dt, P);
  assert.ok(Math.abs(r.w_body_radps[0] - (1 - Math.exp(-1))) < 0.02, `rate after τ: ${r.w_body_radps[0]}`);
});

test('closed loop: hover at a position setpoint stays put', () => {
  const s = fly(hovering(-3), () => holdSetpoint([0, 0, -3], 0), 5);
  assert.ok(Math.hypot(...s.p_ned_m.map((x, i) => x - [0, 0, -3][i]!)) < 0.01, `ended at ${s.p_ned_m}`);
});

test('closed loop: a 10 m step in position converges with bounded overshoot and tilt', () => {
  let maxX = -Infinity;
  let maxTilt = 0;
  let minZ = Infinity;
  let maxZ = -Infinity;
  const s = fly(hovering(-5), () => holdSetpoint([10, 0, -5], 0), 12, (st) => {
    maxX = Math.max(maxX, st.p_ned_m[0]);
    maxTilt = Math.max(maxTilt, qtilt(st.q_ned_body));
    minZ = Math.min(minZ, st.p_ned_m[2]);
    maxZ = Math.max(maxZ, st.p_ned_m[2]);
  });
  assert.ok(Math.abs(s.p_ned_m[0] - 10) < 0.05, `x ended at ${s.p_ned_m[0]}`);
  assert.ok(maxX - 10 < 1.5, `overshoot ${maxX - 10} m`);
  assert.ok(maxTilt <= DEFAULT_CONTROL_PARAMS.maxTiltRad + 0.05, `tilt ${maxTilt}`);
  assert.ok(maxZ - minZ < 0.5, `altitude wandered ${minZ}..${maxZ}`);
});

test('closed loop: velocity setpoint with position unset is tracked, and yaw follows its setpoint', () => {
  const sp = (): TrajectorySetpoint => ({ p_ned_m: nan3(), v_ned_mps: [5, 0, 0], a_ned_mps2: nan3(), yaw_rad: 1, yawRate_radps: NaN });
  let peak = 0;
  const s = fly(hovering(-5), sp, 10, (st) => (peak = Math.max(peak, st.v_ned_mps[0])));
  // PX4's velocity PI overshoots a little while its integrator unwinds from the acceleration phase (drag).
  assert.ok(peak < 5.5, `vx peaked at ${peak}`);
  assert.ok(Math.abs(s.v_ned_mps[0] - 5) < 0.1, `vx ${s.v_ned_mps[0]}`);
  assert.ok(Math.abs(s.v_ned_mps[2]) < 0.1);
  assert.ok(Math.abs(qyaw(s.q_ned_body) - 1) < 0.02, `yaw ${qyaw(s.q_ned_body)}`);
});

test('attitude control: a pure yaw error closes at MC_YAW_P whatever MC_YAW_WEIGHT is (PX4 divides the gain by it)', () => {
  const level: [number, number, number, number] = [1, 0, 0, 0];
  const err = 0.2;
  const yawed: [number, number, number, number] = [Math.cos(err / 2), 0, 0, Math.sin(err / 2)];
  for (const yawWeight of [0.4, 0.25, 1]) {
    const cp = { ...DEFAULT_CONTROL_PARAMS, yawWeight };
    const w = attitudeControl(level, yawed, NaN, cp);
    // 2·sin(weight·err/2)·kp/weight ≈ kp·err for a small error.
    assert.ok(Math.abs(w[2] - cp.kpAtt[2] * err) < 0.01 * cp.kpAtt[2] * err, `weight ${yawWeight}: yaw rate ${w[2]}`);
    assert.ok(Math.abs(w[0]) < 1e-9 && Math.abs(w[1]) < 1e-9);
  }
});

test('closed loop: braking hard at 55° of tilt, the nose still turns to the commanded heading', () => {
  // From 10 m/s north, brake and head west (yaw −90°) at once: the tilt comes first, the yaw follows within a second.
  const s0: QuadState = { ...hovering(-5), v_ned_mps: [10, 0, 0] };
  const sp = (): TrajectorySetpoint => ({ p_ned_m: nan3(), v_ned_mps: [0, -3, 0], a_ned_mps2: nan3(), yaw_rad: -Math.PI / 2, yawRate_radps: NaN });
  let yawAt1s = NaN;
  fly(s0, sp, 1.5, (st, t) => {
    if (Math.abs(t - 1) < dt / 2) yawAt1s = qyaw(st.q_ned_body);
  });
  assert.ok(Math.abs(yawAt1s + Math.PI / 2) < 0.15, `yaw after 1 s: ${(yawAt1s * 180 / Math.PI).toFixed(1)}°`);
});

test('closed loop: takeoff from the ground climbs to the setpoint', () => {
  const s = fly(restingState([0, 0, 0]), () => holdSetpoint([0, 0, -2], 0), 8);
  assert.equal(s.onGround, false);
  assert.ok(Math.abs(s.p_ned_m[2] + 2) < 0.05, `z ${s.p_ned_m[2]}`);
});
