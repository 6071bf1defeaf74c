import type { Quat, Vec3 } from '../core/messages.js';
import { clamp, qdcmZ, qfromYaw, qintegrate, qrotate, qyaw, norm } from './vec.js';

/**
 * Rigid-body quadrotor dynamics, a pure function of (state, command, dt, params). The motors and the flight
 * controller's inner rate loop are lumped into two first-order lags (collective thrust and body rates), which is
 * what the position and attitude loops above them see on a real airframe; rotor drag, blade flapping and battery
 * sag on thrust are left out.
 *
 * Frames: position/velocity in local NED (z down, ground at z = 0), attitude q_ned_body (body FRD → NED), body
 * rates in FRD. Thrust acts along −z of the body.
 */
export interface QuadParams {
  /** Take-off mass (kg). 2.5 kg: a racing frame carrying a Jetson-class computer and four stereo cameras. */
  massKg: number;
  /** Maximum collective thrust over weight. 4, as on racing drones (PX4's X500 is about 2). */
  thrustToWeight: number;
  /**
   * Quadratic drag coefficient k (kg/m), F_drag = −k·|v|·v in NED. 0.05 kg/m gives a top speed of about 43 m/s at
   * full thrust and full tilt with the defaults, the order of a racing drone's.
   */
  dragKgPerM: number;
  /** Body-rate limits (rad/s) roll, pitch, yaw: the rate loop's authority. 12 rad/s ≈ 690 °/s; yaw 6 rad/s. */
  maxRatesRadps: Vec3;
  /** Time constant (s) of the body-rate response to a rate command (rate loop + motor spin-up): 30 ms. */
  rateTauS: number;
  /** Time constant (s) of collective thrust following its command (motor/ESC spin-up): 20 ms. */
  thrustTauS: number;
  /** Gravity (m/s²). */
  gravity: number;
}

export const DEFAULT_QUAD_PARAMS: Readonly<QuadParams> = {
  massKg: 2.5,
  thrustToWeight: 4,
  dragKgPerM: 0.05,
  maxRatesRadps: [12, 12, 6],
  rateTauS: 0.03,
  thrustTauS: 0.02,
  gravity: 9.81,
};

/** Default integration step (s): 2 ms, ten times faster than the slowest lag above. */
export const DEFAULT_STEP_S = 0.002;

export interface QuadState {
  p_ned_m: Vec3;
  v_ned_mps: Vec3;
  /** Acceleration over the last step (m/s², NED), for the accelerometer-like derivative the controller uses. */
  a_ned_mps2: Vec3;
  q_ned_body: Quat;
  w_body_radps: Vec3;
  /** Collective thrust actually produced (N). */
  thrustN: number;
  /** Resting on the ground (z = 0 with not enough thrust to lift off). */
  onGround: boolean;
}

/** What the rate controller is asked for: collective thrust (N) and body rates (rad/s, FRD). */
export interface QuadCommand {
  thrustN: number;
  w_body_radps: Vec3;
}

export const maxThrustN = (p: QuadParams): number => p.thrustToWeight * p.massKg * p.gravity;
export const hoverThrustN = (p: QuadParams): number => p.massKg * p.gravity;

/** A vehicle at rest on the ground at a position (z ≥ 0 is ground), facing yaw. */
export function restingState(p_ned_m: Vec3 = [0, 0, 0], yaw = 0): QuadState {
  return {
    p_ned_m: [p_ned_m[0], p_ned_m[1], Math.min(p_ned_m[2], 0)],
    v_ned_mps: [0, 0, 0],
    a_ned_mps2: [0, 0, 0],
    q_ned_body: qfromYaw(yaw),
    w_body_radps: [0, 0, 0],
    thrustN: 0,
    onGround: p_ned_m[2] >= 0,
  };
}

/** First-order lag toward a target, exact for a constant target over dt. */
const lag = (x: number, target: number, dt: number, tau: number): number =>
  tau > 0 ? target + (x - target) * Math.exp(-dt / tau) : target;

/**
 * Advances the vehicle by dt seconds. Semi-implicit Euler: rates and thrust first, then attitude from the new rates,
 * then velocity from the new attitude and thrust, then position from the new velocity. That ordering keeps the
 * hover and the attitude loop stable at steps where explicit Euler would pump energy in.
 */
export function step(s: QuadState, cmd: QuadCommand, dt: number, params: QuadParams): QuadState {
  const tMax = maxThrustN(params);
  const m = params.massKg;
  const g = params.gravity;

  const thrustN = clamp(lag(s.thrustN, clamp(cmd.thrustN, 0, tMax), dt, params.thrustTauS), 0, tMax);
  const lim = params.maxRatesRadps;
  const w: Vec3 = [0, 0, 0];
  for (let i = 0; i < 3; i++) {
    const target = clamp(cmd.w_body_radps[i]!, -lim[i]!, lim[i]!);
    w[i] = clamp(lag(s.w_body_radps[i]!, target, dt, params.rateTauS), -lim[i]!, lim[i]!);
  }
  let q = qintegrate(s.q_ned_body, w, dt);

  // Forces in NED: thrust along −body z, gravity down (+z), quadratic drag against the velocity.
  const thrustDir = qdcmZ(q);
  const speed = norm(s.v_ned_mps);
  const k = params.dragKgPerM;
  const a: Vec3 = [0, 0, 0];
  for (let i = 0; i < 3; i++) {
    a[i] = (-thrustDir[i]! * thrustN - k * speed * s.v_ned_mps[i]!) / m;
  }
  a[2] += g;

  let v: Vec3 = [s.v_ned_mps[0] + a[0] * dt, s.v_ned_mps[1] + a[1] * dt, s.v_ned_mps[2] + a[2] * dt];
  let p: Vec3 = [s.p_ned_m[0] + v[0] * dt, s.p_ned_m[1] + v[1] * dt, s.p_ned_m[2] + v[2] * dt];

  // Ground contact at z = 0: it holds the vehicle up, stops it (friction of the legs) and sets it level, until the
  // thrust's vertical part exceeds the weight.
  let onGround = false;
  let wOut = w;
  if (p[2] >= 0 && a[2] >= 0) {
    onGround = true;
    p = [s.onGround ? s.p_ned_m[0] : p[0], s.onGround ? s.p_ned_m[1] : p[1], 0];
    v = [0, 0, 0];
    q = qfromYaw(qyaw(q));
    wOut = [0, 0, 0];
  } else if (p[2] > 0) {
    p = [p[0], p[1], 0];
    v = [v[0], v[1], Math.min(v[2], 0)];
  }
  const aOut: Vec3 = [(v[0] - s.v_ned_mps[0]) / dt, (v[1] - s.v_ned_mps[1]) / dt, (v[2] - s.v_ned_mps[2]) / dt];
  return { p_ned_m: p, v_ned_mps: v, a_ned_mps2: aOut, q_ned_body: q, w_body_radps: wOut, thrustN, onGround };
}

/** Body-frame velocity (FRD) of a state: what PX4's ODOMETRY message carries. */
export const velocityBody = (s: QuadState): Vec3 =>
  qrotate([s.q_ned_body[0], -s.q_ned_body[1], -s.q_ned_body[2], -s.q_ned_body[3]], s.v_ned_mps);
