import type { Trajectory, TrajectorySample, TrajectorySegment, Vec3 } from '../core/messages.js';
import { acceleration, position, velocity } from './quintic.js';

/** Declared once in core/messages.ts (the `planning/trajectory` topic). */
export type Segment = TrajectorySegment;
export type { Trajectory };

export function trajectoryEndUs(traj: Trajectory): number {
  const last = traj.segments.at(-1);
  return last ? last.t0Us + last.durationS * 1e6 : traj.tUs;
}

/**
 * Where the vehicle should be at time tUs. Before the start it is the start; past the end it is the end point at
 * rest, so a trajectory that is not replanned in time ends in a hover rather than flying on blind. Yaw follows the
 * horizontal velocity (the front cameras look where the vehicle goes) and holds its last value when slow.
 */
export function sampleTrajectory(traj: Trajectory, tUs: number, lastYawRad = 0): TrajectorySample | null {
  const segs = traj.segments;
  if (segs.length === 0) return null;
  let seg = segs[0]!;
  for (const s of segs) {
    if (s.t0Us <= tUs) seg = s;
    else break;
  }
  const end = tUs > trajectoryEndUs(traj);
  const t = end ? seg.durationS : Math.max(0, Math.min(seg.durationS, (tUs - seg.t0Us) / 1e6));
  const p = seg.axes.map((c) => position(c, t)) as Vec3;
  const v = end ? ([0, 0, 0] as Vec3) : (seg.axes.map((c) => velocity(c, t)) as Vec3);
  const a = end ? ([0, 0, 0] as Vec3) : (seg.axes.map((c) => acceleration(c, t)) as Vec3);
  const vEnd = seg.axes.map((c) => velocity(c, seg.durationS)) as Vec3;
  const heading = Math.hypot(v[0], v[1]) > 0.5 ? v : vEnd;
  const yaw = Math.hypot(heading[0], heading[1]) > 0.5 ? Math.atan2(heading[1], heading[0]) : lastYawRad;
  return { p_ned_m: p, v_ned_mps: v, a_ned_mps2: a, yaw_rad: yaw };
}
