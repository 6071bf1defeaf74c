import { InputError } from '../core/errors.js';
import type { Vec3 } from '../core/messages.js';
import { exitTurn } from './gate-sequence.js';
import type { VehicleLimits } from './limits.js';
import { boundsOfHall, defaultPlannerParams, type PlanGate } from './planner.js';
import { defaultReplanParams, Replanner } from './replanner.js';
import { gateNormal, type Track } from './track.js';
import { sampleTrajectory } from './trajectory.js';

export interface IdealLap {
  lapS: number;
  pathM: number;
  meanSpeedMps: number;
  /** The reference path, sampled every stepUs: for the picture's planned path. */
  samples: { tUs: number; p_ned_m: Vec3; speedMps: number }[];
  /** Wall time of each planning call (ms). */
  planMs: number[];
  /** CPU time of each planning call (ms): on a shared machine the wall time's tail is mostly other processes. */
  planCpuMs: number[];
}

/**
 * Flies the whole race on paper: the race's replanning policy stepped along the reference it produces, with perfect
 * tracking and the gates where the track says. Returns null with the gate that no trajectory reaches within the
 * limits: the check before take-off, and the planning benchmark's workload.
 */
export function idealLap(track: Track, limits: VehicleLimits, opts: { lookahead?: number; periodUs?: number; stepUs?: number; takeoffAltitudeM?: number } = {}): IdealLap | { failedGate: number } {
  const lookahead = opts.lookahead ?? 2;
  const stepUs = opts.stepUs ?? 20_000;
  const replanner = new Replanner({ ...defaultPlannerParams(limits), bounds: boundsOfHall(track.hall) }, { ...defaultReplanParams, periodUs: opts.periodUs ?? defaultReplanParams.periodUs });
  const start = track.start.p_ned_m;
  let state = { tUs: 0, p_ned_m: [start[0], start[1], start[2] - (opts.takeoffAltitudeM ?? 1.5)] as Vec3, v_ned_mps: [0, 0, 0] as Vec3, a_ned_mps2: [0, 0, 0] as Vec3 };
  const n = track.gates.length;
  const total = n * track.laps;
  const samples: IdealLap['samples'] = [{ tUs: 0, p_ned_m: state.p_ned_m, speedMps: 0 }];
  const planMs: number[] = [];
  const planCpuMs: number[] = [];
  let path = 0;
  for (let passed = 0; passed < total; ) {
    const gates: PlanGate[] = [];
    for (let i = passed; i < Math.min(total, passed + lookahead); i++) {
      const g = track.gates[i % n]!;
      gates.push({ index: i % n, p_ned_m: g.p_ned_m, n_ned: gateNormal(g) });
    }
    const last = passed + gates.length - 1;
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const prevGate = passed > 0 ? track.gates[(passed - 1) % n]! : null;
    const justPassed = prevGate ? { index: (passed - 1) % n, p_ned_m: prevGate.p_ned_m, n_ned: gateNormal(prevGate) } : undefined;
    const out = replanner.update(state.tUs, state, gates, last === total - 1 ? 0 : exitTurn(track, last % n, Math.floor(last / n)), justPassed);
    if (out.planned) {
      const cpu = process.cpuUsage(cpu0);
      planMs.push(performance.now() - t0);
      planCpuMs.push((cpu.user + cpu.system) / 1000);
    }
    if (!out.plan) return { failedGate: passed % n };
    const seg = out.plan.trajectory.segments[0]!;
    const segEnd = seg.t0Us + Math.round(seg.durationS * 1e6);
    const next = Math.min(segEnd, state.tUs + stepUs);
    const s = sampleTrajectory(out.plan.trajectory, next === segEnd ? next - 1 : next)!;
    path += Math.hypot(s.p_ned_m[0] - state.p_ned_m[0], s.p_ned_m[1] - state.p_ned_m[1], s.p_ned_m[2] - state.p_ned_m[2]);
    state = { tUs: next, p_ned_m: s.p_ned_m, v_ned_mps: s.v_ned_mps, a_ned_mps2: s.a_ned_mps2 };
    samples.push({ tUs: next, p_ned_m: s.p_ned_m, speedMps: Math.hypot(...s.v_ned_mps) });
    if (next === segEnd) passed++;
  }
  const lapS = state.tUs / 1e6;
  return { lapS, pathM: path, meanSpeedMps: path / lapS, samples, planMs, planCpuMs };
}

/** The check before take-off: a track the vehicle cannot fly within its limits is refused, saying where and why. */
export function assertTrackFlyable(track: Track, limits: VehicleLimits, source: string): IdealLap {
  const lap = idealLap(track, limits);
  if ('failedGate' in lap) {
    const g = track.gates[lap.failedGate]!;
    throw new InputError(
      `track "${track.name}" cannot be flown within the vehicle's limits (thrust-to-weight ${limits.thrustToWeight}, ${Math.round(limits.thrustMargin * 100)}% of it usable, tilt ≤ ${limits.maxTiltDeg}°, speed ≤ ${limits.maxSpeedMps} m/s): no trajectory reaches gate ${lap.failedGate + 1} ("${g.id}") along its direction; refusing to take off`,
      source,
    );
  }
  return lap;
}
