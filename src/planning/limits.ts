import type { Vec3 } from '../core/messages.js';

export const GRAVITY_MPS2 = 9.80665;

/** What the vehicle can fly: from its thrust-to-weight ratio and the margins the race engineer wants kept. */
export interface VehicleLimits {
  /** Thrust-to-weight ratio (racing quadrotors: about 4). */
  thrustToWeight: number;
  /** Fraction of the maximum thrust the planner may use, leaving the rest to the controller for disturbances. */
  thrustMargin: number;
  /** Largest tilt of the thrust axis from vertical (deg). */
  maxTiltDeg: number;
  maxSpeedMps: number;
}

export const defaultLimits: VehicleLimits = { thrustToWeight: 4, thrustMargin: 0.75, maxTiltDeg: 70, maxSpeedMps: 16 };

/**
 * Whether an acceleration (NED) can be flown: the specific thrust f = a − g must be within the usable thrust and
 * point upwards within the tilt limit. Thrust only pushes along the body's −z axis, so a quadrotor cannot accelerate
 * downwards faster than gravity.
 */
export function accelerationFeasible(a: Vec3, lim: VehicleLimits): boolean {
  const fx = a[0];
  const fy = a[1];
  const fz = a[2] - GRAVITY_MPS2; // NED: gravity is +z, thrust must supply -(g) to hover
  const f = Math.hypot(fx, fy, fz);
  if (f > lim.thrustToWeight * GRAVITY_MPS2 * lim.thrustMargin) return false;
  if (fz >= 0) return false;
  const tilt = Math.atan2(Math.hypot(fx, fy), -fz);
  return tilt <= (lim.maxTiltDeg * Math.PI) / 180;
}

/**
 * The nearest flyable acceleration: the thrust vector shortened to the usable thrust and tilted back within the
 * limit. A plan starts from the previous plan's state, whose acceleration can sit a hair past a limit between the
 * samples the check looked at; starting from it unclamped would make every new plan infeasible at t = 0.
 */
export function clampAcceleration(a: Vec3, lim: VehicleLimits): Vec3 {
  if (accelerationFeasible(a, lim)) return a;
  let fx = a[0];
  let fy = a[1];
  let fz = Math.min(a[2] - GRAVITY_MPS2, -0.1 * GRAVITY_MPS2);
  const maxTilt = (lim.maxTiltDeg * Math.PI) / 180;
  const h = Math.hypot(fx, fy);
  if (Math.atan2(h, -fz) > maxTilt) {
    const k = (-fz * Math.tan(maxTilt)) / h;
    fx *= k;
    fy *= k;
  }
  const fmax = lim.thrustToWeight * GRAVITY_MPS2 * lim.thrustMargin * 0.999;
  const f = Math.hypot(fx, fy, fz);
  if (f > fmax) {
    fx *= fmax / f;
    fy *= fmax / f;
    fz *= fmax / f;
  }
  return [fx, fy, fz + GRAVITY_MPS2];
}
