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
  /**
   * Quadratic drag over mass (1/m): the thrust must also cancel −c·|v|·v. 0.02 for the 2.5 kg racer with
   * k = 0.05 kg/m: 3.4 m/s² at 13 m/s, which the plan's feed-forward has to include or the vehicle lags by metres.
   */
  dragPerM: number;
  /**
   * Largest jerk (m/s³): how fast the thrust vector may turn. The autopilot tilts with a time constant of about
   * 0.15 s (PX4 MC_*_P 6.5). 0: no limit (the default: limits of 30–100 m/s³ did not reduce the tracking error measured in `racepilot sim`).
   */
  maxJerkMps3: number;
}

/**
 * Defaults for the racer: the tilt stays 5° inside the flight controller's own limit (PX4 MPC_TILTMAX_AIR 60° in the
 * racing configuration), so the feed-forward is never clipped by the autopilot and feedback keeps some authority.
 */
export const defaultLimits: VehicleLimits = { thrustToWeight: 4, thrustMargin: 0.75, maxTiltDeg: 55, maxSpeedMps: 16, dragPerM: 0.02, maxJerkMps3: 0 };

/**
 * Whether an acceleration (NED) can be flown: the specific thrust f = a − g must be within the usable thrust and
 * point upwards within the tilt limit. Thrust only pushes along the body's −z axis, so a quadrotor cannot accelerate
 * downwards faster than gravity.
 */
export function accelerationFeasible(a: Vec3, lim: VehicleLimits, v: Vec3 = [0, 0, 0]): boolean {
  const c = lim.dragPerM * Math.hypot(v[0], v[1], v[2]);
  const fx = a[0] + c * v[0];
  const fy = a[1] + c * v[1];
  const fz = a[2] + c * v[2] - GRAVITY_MPS2; // NED: gravity is +z, thrust must supply -(g) to hover
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

/** The acceleration the thrust must produce for a reference acceleration a at velocity v: a plus the drag to cancel. */
export function withDrag(a: Vec3, v: Vec3, lim: Pick<VehicleLimits, 'dragPerM'>): Vec3 {
  const c = lim.dragPerM * Math.hypot(v[0], v[1], v[2]);
  return [a[0] + c * v[0], a[1] + c * v[1], a[2] + c * v[2]];
}
