import { common } from '../flight/mavlink/registry.js';
import { nan3, type TrajectorySetpoint } from './px4-control.js';
import type { Vec3 } from '../core/messages.js';

const M = common.PositionTargetTypemask;
const POS = M.X_IGNORE | M.Y_IGNORE | M.Z_IGNORE;
const VEL = M.VX_IGNORE | M.VY_IGNORE | M.VZ_IGNORE;
const ACC = M.AX_IGNORE | M.AY_IGNORE | M.AZ_IGNORE;

/**
 * SET_POSITION_TARGET_LOCAL_NED → trajectory setpoint, as PX4's mavlink_receiver reads it: a group (position,
 * velocity, acceleration) is used only when none of its three ignore bits is set; yaw and yaw rate each have their
 * own bit; FORCE_SET is refused (PX4 does not do force setpoints). Only MAV_FRAME_LOCAL_NED is taken.
 *
 * Returns null when every group is ignored (PX4 then takes it as no setpoint and no proof of life), or a message
 * for a STATUSTEXT when the setpoint is refused.
 */
export function setpointFromMessage(m: common.SetPositionTargetLocalNed): TrajectorySetpoint | null | string {
  if (m.coordinateFrame !== common.MavFrame.LOCAL_NED) return `Offboard: frame ${m.coordinateFrame} not supported`;
  const mask = m.typeMask;
  const usePos = (mask & POS) === 0;
  const useVel = (mask & VEL) === 0;
  const useAcc = (mask & ACC) === 0;
  if (useAcc && (mask & M.FORCE_SET) !== 0) return 'Offboard: force setpoint not supported';
  if (!usePos && !useVel && !useAcc) return null;
  const v3 = (use: boolean, x: number, y: number, z: number): Vec3 => (use ? [x, y, z] : nan3());
  return {
    p_ned_m: v3(usePos, m.x, m.y, m.z),
    v_ned_mps: v3(useVel, m.vx, m.vy, m.vz),
    a_ned_mps2: v3(useAcc, m.afx, m.afy, m.afz),
    yaw_rad: (mask & M.YAW_IGNORE) !== 0 ? NaN : m.yaw,
    yawRate_radps: (mask & M.YAW_RATE_IGNORE) !== 0 ? NaN : m.yawRate,
  };
}
