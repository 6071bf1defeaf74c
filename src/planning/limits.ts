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
