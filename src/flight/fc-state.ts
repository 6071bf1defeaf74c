import { common, minimal, type MavLinkData } from 'mavlink-mappings';
import { decodeMode } from './modes.js';
import type { Autopilot, FcStatus, FlightEvent, Quat, Vec3, VehicleState } from '../core/messages.js';

/**
 * The flight controller as the daemon knows it: a pure reducer from decoded MAVLink messages (and time) to FcStatus
 * and VehicleState. No I/O, no clock: `reduceFc` for each message, `tickFc` for the passing of time (link timeout).
 *
 * Only the autopilot's own heartbeats count for link health: a ground station or another companion on the same
 * network also sends heartbeats, and taking those for the autopilot would hide a dead flight controller.
 */

export interface FcParams {
  heartbeatTimeoutUs: number;
  /** The autopilot's system id, or 0 for the first autopilot heard. */
  targetSystem: number;
}

export interface FcState {
  status: FcStatus;
  vehicle: VehicleState | null;
  /** The autopilot we follow, fixed by its first heartbeat. */
  sysid: number | null;
  compid: number | null;
  /** Last ODOMETRY time: while it keeps coming, LOCAL_POSITION_NED does not overwrite the position. */
  lastOdometryUs: number | null;
  /** Our clock minus the autopilot's boot clock, smallest seen (= least delayed packet), µs. */
  bootOffsetUs: number | null;
}

export interface FcUpdate {
  state: FcState;
  statusChanged: boolean;
  vehicleChanged: boolean;
  events: FlightEvent[];
}

export interface PacketSource {
  sysid: number;
  compid: number;
}

/** Odometry older than this no longer suppresses LOCAL_POSITION_NED. */
const ODOMETRY_PREFERRED_US = 500_000;

export function initialFcState(tUs: number): FcState {
  return {
    status: {
      tUs,
      linkUp: false,
      lastHeartbeatUs: null,
      autopilot: 'unknown',
      vehicleType: 'UNKNOWN',
      systemId: 0,
      mode: 'UNKNOWN',
      externalControl: false,
      armed: false,
      batteryV: null,
      batteryRemaining: null,
    },
    vehicle: null,
    sysid: null,
    compid: null,
    lastOdometryUs: null,
    bootOffsetUs: null,
  };
}

export function autopilotOf(code: number): Autopilot {
  if (code === minimal.MavAutopilot.PX4) return 'px4';
  if (code === minimal.MavAutopilot.ARDUPILOTMEGA) return 'ardupilot';
  if (code === minimal.MavAutopilot.GENERIC) return 'generic';
  return 'unknown';
}

/** The modes in which the autopilot follows our setpoints: PX4 OFFBOARD, ArduPilot GUIDED. */
export function isExternalControlMode(autopilot: Autopilot, mode: string): boolean {
  return (autopilot === 'px4' && mode === 'OFFBOARD') || (autopilot === 'ardupilot' && mode === 'GUIDED');
}

/** Components that send heartbeats but are not flight controllers. */
function isAutopilotHeartbeat(hb: minimal.Heartbeat): boolean {
  if (hb.autopilot === minimal.MavAutopilot.INVALID) return false;
  const t = hb.type;
  return t !== minimal.MavType.GCS && t !== minimal.MavType.ONBOARD_CONTROLLER && t !== minimal.MavType.GIMBAL && t !== minimal.MavType.CAMERA;
}

/** Folds one decoded message from `from` at our time tUs into the state. */
export function reduceFc(s: FcState, msg: MavLinkData, from: PacketSource, tUs: number, p: FcParams): FcUpdate {
  const events: FlightEvent[] = [];
  if (msg instanceof minimal.Heartbeat) return heartbeat(s, msg, from, tUs, p);
  // Everything else counts only from the autopilot we follow.
  if (s.sysid === null || from.sysid !== s.sysid || from.compid !== s.compid) return unchanged(s);

  if (msg instanceof common.LocalPositionNed) {
    if (s.lastOdometryUs !== null && tUs - s.lastOdometryUs < ODOMETRY_PREFERRED_US) return unchanged(s);
    const next = withBootOffset(s, msg.timeBootMs * 1000, tUs);
    const v = next.vehicle ?? emptyVehicle(tUs);
    next.vehicle = { ...v, tUs, tSampleUs: sampleTime(next, msg.timeBootMs * 1000, tUs), p_ned_m: [msg.x, msg.y, msg.z], v_ned_mps: [msg.vx, msg.vy, msg.vz], source: 'local_position' };
    return { state: next, statusChanged: false, vehicleChanged: true, events };
  }
  if (msg instanceof common.AttitudeQuaternion) {
    if (!s.vehicle) return unchanged(s); // attitude alone is no vehicle state: wait for a position
    const q: Quat = [msg.q1, msg.q2, msg.q3, msg.q4];
    const w: Vec3 = [msg.rollspeed, msg.pitchspeed, msg.yawspeed];
    return { state: { ...s, vehicle: { ...s.vehicle, tUs, q_ned_body: q, w_body_radps: w } }, statusChanged: false, vehicleChanged: true, events };
  }
  if (msg instanceof common.Odometry) {
    // Only a local-NED pose is usable as is; PX4 sends MAV_FRAME_LOCAL_NED with velocity in the body frame
    // (BODY_FRD) or in LOCAL_NED depending on version, so rotate a body-frame velocity into NED.
    if (msg.frameId !== common.MavFrame.LOCAL_NED && msg.frameId !== common.MavFrame.LOCAL_FRD) return unchanged(s);
    const q: Quat = [msg.q[0] ?? 1, msg.q[1] ?? 0, msg.q[2] ?? 0, msg.q[3] ?? 0];
    let vel: Vec3 = [msg.vx, msg.vy, msg.vz];
    if (msg.childFrameId === common.MavFrame.BODY_FRD) vel = rotate(q, vel);
    const next = withBootOffset(s, Number(msg.timeUsec), tUs);
    next.lastOdometryUs = tUs;
    next.vehicle = {
      tUs,
      tSampleUs: sampleTime(next, Number(msg.timeUsec), tUs),
      p_ned_m: [msg.x, msg.y, msg.z],
      v_ned_mps: vel,
      q_ned_body: q,
      w_body_radps: [msg.rollspeed, msg.pitchspeed, msg.yawspeed],
      source: 'odometry',
    };
    return { state: next, statusChanged: false, vehicleChanged: true, events };
  }
  if (msg instanceof common.SysStatus) {
    const v = msg.voltageBattery === 0xffff ? null : msg.voltageBattery / 1000;
    const r = msg.batteryRemaining < 0 ? null : msg.batteryRemaining / 100;
    return battery(s, v, r, tUs);
  }
  if (msg instanceof common.BatteryStatus) {
    if (msg.id !== 0) return unchanged(s); // the main battery only
    const cells = msg.voltages.filter((mv) => mv !== 0xffff);
    const v = cells.length ? cells.reduce((a, b) => a + b, 0) / 1000 : s.status.batteryV;
    const r = msg.batteryRemaining < 0 ? s.status.batteryRemaining : msg.batteryRemaining / 100;
    return battery(s, v, r, tUs);
  }
  if (msg instanceof common.StatusText) {
    events.push({ tUs, kind: 'statustext', message: `autopilot: ${msg.text.replace(/\0+$/, '')}`, severity: severityOf(msg.severity) });
    return { state: s, statusChanged: false, vehicleChanged: false, events };
  }
  return unchanged(s);
}

/** Time passing without messages: the link goes down when the autopilot's heartbeats stop. */
export function tickFc(s: FcState, tUs: number, p: FcParams): FcUpdate {
  const last = s.status.lastHeartbeatUs;
  if (s.status.linkUp && last !== null && tUs - last > p.heartbeatTimeoutUs) {
    const status = { ...s.status, tUs, linkUp: false };
    const ms = Math.round((tUs - last) / 1000);
    return {
      state: { ...s, status },
      statusChanged: true,
      vehicleChanged: false,
      events: [{ tUs, kind: 'link', message: `link lost: no heartbeat from the autopilot (system ${s.sysid}) for ${ms} ms`, severity: 'error' }],
    };
  }
  return unchanged(s);
}

function heartbeat(s: FcState, hb: minimal.Heartbeat, from: PacketSource, tUs: number, p: FcParams): FcUpdate {
  if (!isAutopilotHeartbeat(hb)) return unchanged(s);
  if (s.sysid === null) {
    if (p.targetSystem !== 0 && from.sysid !== p.targetSystem) return unchanged(s);
  } else if (from.sysid !== s.sysid || from.compid !== s.compid) {
    return unchanged(s);
  }
  const events: FlightEvent[] = [];
  const autopilot = autopilotOf(hb.autopilot);
  const modeName = decodeMode(hb.autopilot, hb.type, hb.baseMode, hb.customMode);
  const mode = { name: modeName, external: isExternalControlMode(autopilot, modeName) };
  const armed = (hb.baseMode & minimal.MavModeFlag.SAFETY_ARMED) !== 0;
  const prev = s.status;
  if (!prev.linkUp) {
    events.push({ tUs, kind: 'link', message: `link up: ${autopilot} ${minimal.MavType[hb.type] ?? hb.type} (system ${from.sysid}, component ${from.compid}), mode ${mode.name}`, severity: 'info' });
  }
  if (prev.linkUp && prev.mode !== mode.name) events.push({ tUs, kind: 'info', message: `mode ${prev.mode} → ${mode.name}`, severity: 'info' });
  if (prev.lastHeartbeatUs !== null && prev.armed !== armed) events.push({ tUs, kind: 'info', message: armed ? 'armed' : 'disarmed', severity: 'warning' });
  const status: FcStatus = {
    ...prev,
    tUs,
    linkUp: true,
    lastHeartbeatUs: tUs,
    autopilot,
    vehicleType: minimal.MavType[hb.type] ?? `TYPE_${hb.type}`,
    systemId: from.sysid,
    mode: mode.name,
    externalControl: mode.external,
    armed,
  };
  const changed = !prev.linkUp || prev.mode !== status.mode || prev.armed !== armed || prev.autopilot !== autopilot || prev.vehicleType !== status.vehicleType;
  // Every heartbeat refreshes lastHeartbeatUs; statusChanged only flags what a subscriber would act on.
  return { state: { ...s, status, sysid: from.sysid, compid: from.compid }, statusChanged: changed, vehicleChanged: false, events };
}

function battery(s: FcState, v: number | null, r: number | null, tUs: number): FcUpdate {
  if (v === s.status.batteryV && r === s.status.batteryRemaining) return unchanged(s);
  return { state: { ...s, status: { ...s.status, tUs, batteryV: v, batteryRemaining: r } }, statusChanged: true, vehicleChanged: false, events: [] };
}

function unchanged(s: FcState): FcUpdate {
  return { state: s, statusChanged: false, vehicleChanged: false, events: [] };
}

function emptyVehicle(tUs: number): VehicleState {
  return { tUs, tSampleUs: tUs, p_ned_m: [0, 0, 0], v_ned_mps: [0, 0, 0], q_ned_body: [1, 0, 0, 0], w_body_radps: null, source: 'local_position' };
}

/** A copy with the boot-clock offset updated; a reboot (offset jumps by > 1 s) restarts the estimate. */
function withBootOffset(s: FcState, bootUs: number, tUs: number): FcState {
  const candidate = tUs - bootUs;
  let off = s.bootOffsetUs;
  if (off === null || candidate < off || candidate - off > 1_000_000) off = candidate;
  return { ...s, bootOffsetUs: off };
}

function sampleTime(s: FcState, bootUs: number, tUs: number): number {
  return s.bootOffsetUs === null ? tUs : Math.min(tUs, bootUs + s.bootOffsetUs);
}

/** Rotates v by unit quaternion q = [w, x, y, z]. */
function rotate(q: Quat, v: Vec3): Vec3 {
  const [w, x, y, z] = q;
  const [a, b, c] = v;
  // t = 2 q_vec × v; v' = v + w t + q_vec × t
  const tx = 2 * (y * c - z * b);
  const ty = 2 * (z * a - x * c);
  const tz = 2 * (x * b - y * a);
  return [a + w * tx + (y * tz - z * ty), b + w * ty + (z * tx - x * tz), c + w * tz + (x * ty - y * tx)];
}

function severityOf(mavSeverity: number): FlightEvent['severity'] {
  if (mavSeverity <= 3) return 'error'; // EMERGENCY..ERROR
  if (mavSeverity === 4) return 'warning';
  if (mavSeverity <= 6) return 'info'; // NOTICE, INFO
  return 'debug';
}
