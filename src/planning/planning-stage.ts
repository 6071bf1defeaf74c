import type { TopicBus } from '../core/bus.js';
import type { Clock, Timer } from '../core/clock.js';
import type { ControlState, GateMapState, RaceEvent, Topics, TrajectorySample, Vec3, VehicleState } from '../core/messages.js';
import { exitTurn } from './gate-sequence.js';
import { boundsOfHall, defaultPlannerParams, type PlanGate, type PlannerParams } from './planner.js';
import { quintic } from './quintic.js';
import { initialRaceState, stepRace, type RaceGate, type RaceParams, type RaceState } from './race.js';
import { defaultReplanParams, Replanner, type ReplanParams } from './replanner.js';
import { gateNormal, physicalGateIndices, type Track } from './track.js';
import { sampleTrajectory, trajectoryEndUs, type Trajectory } from './trajectory.js';
import { withDrag, type VehicleLimits } from './limits.js';

export interface PlanningStageOptions {
  bus: TopicBus<Topics>;
  clock: Clock;
  track: Track;
  limits: VehicleLimits;
  race?: Partial<RaceParams>;
  replan?: Partial<ReplanParams>;
  /** Gates planned through at once. */
  lookahead?: number;
  /** Race-logic and planning cadence (µs). */
  periodUs?: number;
  /** Deceleration of the stop after the finish or in a failsafe (m/s²). */
  brakeMps2?: number;
  /**
   * Gain on the acceleration feed-forward per NED axis. PX4's velocity loop subtracts MPC_XY_VEL_D_ACC (0.2) times
   * the measured acceleration, so during a sustained acceleration only 1/1.2 of the feed-forward arrives and the
   * vehicle falls behind. [1.2, 1.2, 1] cut the largest tracking error in `racepilot sim` from about 2.0 to 1.5 m
   * but did not pass more gates, so the default stays [1, 1, 1] until the tracking is understood.
   */
  accelFeedForwardGain?: [number, number, number];
  /** How far ahead the reference is sampled (µs): about the autopilot's response delay. */
  referenceLeadUs?: number;
}

/**
 * The planning module's imperative shell: on a fixed cadence it steps the race logic (pure, race.ts) with the
 * odometry, the flight link's control state and the gate map, replans through the next gates when the Replanner
 * says so, publishes `race/event` and `planning/trajectory`, and is the flight link's setpoint source. Everything is
 * in the odometry frame: gates come from the gate map with the drift added, so the setpoints need no correction.
 */
export class PlanningStage {
  race: RaceState;
  readonly replanner: Replanner;
  readonly planner: PlannerParams;
  readonly raceParams: RaceParams;
  /** Wall time of each planning call (ms), for the summary; the only wall-clock read, for statistics. */
  readonly planMs: number[] = [];
  /** The trajectory currently flown (racing) or the stop (finish, failsafe), null when holding or idle. */
  trajectory: Trajectory | null = null;
  /** Every trajectory published, oldest first (bounded): for the flight picture. */
  readonly history: Trajectory[] = [];
  private vehicle: VehicleState | null = null;
  private control: ControlState = 'idle';
  private gateMap: GateMapState | null = null;
  private lastSightingUs: number | null = null;
  private started = false;
  private timer: Timer | null = null;
  private readonly physical: number[];
  private readonly unsubscribe: (() => void)[] = [];
  private reference: ((tUs: number) => TrajectorySample | null) | null = null;
  private lastYaw: number;
  private problem: string | null = null;

  constructor(private readonly o: PlanningStageOptions) {
    this.planner = { ...defaultPlannerParams(o.limits), bounds: boundsOfHall(o.track.hall) };
    this.replanner = new Replanner(this.planner, { ...defaultReplanParams, ...o.replan });
    this.raceParams = { laps: o.track.laps, gateCount: o.track.gates.length, takeoffAltitudeM: 1.5, blindTimeoutS: 3, holdBeforeLandS: 2, passToleranceM: 0.1, ...o.race };
    this.race = initialRaceState(o.clock.nowUs());
    this.physical = physicalGateIndices(o.track);
    this.lastYaw = (o.track.start.yaw_deg * Math.PI) / 180;
    const { bus } = o;
    this.unsubscribe.push(
      bus.subscribe('fc/vehicle_state', (v) => void (this.vehicle = v)),
      bus.subscribe('fc/event', (e) => {
        if (e.kind === 'control_state' && e.state) this.control = e.state;
      }),
      bus.subscribe('estimation/gate_map', (m) => {
        if (!this.gateMap || m.accepted > this.gateMap.accepted) this.lastSightingUs = m.tUs;
        this.gateMap = m;
      }),
    );
  }

  /** The start signal: the race takes off as soon as the flight link has control. */
  start(): void {
    this.started = true;
    this.timer ??= this.o.clock.every(this.o.periodUs ?? 20_000, (t) => this.step(t));
  }

  close(): void {
    this.timer?.cancel();
    for (const u of this.unsubscribe) u();
  }

  /** The flight link's SetpointSource: null lets the link stream its hold/brake setpoint. */
  sample(tUs: number): TrajectorySample | null {
    const s = this.reference?.(tUs) ?? null;
    if (s) this.lastYaw = s.yaw_rad;
    return s;
  }

  /** Where the track entry's gate is in the odometry frame: the gate map's estimate, the track before any. */
  gateInOdom(trackIndex: number): Vec3 {
    const m = this.gateMap?.gates[this.physical[trackIndex]!];
    return m ? m.p_odom_ned_m : [...this.o.track.gates[trackIndex]!.p_ned_m];
  }

  /** Why the race cannot go on, when the planner found no trajectory; null otherwise. */
  get planningProblem(): string | null {
    return this.problem;
  }

  step(tUs: number): void {
    const v = this.vehicle;
    if (!v) return;
    const track = this.o.track;
    const prev = this.race;
    const tg = track.gates[prev.targetGate]!;
    const gate: RaceGate = { p_odom_ned_m: this.gateInOdom(prev.targetGate), n_ned: gateNormal(tg), innerSizeM: tg.innerSizeM };
    const r = stepRace(prev, { tUs, started: this.started, control: this.control, p_odom_ned_m: v.p_ned_m, v_ned_mps: v.v_ned_mps, lastSightingUs: this.lastSightingUs }, gate, this.raceParams);
    this.race = r.state;
    for (const e of r.events) this.publishEvent(e.kind === 'gate_passed' || e.kind === 'gate_missed' ? { ...e, gateIndex: prev.targetGate } : e);
    const entered = r.state.phase !== prev.phase;
    switch (r.state.phase) {
      case 'takeoff': {
        const hp = r.state.holdPoint!;
        const g0 = this.gateInOdom(0);
        const yaw = Math.atan2(g0[1] - hp[1], g0[0] - hp[0]);
        this.reference = () => ({ p_ned_m: hp, v_ned_mps: [0, 0, 0], a_ned_mps2: [0, 0, 0], yaw_rad: yaw });
        break;
      }
      case 'racing':
        this.replanRace(tUs, v);
        break;
      case 'finished':
      case 'failsafe_hold':
      case 'landing':
        if (entered) this.brakeTo(tUs, v, r.state.holdPoint!);
        break;
      default:
        this.reference = null;
    }
  }

  private replanRace(tUs: number, v: VehicleState): void {
    const { track } = this.o;
    const n = track.gates.length;
    const lookahead = this.o.lookahead ?? 2;
    const gates: PlanGate[] = [];
    let k = this.race.targetGate;
    let lap = this.race.lap;
    for (let i = 0; i < lookahead; i++) {
      gates.push({ index: k, p_ned_m: this.gateInOdom(k), n_ned: gateNormal(track.gates[k]!) });
      if (k === n - 1 && lap >= track.laps - 1) break; // the final gate of the race
      if (++k === n) {
        k = 0;
        lap++;
      }
    }
    const last = gates.at(-1)!.index;
    const lastLap = last < this.race.targetGate ? this.race.lap + 1 : this.race.lap;
    const t0 = performance.now();
    // The gate just flown through: the first segment must not swing back into its frame.
    const prevIndex = (this.race.targetGate + n - 1) % n;
    const passed = this.race.gatesPassed > 0 ? { index: prevIndex, p_ned_m: this.gateInOdom(prevIndex), n_ned: gateNormal(track.gates[prevIndex]!) } : undefined;
    const out = this.replanner.update(tUs, { tUs, p_ned_m: v.p_ned_m, v_ned_mps: v.v_ned_mps, a_ned_mps2: [0, 0, 0] }, gates, exitTurn(track, last, lastLap), passed);
    if (out.planned) this.planMs.push(performance.now() - t0);
    if (!out.plan) {
      if (this.problem === null) this.publishEvent({ tUs, kind: 'refused', message: out.problem ?? 'no trajectory' });
      this.problem = out.problem;
      this.reference = null;
      return;
    }
    this.problem = null;
    if (out.replanned) {
      this.adopt(out.plan.trajectory);
    }
    const traj = out.plan.trajectory;
    const lim = this.o.limits;
    // The feed-forward carries the drag too: the flight controller's model-free cascade would otherwise lag by metres.
    const leadUs = this.o.referenceLeadUs ?? 0;
    const ffGain = this.o.accelFeedForwardGain ?? [1, 1, 1];
    // The reference may be sampled a little ahead (referenceLeadUs) to make up for the autopilot's response delay;
    // 0 by default: leads of 100–200 ms made the AlphaPilot-like course worse in `racepilot sim`.
    this.reference = (t) => {
      const s = sampleTrajectory(traj, Math.min(t + leadUs, trajectoryEndUs(traj) - 1), this.lastYaw);
      if (!s) return null;
      const a = withDrag(s.a_ned_mps2, s.v_ned_mps, lim);
      return { ...s, a_ned_mps2: [a[0] * ffGain[0], a[1] * ffGain[1], a[2] * ffGain[2]] };
    };
  }

  /** A smooth stop: one quintic from the current reference to rest at the hold point. */
  private brakeTo(tUs: number, v: VehicleState, hold: Vec3): void {
    const from = this.reference?.(tUs) ?? { p_ned_m: v.p_ned_m, v_ned_mps: v.v_ned_mps, a_ned_mps2: [0, 0, 0] as Vec3, yaw_rad: this.lastYaw };
    const speed = Math.hypot(...from.v_ned_mps);
    const brake = this.o.brakeMps2 ?? 6;
    // Stop along the current velocity within the braking distance, at the race's hold height.
    const k = speed / (2 * brake);
    const stop: Vec3 = [from.p_ned_m[0] + from.v_ned_mps[0] * k, from.p_ned_m[1] + from.v_ned_mps[1] * k, hold[2]];
    const T = Math.max(0.5, (2 * speed) / brake);
    const axes = [0, 1, 2].map((i) => quintic({ p: from.p_ned_m[i]!, v: from.v_ned_mps[i]!, a: from.a_ned_mps2[i]! }, { p: stop[i]!, v: 0, a: 0 }, T)) as Trajectory['segments'][number]['axes'];
    const traj: Trajectory = { tUs, segments: [{ t0Us: tUs, durationS: T, axes, gateIndex: null }] };
    this.adopt(traj);
    const yaw = from.yaw_rad;
    this.reference = (t) => ({ ...sampleTrajectory(traj, t, yaw)!, yaw_rad: yaw });
  }

  private adopt(traj: Trajectory): void {
    this.trajectory = traj;
    if (this.history.length >= 10_000) this.history.splice(0, 5_000);
    this.history.push(traj);
    this.o.bus.publish('planning/trajectory', traj);
  }

  private publishEvent(e: RaceEvent): void {
    this.o.bus.publish('race/event', e);
  }
}
