import { common, minimal } from '../flight/mavlink/registry.js';
import type { MavLinkData } from 'mavlink-mappings';
import type { EstimatedState } from './sensors.js';
import { qconj, qrotate } from './vec.js';
import { encodePx4Mode, type Px4Mode } from './px4-modes.js';

/**
 * Builders of the messages PX4 streams, from the simulator's estimate. Times are the estimate's sample time since
 * boot, as PX4 stamps them, so a receiver can measure the latency.
 */
export interface VehicleStatusView {
  mode: Px4Mode;
  armed: boolean;
  /** A failsafe is active (PX4 then reports MAV_STATE_CRITICAL). */
  failsafe: boolean;
}

/** HEARTBEAT the way PX4 fills it (mavlink_messages.cpp get_mavlink_navigation_mode). */
export function heartbeat(v: VehicleStatusView): MavLinkData {
  const hb = new minimal.Heartbeat();
  hb.type = minimal.MavType.QUADROTOR;
  hb.autopilot = minimal.MavAutopilot.PX4;
  let base = minimal.MavModeFlag.CUSTOM_MODE_ENABLED;
  if (v.armed) base |= minimal.MavModeFlag.SAFETY_ARMED;
  switch (v.mode) {
    case 'MANUAL': case 'ACRO':
      base |= minimal.MavModeFlag.MANUAL_INPUT_ENABLED;
      break;
    case 'STABILIZED': case 'ALTCTL': case 'POSCTL':
      base |= minimal.MavModeFlag.MANUAL_INPUT_ENABLED | minimal.MavModeFlag.STABILIZE_ENABLED;
      break;
    default: // AUTO.* and OFFBOARD
      base |= minimal.MavModeFlag.AUTO_ENABLED | minimal.MavModeFlag.STABILIZE_ENABLED | minimal.MavModeFlag.GUIDED_ENABLED;
  }
  hb.baseMode = base;
  hb.customMode = encodePx4Mode(v.mode);
  hb.systemStatus = v.failsafe ? minimal.MavState.CRITICAL : v.armed ? minimal.MavState.ACTIVE : minimal.MavState.STANDBY;
  hb.mavlinkVersion = 3;
  return hb;
}

const bootMs = (e: EstimatedState, bootUs: number): number => Math.max(0, Math.round((e.tSampleUs - bootUs) / 1000)) >>> 0;

export function localPositionNed(e: EstimatedState, bootUs: number): MavLinkData {
  const m = new common.LocalPositionNed();
  m.timeBootMs = bootMs(e, bootUs);
  [m.x, m.y, m.z] = e.p_ned_m;
  [m.vx, m.vy, m.vz] = e.v_ned_mps;
  return m;
}

export function attitudeQuaternion(e: EstimatedState, bootUs: number): MavLinkData {
  const m = new common.AttitudeQuaternion();
  m.timeBootMs = bootMs(e, bootUs);
  [m.q1, m.q2, m.q3, m.q4] = e.q_ned_body;
  [m.rollspeed, m.pitchspeed, m.yawspeed] = e.w_body_radps;
  m.reprOffsetQ = [0, 0, 0, 0];
  return m;
}

/**
 * ODOMETRY as PX4 sends it: pose in MAV_FRAME_LOCAL_NED, velocity and rates in the body frame
 * (child_frame_id MAV_FRAME_BODY_FRD). Covariances unknown (first element NaN, as the message defines).
 */
export function odometry(e: EstimatedState, bootUs: number): MavLinkData {
  const m = new common.Odometry();
  m.timeUsec = BigInt(Math.max(0, Math.round(e.tSampleUs - bootUs)));
  m.frameId = common.MavFrame.LOCAL_NED;
  m.childFrameId = common.MavFrame.BODY_FRD;
  [m.x, m.y, m.z] = e.p_ned_m;
  m.q = [...e.q_ned_body];
  const vBody = qrotate(qconj(e.q_ned_body), e.v_ned_mps);
  [m.vx, m.vy, m.vz] = vBody;
  [m.rollspeed, m.pitchspeed, m.yawspeed] = e.w_body_radps;
  m.poseCovariance = [NaN, ...new Array<number>(20).fill(0)];
  m.velocityCovariance = [NaN, ...new Array<number>(20).fill(0)];
  m.resetCounter = 0;
  m.estimatorType = common.MavEstimatorType.VIO;
  m.quality = 0;
  return m;
}

export interface BatteryView {
  voltageV: number;
  currentA: number;
  consumedMah: number;
  /** 0..1 */
  remaining: number;
  cells: number;
}

export function sysStatus(b: BatteryView): MavLinkData {
  const m = new common.SysStatus();
  // Gyro, accelerometer, magnetometer, barometer, rate/attitude/position control, motor outputs, battery.
  const sensors = 0x1 | 0x2 | 0x4 | 0x8 | 0x400 | 0x800 | 0x1000 | 0x2000 | 0x8000 | 0x2000000;
  m.onboardControlSensorsPresent = sensors;
  m.onboardControlSensorsEnabled = sensors;
  m.onboardControlSensorsHealth = sensors;
  m.load = 250;
  m.voltageBattery = Math.round(b.voltageV * 1000);
  m.currentBattery = Math.round(b.currentA * 100);
  m.batteryRemaining = Math.round(b.remaining * 100);
  return m;
}

export function batteryStatus(b: BatteryView): MavLinkData {
  const m = new common.BatteryStatus();
  m.id = 0;
  m.batteryFunction = common.MavBatteryFunction.ALL;
  m.type = common.MavBatteryType.LIPO;
  m.temperature = 0x7fff; // unknown
  const cell = Math.round((b.voltageV / b.cells) * 1000);
  m.voltages = Array.from({ length: 10 }, (_, i) => (i < b.cells ? cell : 0xffff));
  m.currentBattery = Math.round(b.currentA * 100);
  m.currentConsumed = Math.round(b.consumedMah);
  m.energyConsumed = -1;
  m.batteryRemaining = Math.round(b.remaining * 100);
  m.timeRemaining = 0;
  m.chargeState = common.MavBatteryChargeState.OK;
  m.voltagesExt = [0, 0, 0, 0];
  m.mode = common.MavBatteryMode.UNKNOWN;
  m.faultBitmask = 0 as common.MavBatteryFault;
  return m;
}

/** MAV_SEVERITY values used here. */
export const SEVERITY = { CRITICAL: 2, WARNING: 4, NOTICE: 5, INFO: 6 } as const;

export function statusText(severity: number, text: string): MavLinkData {
  const m = new common.StatusText();
  m.severity = severity;
  m.text = text.slice(0, 50);
  m.id = 0;
  m.chunkSeq = 0;
  return m;
}
