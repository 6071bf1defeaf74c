import type { Vec3 } from '../core/messages.js';
import { DEFAULT_QUAD_PARAMS, DEFAULT_STEP_S, hoverThrustN, maxThrustN, restingState, step, type QuadParams, type QuadState } from './quadrotor.js';
import {
  DEFAULT_CONTROL_PARAMS, holdSetpoint, initialControllerState, levelCommand, nan3, positionControl,
  type ControlParams, type ControllerState, type TrajectorySetpoint,
} from './px4-control.js';
import { add, clamp, norm, qyaw, sub } from './vec.js';
import type { Px4Mode } from './px4-modes.js';

/**
 * The flight side of the simulated PX4, without any MAVLink: what each mode makes the vehicle do (PX4's navigator
 * and flight tasks, much reduced), the land detector and the physics loop. Time is given in, nothing here reads a
 * clock. The MAVLink side (px4-sim.ts) decides modes and arming and feeds offboard setpoints in.
 */
export interface VehicleParams {
  quad: QuadParams;
  control: ControlParams;
  /** MIS_TAKEOFF_ALT (m above home). */
  takeoffAltM: number;
  /** MPC_TKO_SPEED (m/s). */
  takeoffSpeedMps: number;
  /** MPC_LAND_SPEED (m/s). */
  landSpeedMps: number;
  /** RTL_RETURN_ALT (m above home): the lowest altitude RTL flies home at. */
  rtlAltM: number;
  /** Integration step (s). */
  stepS: number;
  /** Battery: cells in series and capacity (mAh). */
  batteryCells: number;
  batteryMah: number;
}

export const DEFAULT_VEHICLE_PARAMS: Readonly<VehicleParams> = {
  quad: DEFAULT_QUAD_PARAMS,
  control: DEFAULT_CONTROL_PARAMS,
  takeoffAltM: 2.5,
  takeoffSpeedMps: 1.5,
  landSpeedMps: 0.7,
  rtlAltM: 5,
  stepS: DEFAULT_STEP_S,
  batteryCells: 6,
  batteryMah: 5000,
};

export class SimVehicle {
  truth: QuadState;
  /** Where the vehicle believes it is minus where it is: the estimator's drift, applied to what it controls on. */
  drift_ned_m: Vec3 = [0, 0, 0];
  mode: Px4Mode = 'POSCTL';
  armed = false;
  /** The current offboard setpoint, NaN components unset. */
  offboard: TrajectorySetpoint = holdSetpoint([0, 0, 0], 0);
  /** Position and heading that the hold-like modes keep, in the estimator's frame. */
  hold: { p: Vec3; yaw: number };
  takeoffTargetZ = -2.5;
  /** RTL has reached home and is descending. */
  rtlLanding = false;
  consumedMah = 0;
  readonly home_ned_m: Vec3;
  private ctrl: ControllerState = initialControllerState();

  constructor(
    readonly params: VehicleParams = DEFAULT_VEHICLE_PARAMS,
    start_ned_m: Vec3 = [0, 0, 0],
    startYaw = 0,
  ) {
    this.truth = restingState(start_ned_m, startYaw);
    this.home_ned_m = [...this.truth.p_ned_m];
    this.hold = { p: [...this.truth.p_ned_m], yaw: startYaw };
  }

  /** Position as the estimator (and so the controller and telemetry) sees it. */
  get estimated_p_ned_m(): Vec3 {
    return add(this.truth.p_ned_m, this.drift_ned_m);
  }

  get landed(): boolean {
    return this.truth.onGround;
  }

  /** Remember where we are as the place to hold (entering LOITER, POSCTL, a failsafe). */
  holdHere(): void {
    this.hold = { p: this.estimated_p_ned_m, yaw: qyaw(this.truth.q_ned_body) };
    this.ctrl = { velIntegral: [...this.ctrl.velIntegral] };
  }

  startTakeoff(altAboveHomeM: number): void {
    this.holdHere();
    this.takeoffTargetZ = this.home_ned_m[2] - altAboveHomeM;
  }

  /** One physics step of params.stepS. Returns true when the vehicle touched down during it. */
  step(): boolean {
    const wasLanded = this.truth.onGround;
    const dt = this.params.stepS;
    const qp = this.params.quad;
    let cmd;
    if (!this.armed) {
      cmd = { thrustN: 0, w_body_radps: [0, 0, 0] as Vec3 };
      this.ctrl = initialControllerState();
    } else if (this.mode === 'MANUAL' || this.mode === 'STABILIZED') {
      // Centred sticks: level, throttle at mid-stick, which PX4 maps to hover thrust (MPC_THR_HOVER).
      cmd = levelCommand(this.truth.q_ned_body, this.hold.yaw, hoverThrustN(qp), this.params.control);
    } else if (this.mode === 'ACRO') {
      cmd = { thrustN: hoverThrustN(qp), w_body_radps: [0, 0, 0] as Vec3 };
    } else {
      const seen: QuadState = { ...this.truth, p_ned_m: this.estimated_p_ned_m };
      const out = positionControl(this.ctrl, seen, this.setpoint(), dt, this.params.control, qp);
      this.ctrl = out.state;
      cmd = out.command;
    }
    this.truth = step(this.truth, cmd, dt, qp);
    // Battery: hover draws ~ 25 A for this mass class; current scales with thrust.
    const currentA = this.currentA();
    this.consumedMah += (currentA * dt * 1000) / 3600;
    return !wasLanded && this.truth.onGround;
  }

  currentA(): number {
    return this.armed ? 1 + 80 * (this.truth.thrustN / maxThrustN(this.params.quad)) : 0.5;
  }

  battery(): { voltageV: number; currentA: number; consumedMah: number; remaining: number; cells: number } {
    const remaining = clamp(1 - this.consumedMah / this.params.batteryMah, 0, 1);
    const cells = this.params.batteryCells;
    // LiPo: 4.2 V full, ~3.5 V empty per cell, with a sag of 2 mΩ·cell per amp.
    const voltageV = cells * (3.5 + 0.7 * remaining) - this.currentA() * 0.002 * cells;
    return { voltageV, currentA: this.currentA(), consumedMah: this.consumedMah, remaining, cells };
  }

  /** What the current mode asks the position controller for. */
  private setpoint(): TrajectorySetpoint {
    const p = this.estimated_p_ned_m;
    switch (this.mode) {
      case 'OFFBOARD':
        return this.offboard;
      case 'AUTO.TAKEOFF': {
        const vz = clamp(this.takeoffTargetZ - p[2], -this.params.takeoffSpeedMps, this.params.takeoffSpeedMps);
        return { p_ned_m: [this.hold.p[0], this.hold.p[1], NaN], v_ned_mps: [NaN, NaN, vz], a_ned_mps2: nan3(), yaw_rad: this.hold.yaw, yawRate_radps: NaN };
      }
      case 'AUTO.LAND':
        return this.landSetpoint();
      case 'AUTO.RTL': {
        if (this.rtlLanding) return this.landSetpoint();
        const z = Math.min(this.hold.p[2], this.home_ned_m[2] - this.params.rtlAltM);
        // Climb first, then fly home at that altitude.
        const climbing = p[2] - z > 0.5;
        const target: Vec3 = climbing ? [this.hold.p[0], this.hold.p[1], z] : [this.home_ned_m[0], this.home_ned_m[1], z];
        if (!climbing && norm(sub(target, p)) < 0.5 && norm(this.truth.v_ned_mps) < 0.5) {
          this.rtlLanding = true;
          this.hold = { p: target, yaw: this.hold.yaw };
        }
        return holdSetpoint(target, this.hold.yaw);
      }
      case 'ALTCTL':
        // Centred sticks: hold altitude, no horizontal position hold (it drifts with wind, here with nothing).
        return { p_ned_m: [NaN, NaN, this.hold.p[2]], v_ned_mps: [0, 0, NaN], a_ned_mps2: nan3(), yaw_rad: this.hold.yaw, yawRate_radps: NaN };
      default: // POSCTL with centred sticks, AUTO.LOITER, AUTO.READY, AUTO.MISSION without a mission
        return holdSetpoint(this.hold.p, this.hold.yaw);
    }
  }

  private landSetpoint(): TrajectorySetpoint {
    return {
      p_ned_m: [this.hold.p[0], this.hold.p[1], NaN],
      v_ned_mps: [NaN, NaN, this.params.landSpeedMps],
      a_ned_mps2: nan3(),
      yaw_rad: this.hold.yaw,
      yawRate_radps: NaN,
    };
  }
}
