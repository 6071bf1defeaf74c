import type { Quat, Vec3 } from '../core/messages.js';
import type { QuadCommand, QuadParams, QuadState } from './quadrotor.js';
import { hoverThrustN, maxThrustN } from './quadrotor.js';
import {
  add, clamp, cross, normalize, qcanonical, qconj, qdcmZ, qfromColumns, qfromTwoVectors, qmul, qrotate,
  qyaw, scale, sub,
} from './vec.js';

/**
 * PX4's multicopter cascade (mc_pos_control's PositionControl + mc_att_control's AttitudeControl), as pure
 * functions: position P → velocity PID → acceleration (+ feed-forward) → thrust vector with tilt and thrust limits →
 * attitude (body z from the thrust, yaw from the setpoint) → body rates. The rate loop itself is part of the
 * quadrotor model (a first-order lag). Gains are PX4 v1.14 defaults unless said otherwise.
 */
export interface ControlParams {
  /** MPC_XY_P, MPC_XY_P, MPC_Z_P. */
  kpPos: Vec3;
  /** MPC_XY_VEL_P_ACC, MPC_Z_VEL_P_ACC (1/s). */
  kpVel: Vec3;
  /** MPC_XY_VEL_I_ACC, MPC_Z_VEL_I_ACC (1/s²). */
  kiVel: Vec3;
  /** MPC_XY_VEL_D_ACC, MPC_Z_VEL_D_ACC. */
  kdVel: Vec3;
  /** Horizontal speed limit (m/s): 20 for racing (PX4's MPC_XY_VEL_MAX default is 12). */
  maxVelXY: number;
  /** MPC_Z_VEL_MAX_UP / _DN (m/s), raised for racing from PX4's 3 / 1.5. */
  maxVelUp: number;
  maxVelDown: number;
  /** MPC_TILTMAX_AIR (rad): 60° for racing (PX4 default 45°). */
  maxTiltRad: number;
  /** MPC_THR_MIN as a fraction of the maximum thrust: keeps the motors spinning (0.12). */
  minThrustFrac: number;
  /** Velocity integrator bound per axis (m/s²), a simple anti-windup. */
  maxIntegral: number;
  /** MC_ROLL_P, MC_PITCH_P, MC_YAW_P. */
  kpAtt: Vec3;
  /**
   * MC_YAW_WEIGHT: the share of the yaw error the attitude setpoint keeps, so that a tilt error is corrected first.
   * PX4 divides the yaw gain by it (AttitudeControl::setProportionalGain), so a pure yaw error still closes at MC_YAW_P.
   */
  yawWeight: number;
  /** Rate setpoint limits (rad/s) MC_ROLLRATE_MAX etc., at most the airframe's. */
  maxRatesRadps: Vec3;
}

export const DEFAULT_CONTROL_PARAMS: Readonly<ControlParams> = {
  kpPos: [0.95, 0.95, 1.0],
  kpVel: [1.8, 1.8, 4.0],
  kiVel: [0.4, 0.4, 2.0],
  kdVel: [0.2, 0.2, 0.0],
  maxVelXY: 20,
  maxVelUp: 6,
  maxVelDown: 4,
  maxTiltRad: (60 * Math.PI) / 180,
  minThrustFrac: 0.12,
  maxIntegral: 5,
  kpAtt: [6.5, 6.5, 2.8],
  yawWeight: 0.4,
  maxRatesRadps: [12, 12, 6],
};

/**
 * A trajectory setpoint as PX4's trajectory_setpoint topic: NaN in a component means "not controlled" (no position
 * → velocity control; no position and velocity → acceleration control). yaw NaN keeps the heading; yawRate NaN means
 * no yaw-rate feed-forward.
 */
export interface TrajectorySetpoint {
  p_ned_m: Vec3;
  v_ned_mps: Vec3;
  a_ned_mps2: Vec3;
  yaw_rad: number;
  yawRate_radps: number;
}

export const nan3 = (): Vec3 => [NaN, NaN, NaN];

export function holdSetpoint(p_ned_m: Vec3, yaw_rad: number): TrajectorySetpoint {
  return { p_ned_m: [...p_ned_m], v_ned_mps: [0, 0, 0], a_ned_mps2: nan3(), yaw_rad, yawRate_radps: NaN };
}

/** The controller's memory: the velocity integrator. */
export interface ControllerState {
  velIntegral: Vec3;
}

export const initialControllerState = (): ControllerState => ({ velIntegral: [0, 0, 0] });

export interface ControlOutput {
  command: QuadCommand;
  state: ControllerState;
  /** Intermediate setpoints, for logs and tests. */
  v_sp: Vec3;
  a_sp: Vec3;
  q_sp: Quat;
}

const fin = (x: number): boolean => Number.isFinite(x);

/**
 * One controller update: position/velocity/acceleration setpoint → thrust and body-rate command. Pure: the caller
 * keeps the returned ControllerState for the next call.
 */
export function positionControl(
  ctrl: ControllerState,
  s: QuadState,
  sp: TrajectorySetpoint,
  dt: number,
  cp: ControlParams,
  qp: QuadParams,
): ControlOutput {
  // Position P, added to any velocity feed-forward (PX4's addIfNotNan).
  const v_sp: Vec3 = [NaN, NaN, NaN];
  for (let i = 0; i < 3; i++) {
    const pTerm = fin(sp.p_ned_m[i]!) ? (sp.p_ned_m[i]! - s.p_ned_m[i]!) * cp.kpPos[i]! : NaN;
    const ff = sp.v_ned_mps[i]!;
    v_sp[i] = fin(pTerm) && fin(ff) ? pTerm + ff : fin(pTerm) ? pTerm : ff;
  }
  // Velocity limits: horizontal by norm (keeps direction), vertical asymmetric.
  if (fin(v_sp[0]) && fin(v_sp[1])) {
    const h = Math.hypot(v_sp[0], v_sp[1]);
    if (h > cp.maxVelXY) {
      v_sp[0] *= cp.maxVelXY / h;
      v_sp[1] *= cp.maxVelXY / h;
    }
  }
  if (fin(v_sp[2])) v_sp[2] = clamp(v_sp[2], -cp.maxVelUp, cp.maxVelDown);

  // Velocity PID (D on the measured acceleration, as PX4 uses the velocity derivative), plus acceleration
  // feed-forward. Axes without a velocity setpoint take the feed-forward alone (zero if that is unset too).
  const a_sp: Vec3 = [0, 0, 0];
  const integral: Vec3 = [...ctrl.velIntegral];
  for (let i = 0; i < 3; i++) {
    const ff = fin(sp.a_ned_mps2[i]!) ? sp.a_ned_mps2[i]! : 0;
    if (fin(v_sp[i]!)) {
      const err = v_sp[i]! - s.v_ned_mps[i]!;
      integral[i] = clamp(integral[i]! + err * cp.kiVel[i]! * dt, -cp.maxIntegral, cp.maxIntegral);
      a_sp[i] = err * cp.kpVel[i]! + integral[i]! - s.a_ned_mps2[i]! * cp.kdVel[i]! + ff;
    } else {
      integral[i] = 0;
      a_sp[i] = ff;
    }
  }
  // No integration while resting on the ground: the ground, not the controller, holds the vehicle there.
  const nextCtrl: ControllerState = { velIntegral: s.onGround ? [0, 0, 0] : integral };

  const yaw = fin(sp.yaw_rad) ? sp.yaw_rad : qyaw(s.q_ned_body);
  const { thrustN, q_sp } = accelerationToAttitude(a_sp, yaw, cp, qp);
  const w = attitudeControl(s.q_ned_body, q_sp, sp.yawRate_radps, cp);
  return { command: { thrustN, w_body_radps: w }, state: nextCtrl, v_sp, a_sp, q_sp };
}

/**
 * PX4's _accelerationControl and bodyzToAttitude: the body z axis points along (−a_x, −a_y, g), tilted at most
 * maxTilt; collective thrust makes the vertical acceleration, between MPC_THR_MIN and the maximum.
 */
export function accelerationToAttitude(
  a_sp: Vec3,
  yaw: number,
  cp: ControlParams,
  qp: QuadParams,
): { thrustN: number; q_sp: Quat } {
  let bodyZ = normalize([-a_sp[0], -a_sp[1], qp.gravity]);
  bodyZ = limitTilt(bodyZ, cp.maxTiltRad);
  const tMax = maxThrustN(qp);
  const cosTilt = Math.max(bodyZ[2], 1e-3);
  const thrustN = clamp((hoverThrustN(qp) * (qp.gravity - a_sp[2])) / qp.gravity / cosTilt, cp.minThrustFrac * tMax, tMax);
  return { thrustN, q_sp: bodyZToAttitude(bodyZ, yaw) };
}

/** Tilts a unit body-z vector back toward down so its angle from vertical is at most maxTilt (PX4 limitTilt). */
export function limitTilt(bodyZ: Vec3, maxTilt: number): Vec3 {
  const cosAngle = clamp(bodyZ[2], -1, 1);
  const angle = Math.acos(cosAngle);
  if (angle <= maxTilt) return bodyZ;
  const rej = normalize(sub(bodyZ, [0, 0, cosAngle]));
  if (rej[0] === 0 && rej[1] === 0) return [0, 0, 1];
  return add(scale([0, 0, 1], Math.cos(maxTilt)), scale(rej, Math.sin(maxTilt)));
}

/** Attitude whose body z is bodyZ and whose heading is yaw (PX4 bodyzToAttitude). */
export function bodyZToAttitude(bodyZ: Vec3, yaw: number): Quat {
  const yC: Vec3 = [-Math.sin(yaw), Math.cos(yaw), 0];
  let bodyX = cross(yC, bodyZ);
  if (bodyZ[2] < 0) bodyX = scale(bodyX, -1); // upside down: keep the nose pointing the commanded way
  if (Math.abs(bodyZ[2]) < 1e-6) bodyX = [0, 0, 1];
  bodyX = normalize(bodyX);
  const bodyY = cross(bodyZ, bodyX);
  return qfromColumns(bodyX, bodyY, bodyZ);
}

/**
 * PX4's AttitudeControl::update: the tilt error is corrected at full gain and the yaw error at the lower yaw gain
 * (reduced-attitude mixing), giving body-rate setpoints; yawRate feed-forward is added about world down.
 */
export function attitudeControl(q: Quat, qd0: Quat, yawRateFF: number, cp: ControlParams): Vec3 {
  const ez = qdcmZ(q);
  const ezd = qdcmZ(qd0);
  let qdRed = qfromTwoVectors(ez, ezd);
  if (Math.abs(qdRed[1]) > 1 - 1e-5 || Math.abs(qdRed[2]) > 1 - 1e-5) qdRed = qd0;
  else qdRed = qmul(qdRed, q);
  const yawW = clamp(cp.yawWeight, 0, 1);
  // PX4 compensates the weight in the gain: without this the yaw closed at MC_YAW_P × weight (0.65 rad/s per rad
  // with the racing tune), and a hard braking turn left the nose 60–100° off the commanded heading, the front
  // cameras looking away from the next gate (racepilot sim seed 5, G6).
  const kpYaw = yawW > 1e-4 ? cp.kpAtt[2] / yawW : cp.kpAtt[2];
  const qMix = qcanonical(qmul(qconj(qdRed), qd0));
  const m0 = clamp(qMix[0], -1, 1);
  const m3 = clamp(qMix[3], -1, 1);
  const qd = qmul(qdRed, [Math.cos(yawW * Math.acos(m0)), 0, 0, Math.sin(yawW * Math.asin(m3))]);
  const qe = qcanonical(qmul(qconj(q), qd));
  const rates: Vec3 = [2 * qe[1] * cp.kpAtt[0], 2 * qe[2] * cp.kpAtt[1], 2 * qe[3] * kpYaw];
  if (fin(yawRateFF)) {
    const downInBody = qrotate(qconj(q), [0, 0, 1]);
    for (let i = 0; i < 3; i++) rates[i]! += downInBody[i]! * yawRateFF;
  }
  for (let i = 0; i < 3; i++) rates[i] = clamp(rates[i]!, -cp.maxRatesRadps[i]!, cp.maxRatesRadps[i]!);
  return rates;
}

/** Level attitude at a heading with a given thrust: what centred sticks in a manual mode ask for. */
export function levelCommand(q: Quat, yaw: number, thrustN: number, cp: ControlParams): QuadCommand {
  return { thrustN, w_body_radps: attitudeControl(q, [Math.cos(yaw / 2), 0, 0, Math.sin(yaw / 2)], NaN, cp) };
}

