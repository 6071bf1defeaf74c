import { common } from 'mavlink-mappings';
import type { Setpoint, TrajectorySample, Vec3, VehicleState } from '../core/messages.js';

/**
 * Setpoints: where a setpoint comes from (a `SetpointSource`), the hold/brake fallback when the reference is stale,
 * and its SET_POSITION_TARGET_LOCAL_NED encoding. Pure functions and a small reference holder; no clock, no I/O.
 */

/** Anything the setpoint stream can sample; null means "no fresh reference": the stream then holds/brakes. */
export interface SetpointSource {
  sample(tUs: number): TrajectorySample | null;
}

/**
 * The current reference with a staleness limit: whoever plans (the planner, the demo) calls `update` with a function
 * of time; if no update arrives for `staleUs`, `sample` returns null so the stream falls back to hold. This keeps a
 * frozen planner from flying the vehicle along an old trajectory forever.
 */
export class TimedReference implements SetpointSource {
  private fn: ((tUs: number) => TrajectorySample) | null = null;
  private updatedUs = 0;

  constructor(private readonly staleUs: number) {}

  update(fn: (tUs: number) => TrajectorySample, tUs: number): void {
    this.fn = fn;
    this.updatedUs = tUs;
  }

  /** Drops the reference: the stream holds from the next sample on. */
  clear(): void {
    this.fn = null;
  }

  sample(tUs: number): TrajectorySample | null {
    if (!this.fn || tUs - this.updatedUs > this.staleUs) return null;
    return this.fn(tUs);
  }
}

/** A fixed point to fly to and stay at (velocity and acceleration zero). */
export function pointSample(p_ned_m: Vec3, yaw_rad = 0): TrajectorySample {
  return { p_ned_m: [...p_ned_m], v_ned_mps: [0, 0, 0], a_ned_mps2: [0, 0, 0], yaw_rad };
}

/** Deceleration assumed for the braking point (m/s²): gentle for a racer with thrust-to-weight 4. */
export const BRAKE_DECEL_MPS2 = 5;

/**
 * The hold/brake setpoint: the point where the vehicle stops if it brakes at BRAKE_DECEL from its current velocity,
 * with velocity and acceleration zero, keeping its heading. Holding at the current position instead would make the
 * position controller overshoot and fly back. Without any vehicle state the position is NaN (encoded as ignored),
 * leaving a pure "velocity zero" setpoint.
 */
export function holdSetpoint(vehicle: VehicleState | null, tUs: number): Setpoint {
  if (!vehicle) {
    return { tUs, p_ned_m: [NaN, NaN, NaN], v_ned_mps: [0, 0, 0], a_ned_mps2: [0, 0, 0], yaw_rad: NaN, source: 'hold' };
  }
  const [vx, vy, vz] = vehicle.v_ned_mps;
  const speed = Math.hypot(vx, vy, vz);
  const k = speed / (2 * BRAKE_DECEL_MPS2); // stopping distance = v²/2a along v
  const p = vehicle.p_ned_m;
  return {
    tUs,
    p_ned_m: [p[0] + vx * k, p[1] + vy * k, p[2] + vz * k],
    v_ned_mps: [0, 0, 0],
    a_ned_mps2: [0, 0, 0],
    yaw_rad: yawOf(vehicle),
    source: 'hold',
  };
}

export function trajectorySetpoint(s: TrajectorySample, tUs: number): Setpoint {
  return { tUs, p_ned_m: [...s.p_ned_m], v_ned_mps: [...s.v_ned_mps], a_ned_mps2: [...s.a_ned_mps2], yaw_rad: s.yaw_rad, source: 'trajectory' };
}

/** Yaw (rad) of a vehicle's attitude, ZYX Euler. */
export function yawOf(vehicle: VehicleState): number {
  const [w, x, y, z] = vehicle.q_ned_body;
  return Math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z));
}

const M = common.PositionTargetTypemask;

/**
 * type_mask for SET_POSITION_TARGET_LOCAL_NED. Position, velocity, acceleration feed-forward and yaw are used; yaw
 * rate is ignored (both PX4 and ArduPilot then hold the commanded yaw); FORCE_SET (bit 9) stays clear, because with
 * it PX4 would read the acceleration as a force and ArduPilot rejects the message. A non-finite component group is
 * marked ignored instead of sending NaN, so the same mask logic serves the hold setpoint without position.
 */
export function typeMaskFor(sp: Setpoint): number {
  let mask = M.YAW_RATE_IGNORE;
  if (!sp.p_ned_m.every(Number.isFinite)) mask |= M.X_IGNORE | M.Y_IGNORE | M.Z_IGNORE;
  if (!sp.v_ned_mps.every(Number.isFinite)) mask |= M.VX_IGNORE | M.VY_IGNORE | M.VZ_IGNORE;
  if (!sp.a_ned_mps2.every(Number.isFinite)) mask |= M.AX_IGNORE | M.AY_IGNORE | M.AZ_IGNORE;
  if (!Number.isFinite(sp.yaw_rad)) mask |= M.YAW_IGNORE;
  return mask;
}

export interface SetpointTarget {
  targetSystem: number;
  targetComponent: number;
  /** Milliseconds since our boot, for the message's time_boot_ms. */
  timeBootMs: number;
}

export function encodeSetpoint(sp: Setpoint, target: SetpointTarget): common.SetPositionTargetLocalNed {
  const m = new common.SetPositionTargetLocalNed();
  m.timeBootMs = Math.max(0, Math.floor(target.timeBootMs)) >>> 0;
  m.targetSystem = target.targetSystem;
  m.targetComponent = target.targetComponent;
  m.coordinateFrame = common.MavFrame.LOCAL_NED;
  m.typeMask = typeMaskFor(sp);
  const f = (v: number) => (Number.isFinite(v) ? v : 0);
  [m.x, m.y, m.z] = sp.p_ned_m.map(f) as Vec3;
  [m.vx, m.vy, m.vz] = sp.v_ned_mps.map(f) as Vec3;
  [m.afx, m.afy, m.afz] = sp.a_ned_mps2.map(f) as Vec3;
  m.yaw = f(sp.yaw_rad);
  m.yawRate = 0;
  return m;
}
