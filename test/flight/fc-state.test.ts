import { test } from 'node:test';
import assert from 'node:assert/strict';
import { common, minimal } from 'mavlink-mappings';
import { initialFcState, reduceFc, tickFc, type FcParams, type FcState } from '../../src/flight/fc-state.js';
import { MavlinkEncoder, decode } from '../../src/flight/mavlink/codec.js';
import { MavlinkParser } from '../../src/flight/mavlink/parser.js';

const P: FcParams = { heartbeatTimeoutUs: 1_500_000, targetSystem: 0 };
const AP = { sysid: 1, compid: 1 };

function hb(opts: { autopilot?: number; type?: number; base?: number; custom?: number } = {}): minimal.Heartbeat {
  const m = new minimal.Heartbeat();
  m.type = opts.type ?? minimal.MavType.QUADROTOR;
  m.autopilot = opts.autopilot ?? minimal.MavAutopilot.PX4;
  m.baseMode = opts.base ?? minimal.MavModeFlag.CUSTOM_MODE_ENABLED;
  m.customMode = opts.custom ?? 3 << 16; // POSCTL
  m.systemStatus = minimal.MavState.STANDBY;
  m.mavlinkVersion = 3;
  return m;
}

function localPos(x: number, y: number, z: number, tBootMs = 0): common.LocalPositionNed {
  const m = new common.LocalPositionNed();
  Object.assign(m, { timeBootMs: tBootMs, x, y, z, vx: 1, vy: 0, vz: 0 });
  return m;
}

test('the autopilot heartbeat brings the link up with autopilot, type, mode and armed', () => {
  let s = initialFcState(0);
  const u = reduceFc(s, hb({ base: 1 | 128, custom: 6 << 16 }), AP, 1000, P);
  s = u.state;
  assert.equal(u.statusChanged, true);
  assert.equal(s.status.linkUp, true);
  assert.equal(s.status.autopilot, 'px4');
  assert.equal(s.status.vehicleType, 'QUADROTOR');
  assert.equal(s.status.mode, 'OFFBOARD');
  assert.equal(s.status.externalControl, true);
  assert.equal(s.status.armed, true);
  assert.match(u.events[0]!.message, /link up: px4 QUADROTOR/);
});

test('ArduCopter GUIDED is external control; LOITER is not', () => {
  const a = reduceFc(initialFcState(0), hb({ autopilot: minimal.MavAutopilot.ARDUPILOTMEGA, custom: 4 }), AP, 0, P).state;
  assert.equal(a.status.autopilot, 'ardupilot');
  assert.equal(a.status.mode, 'GUIDED');
  assert.equal(a.status.externalControl, true);
  const b = reduceFc(a, hb({ autopilot: minimal.MavAutopilot.ARDUPILOTMEGA, custom: 5 }), AP, 10, P);
  assert.equal(b.state.status.mode, 'LOITER');
  assert.equal(b.state.status.externalControl, false);
  assert.ok(b.events.some((e) => e.message === 'mode GUIDED → LOITER'));
});

test('heartbeats of a ground station or companion never count as the link', () => {
  let s = initialFcState(0);
  s = reduceFc(s, hb({ type: minimal.MavType.GCS, autopilot: minimal.MavAutopilot.INVALID }), { sysid: 255, compid: 190 }, 0, P).state;
  s = reduceFc(s, hb({ type: minimal.MavType.ONBOARD_CONTROLLER, autopilot: minimal.MavAutopilot.INVALID }), { sysid: 1, compid: 191 }, 0, P).state;
  assert.equal(s.status.linkUp, false);
  // Once locked on the autopilot, a GCS heartbeat does not keep a dead link alive.
  s = reduceFc(s, hb(), AP, 0, P).state;
  for (let t = 500_000; t <= 3_000_000; t += 500_000) {
    s = reduceFc(s, hb({ type: minimal.MavType.GCS, autopilot: minimal.MavAutopilot.INVALID }), { sysid: 255, compid: 190 }, t, P).state;
    s = tickFc(s, t, P).state;
  }
  assert.equal(s.status.linkUp, false);
});

test('the link is lost after heartbeatTimeout without autopilot heartbeats, with an event', () => {
  let s = reduceFc(initialFcState(0), hb(), AP, 0, P).state;
  assert.equal(tickFc(s, 1_500_000, P).state.status.linkUp, true);
  const u = tickFc(s, 1_500_001, P);
  assert.equal(u.state.status.linkUp, false);
  assert.equal(u.events[0]!.kind, 'link');
  assert.match(u.events[0]!.message, /link lost/);
  s = reduceFc(u.state, hb(), AP, 2_000_000, P).state;
  assert.equal(s.status.linkUp, true);
});

test('a configured target system ignores other autopilots', () => {
  const s = reduceFc(initialFcState(0), hb(), { sysid: 2, compid: 1 }, 0, { ...P, targetSystem: 1 }).state;
  assert.equal(s.status.linkUp, false);
});

test('LOCAL_POSITION_NED, ATTITUDE_QUATERNION; ODOMETRY is preferred while it arrives', () => {
  let s: FcState = reduceFc(initialFcState(0), hb(), AP, 0, P).state;
  s = reduceFc(s, localPos(1, 2, -3, 100), AP, 200_000, P).state;
  assert.deepEqual(s.vehicle!.p_ned_m, [1, 2, -3]);
  assert.equal(s.vehicle!.source, 'local_position');
  assert.equal(s.vehicle!.tSampleUs, 200_000);
  const att = new common.AttitudeQuaternion();
  Object.assign(att, { timeBootMs: 110, q1: 0, q2: 0, q3: 0, q4: 1, rollspeed: 0.1, pitchspeed: 0, yawspeed: 0 });
  s = reduceFc(s, att, AP, 210_000, P).state;
  assert.deepEqual(s.vehicle!.q_ned_body, [0, 0, 0, 1]);
  const odo = new common.Odometry();
  Object.assign(odo, { timeUsec: 120_000n, frameId: common.MavFrame.LOCAL_NED, childFrameId: common.MavFrame.BODY_FRD, x: 5, y: 6, z: -7, q: [0, 0, 0, 1], vx: 1, vy: 0, vz: 0, rollspeed: 0, pitchspeed: 0, yawspeed: 0 });
  s = reduceFc(s, odo, AP, 220_000, P).state;
  assert.equal(s.vehicle!.source, 'odometry');
  assert.deepEqual(s.vehicle!.p_ned_m, [5, 6, -7]);
  // Body-frame velocity rotated by a 180° yaw: forward becomes south.
  assert.ok(Math.abs(s.vehicle!.v_ned_mps[0] + 1) < 1e-9);
  s = reduceFc(s, localPos(9, 9, 9), AP, 230_000, P).state;
  assert.deepEqual(s.vehicle!.p_ned_m, [5, 6, -7], 'LOCAL_POSITION_NED must not override fresh odometry');
  s = reduceFc(s, localPos(9, 9, 9), AP, 900_000, P).state;
  assert.deepEqual(s.vehicle!.p_ned_m, [9, 9, 9], 'stale odometry no longer wins');
});

test('messages from other systems do not move the vehicle', () => {
  let s = reduceFc(initialFcState(0), hb(), AP, 0, P).state;
  s = reduceFc(s, localPos(1, 1, 1), { sysid: 7, compid: 1 }, 10, P).state;
  assert.equal(s.vehicle, null);
});

test('battery from SYS_STATUS and BATTERY_STATUS; STATUSTEXT becomes an event', () => {
  let s = reduceFc(initialFcState(0), hb(), AP, 0, P).state;
  const sys = new common.SysStatus();
  Object.assign(sys, { voltageBattery: 16_800, batteryRemaining: 87 });
  s = reduceFc(s, sys, AP, 1, P).state;
  assert.equal(s.status.batteryV, 16.8);
  assert.equal(s.status.batteryRemaining, 0.87);
  const bat = new common.BatteryStatus();
  Object.assign(bat, { id: 0, voltages: [4000, 4000, 4000, 4000, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff], batteryRemaining: 50 });
  s = reduceFc(s, bat, AP, 2, P).state;
  assert.equal(s.status.batteryV, 16);
  assert.equal(s.status.batteryRemaining, 0.5);
  const txt = new common.StatusText();
  Object.assign(txt, { severity: common.MavSeverity.CRITICAL, text: 'Failsafe enabled: no offboard', id: 0, chunkSeq: 0 });
  const u = reduceFc(s, txt, AP, 3, P);
  assert.equal(u.events[0]!.kind, 'statustext');
  assert.equal(u.events[0]!.severity, 'error');
  assert.match(u.events[0]!.message, /no offboard/);
});

test('a heartbeat survives encoding, parsing and decoding into the reducer', () => {
  const enc = new MavlinkEncoder(1, 1);
  const parser = new MavlinkParser();
  const [pkt] = parser.push(enc.encode(hb({ base: 1 | 128, custom: (4 << 16) | (3 << 24) })));
  const msg = decode(pkt!)!;
  const s = reduceFc(initialFcState(0), msg, { sysid: pkt!.sysid, compid: pkt!.compid }, 0, P).state;
  assert.equal(s.status.mode, 'AUTO.LOITER');
  assert.equal(s.status.armed, true);
});
