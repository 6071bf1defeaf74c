import type { TopicBus } from '../core/bus.js';
import type { GateMapState, PerceptionGates, Topics, Vec3, VehicleState } from '../core/messages.js';
import type { Track } from '../planning/track.js';
import { bodyToOdom, defaultGateMapParams, GateMap, type GateMapParams } from './gate-map.js';

/** Odometry older than this around a detection's capture time cannot place it (µs). */
const MAX_POSE_GAP_US = 100_000;
/** How much odometry history is kept to look up the pose at a FrameSet's capture time (µs). */
const HISTORY_US = 1_000_000;

/**
 * The least uncertainty a sighting is trusted with: base + k·range². A gate's range from its apparent size has an
 * error growing with the square of the range (σ_r ≈ r²·σ_px / (f·size)); at the simulator's 320 px (f ≈ 143 px) and
 * an AIRR opening with 2 px corner noise, k ≈ 0.006. Perception's own figure can be far smaller when a detection is
 * wrong (seen: σ 0.08 m on a gate 7 m off), and one overconfident sighting drags a gate estimate by metres.
 */
export interface SightingSigmaFloor {
  /** Across the line of sight, at zero range (m). */
  baseM: number;
  /**
   * Along the line of sight, at zero range (m). Measured with the rendered cameras and the detector (racepilot sim,
   * seeds 2 and 5): the range error's median is 0.4–0.7 m at 5–11 m with a tail to 2–3 m, not shrinking with range
   * as the size-based model alone says; across the line of sight the median is 0.15–0.3 m.
   */
  baseRangeM: number;
  perRangeSqM: number;
  /**
   * Sightings reported further than this are not fused (m). Measured with the rendered cameras (racepilot sim, seed 1,
   * first model): of the detector's gates at 5–10 m 86% lay within 1 m of a real gate, at 10–15 m 42%, beyond 15 m 4%.
   */
  maxRangeM: number;
  /**
   * Across the line of sight the floor grows only linearly: base + k·range, k a bearing error (rad). The gate's
   * direction comes from where its corners are, not from how far apart they are, so a detector whose corners are a
   * few pixels off misplaces a gate at 12 m by metres in range but by decimetres sideways. 0.03 rad is ~4 px at the
   * simulator's 320 px, twice the corner noise.
   */
  lateralPerRangeM: number;
  /**
   * Variance multiplier for every sighting. A detector's error on a gate repeats from one FrameSet to the next (same
   * gate, nearly the same view), so 30 sightings a second are not 30 independent ones; treating them so lets a
   * steady bias drag a gate and, through the shared drift, every other gate.
   */
  correlationInflation: number;
}
export const defaultSightingSigmaFloor: SightingSigmaFloor = {
  baseM: 0.1, baseRangeM: 0.1, perRangeSqM: 0.006, maxRangeM: 15, lateralPerRangeM: 0.03, correlationInflation: 1,
};

/**
 * The estimation module's imperative shell: keeps a short history of the flight controller's odometry, places each
 * gate that perception saw (body frame, at the FrameSet's capture time) into the odometry frame through the pose
 * at that time, fuses it into the gate map (association, outliers, drift) and publishes `estimation/gate_map`.
 * The gate the race expects next is followed from `race/event`, to break ties when gates overlap in view.
 */
export class EstimationStage {
  readonly map: GateMap;
  private readonly poses: VehicleState[] = [];
  private expected = 0;
  /** Gates passed so far: after the race's last gate there is no next one to associate sightings with. */
  private passes = 0;
  /** Capture time of the last sighting the map accepted (µs), null before any. */
  lastSightingUs: number | null = null;
  /** Detections that could not be placed: no odometry near their capture time. */
  unplaced = 0;
  /** Detections beyond the range they are fused at. */
  tooFar = 0;
  private readonly unsubscribe: (() => void)[] = [];

  constructor(
    private readonly bus: TopicBus<Topics>,
    private readonly track: Track,
    params: GateMapParams = defaultGateMapParams,
    private readonly sigmaFloor: SightingSigmaFloor = defaultSightingSigmaFloor,
  ) {
    this.map = new GateMap(track, params);
    this.unsubscribe.push(
      bus.subscribe('fc/vehicle_state', (v) => this.onVehicle(v)),
      bus.subscribe('perception/gates', (g) => this.onGates(g)),
      bus.subscribe('race/event', (e) => {
        if (e.kind === 'gate_passed' && e.gateIndex !== undefined) {
          this.expected = (e.gateIndex + 1) % this.track.gates.length;
          this.passes++;
        }
      }),
    );
  }

  close(): void {
    for (const u of this.unsubscribe) u();
  }

  snapshot(tUs: number): GateMapState {
    return this.map.snapshot(tUs);
  }

  private onVehicle(v: VehicleState): void {
    const last = this.poses.at(-1);
    if (last && v.tSampleUs <= last.tSampleUs) return;
    this.poses.push(v);
    while (this.poses.length > 2 && this.poses[0]!.tSampleUs < v.tSampleUs - HISTORY_US) this.poses.shift();
  }

  /** The odometry sample nearest to tUs, when close enough to trust. */
  private poseAt(tUs: number): VehicleState | null {
    let best: VehicleState | null = null;
    for (const p of this.poses) if (!best || Math.abs(p.tSampleUs - tUs) < Math.abs(best.tSampleUs - tUs)) best = p;
    return best && Math.abs(best.tSampleUs - tUs) <= MAX_POSE_GAP_US ? best : null;
  }

  private onGates(msg: PerceptionGates): void {
    if (msg.gates.length === 0) return;
    const pose = this.poseAt(msg.tSampleUs);
    if (!pose) {
      this.unplaced += msg.gates.length;
      return;
    }
    // The pose's own sample time may differ from the capture by a few ms: move it along its velocity.
    const dt = (msg.tSampleUs - pose.tSampleUs) / 1e6;
    const p = pose.p_ned_m.map((x, k) => x + pose.v_ned_mps[k]! * dt) as typeof pose.p_ned_m;
    for (const g of msg.gates) {
      if (g.range_m > this.sigmaFloor.maxRangeM) {
        this.tooFar++;
        continue;
      }
      const f = this.sigmaFloor;
      const inflate = Math.sqrt(f.correlationInflation);
      const sigmaRangeM = inflate * Math.max(g.sigma_p_body_m[0], g.sigma_p_body_m[1], g.sigma_p_body_m[2], f.baseRangeM + f.perRangeSqM * g.range_m * g.range_m);
      const sigmaLateralM = Math.min(sigmaRangeM, inflate * (f.baseM + f.lateralPerRangeM * g.range_m));
      const p_odom = bodyToOdom(g.p_body_m, p, pose.q_ned_body);
      const u_ned: Vec3 = [p_odom[0] - p[0], p_odom[1] - p[1], p_odom[2] - p[2]];
      const los = Math.hypot(...u_ned) > 1e-3 ? { u_ned, sigmaLateralM, sigmaRangeM } : undefined;
      const remaining = Math.max(1, this.track.gates.length * this.track.laps - this.passes);
    const k = this.map.observe({ tUs: msg.tSampleUs, p_odom_ned_m: p_odom, sigmaM: sigmaRangeM, los }, this.expected, remaining);
      if (k !== null) this.lastSightingUs = Math.max(this.lastSightingUs ?? 0, msg.tSampleUs);
    }
    this.bus.publish('estimation/gate_map', this.map.snapshot(msg.tUs));
  }
}
