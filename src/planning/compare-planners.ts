import type { Vec3 } from '../core/messages.js';
import { GRAVITY_MPS2, type VehicleLimits } from './limits.js';
import { boundsOfHall, defaultPlannerParams, minimumDuration, type PlanStart3 } from './planner.js';
import { accelBox, axisProfile, pointMassDuration, type AccelBox } from './point-mass.js';
import { acceleration, position, quintic, velocity } from './quintic.js';
import { gateNormal, type Track } from './track.js';

/**
 * Minimum-jerk quintics (the race's planner) against the time-optimal point mass (UZH's AlphaPilot model) on one
 * course, under the same rules: the whole race planned at once from a hover above the start, every gate crossed
 * square-on at a speed from the same grid, the speeds chosen by dynamic programming over the gates (exact for this
 * grid, since a gate-to-gate segment depends only on its two end speeds). The minimum-jerk segments keep the whole
 * limit check of the race (thrust, tilt, speed with drag, hall bounds, gate frames); the point mass only its
 * acceleration box, so its lap is a lower bound. What each would ask of the vehicle is reported beside the time.
 */
export interface PlannerFigures {
  lapS: number;
  pathM: number;
  meanSpeedMps: number;
  maxSpeedMps: number;
  gateSpeedsMps: number[];
  /** Largest jump of the commanded acceleration between two instants 10 ms apart (m/s²): a step the attitude must make at once. */
  maxAccelStepMps2: number;
  /** Largest change of the thrust direction in 10 ms (degrees). */
  maxThrustTurnDeg: number;
  /** Wall time of the whole dynamic programme (ms). */
  searchMs: number;
}

export interface PlannerComparison {
  track: string;
  gates: number;
  box: AccelBox;
  minJerk: PlannerFigures | null;
  pointMass: PlannerFigures | null;
}

interface Model {
  /** Shortest duration from (p, v) to gate k at speed index j, or null. */
  segment(from: PlanStart3, to: PlanStart3, k: number): number | null;
  /** Position, velocity and acceleration at t into the segment. */
  state(from: PlanStart3, to: PlanStart3, T: number, t: number): { p: Vec3; v: Vec3; a: Vec3 };
}

export function comparePlanners(track: Track, limits: VehicleLimits, takeoffAltitudeM = 1.5): PlannerComparison {
  const params = { ...defaultPlannerParams(limits), bounds: boundsOfHall(track.hall) };
  const n = track.gates.length;
  const seq = Array.from({ length: n * track.laps }, (_, i) => track.gates[i % n]!);
  const gates = seq.map((g, i) => ({ index: i % n, p_ned_m: g.p_ned_m, n_ned: gateNormal(g) }));
  const s = track.start.p_ned_m;
  const start: PlanStart3 = { p: [s[0], s[1], s[2] - takeoffAltitudeM], v: [0, 0, 0], a: [0, 0, 0] };
  // The point mass gets the box that suits it best on this course (see accelBox): fair to the model compared.
  const SINK_FRACTIONS = [0.05, 0.1, 0.2, 0.35, 0.5];
  const minJerk: Model = {
    segment: (from, to, k) => minimumDuration(from, to, params, { target: gates[k]!, previous: k > 0 ? gates[k - 1] : undefined }).durationS,
    state: (from, to, T, t) => {
      const axes = [0, 1, 2].map((i) => quintic({ p: from.p[i]!, v: from.v[i]!, a: from.a[i]! }, { p: to.p[i]!, v: to.v[i]!, a: to.a[i]! }, T));
      return { p: axes.map((c) => position(c, t)) as Vec3, v: axes.map((c) => velocity(c, t)) as Vec3, a: axes.map((c) => acceleration(c, t)) as Vec3 };
    },
  };
  const pointMassIn = (box: AccelBox): Model => ({
    segment: (from, to) => pointMassDuration(from, to, box),
    state: (from, to, T, t) => {
      const out = { p: [0, 0, 0] as Vec3, v: [0, 0, 0] as Vec3, a: [0, 0, 0] as Vec3 };
      for (let i = 0; i < 3; i++) {
        const { u, t1 } = axisProfile(from.p[i]!, from.v[i]!, to.p[i]!, to.v[i]!, T);
        const a = Math.min(t, t1);
        const b = Math.max(0, t - t1);
        const v1 = from.v[i]! + u * a;
        out.p[i] = from.p[i]! + from.v[i]! * a + (u * a * a) / 2 + v1 * b - (u * b * b) / 2;
        out.v[i] = v1 - u * b;
        out.a[i] = t < t1 ? u : -u;
      }
      return out;
    },
  });
  let best: { box: AccelBox; figures: PlannerFigures } | null = null;
  for (const f of SINK_FRACTIONS) {
    const box = accelBox(limits, f);
    const figures = run(pointMassIn(box));
    if (figures && (!best || figures.lapS < best.figures.lapS)) best = { box, figures };
  }
  return { track: track.name, gates: seq.length, box: best?.box ?? accelBox(limits), minJerk: run(minJerk), pointMass: best?.figures ?? null };

  function run(m: Model): PlannerFigures | null {
    const t0 = performance.now();
    const speeds = params.gateSpeedsMps;
    const at = (k: number, j: number): PlanStart3 => ({ p: gates[k]!.p_ned_m, v: gates[k]!.n_ned.map((c) => c * speeds[j]!) as Vec3, a: [0, 0, 0] });
    // cost[k][j]: fastest arrival at gate k with speed j; back[k][j]: the speed index at gate k−1 it came from;
    // dur[k][j]: that last segment's duration.
    const cost: number[][] = [];
    const back: number[][] = [];
    const dur: number[][] = [];
    for (let k = 0; k < gates.length; k++) {
      cost.push(speeds.map(() => Infinity));
      back.push(speeds.map(() => -1));
      dur.push(speeds.map(() => NaN));
      for (let j = 0; j < speeds.length; j++) {
        if (k === 0) {
          const T = m.segment(start, at(0, j), 0);
          if (T !== null) [cost[0]![j], dur[0]![j]] = [T, T];
          continue;
        }
        for (let i = 0; i < speeds.length; i++) {
          if (!Number.isFinite(cost[k - 1]![i]!)) continue;
          const T = m.segment(at(k - 1, i), at(k, j), k);
          if (T !== null && cost[k - 1]![i]! + T < cost[k]![j]!) [cost[k]![j], back[k]![j], dur[k]![j]] = [cost[k - 1]![i]! + T, i, T];
        }
      }
    }
    const last = cost.at(-1)!;
    let j = last.indexOf(Math.min(...last));
    if (!Number.isFinite(last[j]!)) return null;
    const searchMs = performance.now() - t0;
    const chosen: number[] = [];
    const durations: number[] = [];
    for (let k = gates.length - 1; k >= 0; k--) {
      chosen.unshift(j);
      durations.unshift(dur[k]![j]!);
      j = back[k]![j]!;
    }
    // Walk the chosen plan every 10 ms: path, speeds, and what it asks of the attitude.
    let pathM = 0;
    let maxSpeed = 0;
    let maxStep = 0;
    let maxTurn = 0;
    let prev: { p: Vec3; a: Vec3 } | null = null;
    let from = start;
    let lap = 0;
    for (let k = 0; k < gates.length; k++) {
      const to = at(k, chosen[k]!);
      const T = durations[k]!;
      lap += T;
      for (let t = 0; t < T; t += 0.01) {
        const st = m.state(from, to, T, t);
        maxSpeed = Math.max(maxSpeed, Math.hypot(...st.v));
        if (prev) {
          pathM += Math.hypot(st.p[0] - prev.p[0], st.p[1] - prev.p[1], st.p[2] - prev.p[2]);
          maxStep = Math.max(maxStep, Math.hypot(st.a[0] - prev.a[0], st.a[1] - prev.a[1], st.a[2] - prev.a[2]));
          maxTurn = Math.max(maxTurn, thrustAngle(prev.a, st.a));
        }
        prev = { p: st.p, a: st.a };
      }
      from = to;
    }
    const r2 = (v: number) => Math.round(v * 100) / 100;
    return {
      lapS: r2(lap), pathM: r2(pathM), meanSpeedMps: r2(pathM / lap), maxSpeedMps: r2(maxSpeed),
      gateSpeedsMps: chosen.map((i) => speeds[i]!), maxAccelStepMps2: r2(maxStep), maxThrustTurnDeg: r2(maxTurn), searchMs: r2(searchMs),
    };
  }
}

/** Angle between the thrust directions (a − g) of two accelerations (degrees). */
function thrustAngle(a: Vec3, b: Vec3): number {
  const fa: Vec3 = [a[0], a[1], a[2] - GRAVITY_MPS2];
  const fb: Vec3 = [b[0], b[1], b[2] - GRAVITY_MPS2];
  const c = (fa[0] * fb[0] + fa[1] * fb[1] + fa[2] * fb[2]) / (Math.hypot(...fa) * Math.hypot(...fb));
  return (Math.acos(Math.max(-1, Math.min(1, c))) * 180) / Math.PI;
}
