import { fileURLToPath } from 'node:url';
import type { Vec3 } from '../core/messages.js';
import { rounded, summarize, type Summary } from '../core/stats.js';
import { defaultLimits } from '../planning/limits.js';
import { defaultPlannerParams, planThroughGates, type PlanGate } from '../planning/planner.js';
import { gateNormal, loadTrack } from '../planning/track.js';
import { sampleTrajectory } from '../planning/trajectory.js';

export interface PlanningBenchResult {
  track: string;
  plans: number;
  lookaheadGates: number;
  /** Wall time of one planning call (ms). */
  planMs: Summary;
  /** Flight time of the lap the replanning produced, ideal tracking (s), and its mean speed (m/s). */
  idealLapS: number;
  idealMeanSpeedMps: number;
}

const defaultTrack = fileURLToPath(new URL('../../../config/tracks/alphapilot-hall.json', import.meta.url));

/**
 * Replans as the race does, every 20 ms along the course (from the state the previous plan reaches), and times each
 * call. The vehicle follows the plan perfectly here: this measures the planner, not the flying.
 */
export function benchPlanning(opts: { trackFile?: string; lookahead?: number; replanPeriodMs?: number } = {}): PlanningBenchResult {
  const track = loadTrack(opts.trackFile ?? defaultTrack);
  const lookahead = opts.lookahead ?? 2;
  const period = (opts.replanPeriodMs ?? 20) * 1000;
  const params = defaultPlannerParams(defaultLimits);
  const times: number[] = [];
  let state = { tUs: 0, p_ned_m: [...track.start.p_ned_m] as Vec3, v_ned_mps: [0, 0, 0] as Vec3, a_ned_mps2: [0, 0, 0] as Vec3 };
  state.p_ned_m[2] -= 1.5;
  let path = 0;
  let plan: ReturnType<typeof planThroughGates> = null;
  for (let gate = 0; gate < track.gates.length; ) {
    const gates: PlanGate[] = track.gates.slice(gate, gate + lookahead).map((g, k) => ({ index: gate + k, p_ned_m: g.p_ned_m, n_ned: gateNormal(g) }));
    // In the last moments before a gate the plan is committed: the race replans only with time left to change it.
    const committed = plan !== null && plan.trajectory.segments[0]!.gateIndex === gate && endOfFirst(plan) - state.tUs < 250_000;
    if (!committed) {
      const t0 = performance.now();
      plan = planThroughGates(state, gates, params);
      times.push(performance.now() - t0);
      if (!plan) throw new Error(`no feasible plan from gate ${gate} at ${state.p_ned_m.map((v) => v.toFixed(2))}`);
    }
    const seg = plan!.trajectory.segments[0]!;
    const segEnd = seg.t0Us + Math.round(seg.durationS * 1e6);
    const next = Math.min(segEnd, state.tUs + period);
    const s = sampleTrajectory(plan!.trajectory, next === segEnd ? next - 1 : next)!;
    path += Math.hypot(s.p_ned_m[0] - state.p_ned_m[0], s.p_ned_m[1] - state.p_ned_m[1], s.p_ned_m[2] - state.p_ned_m[2]);
    state = { tUs: next, p_ned_m: s.p_ned_m, v_ned_mps: s.v_ned_mps, a_ned_mps2: s.a_ned_mps2 };
    if (next === segEnd) {
      gate++;
      plan = null;
    }
  }
  return {
    track: track.name,
    plans: times.length,
    lookaheadGates: lookahead,
    planMs: rounded(summarize(times)),
    idealLapS: Math.round(state.tUs / 1e4) / 100,
    idealMeanSpeedMps: Math.round((path / (state.tUs / 1e6)) * 100) / 100,
  };
}

function endOfFirst(plan: NonNullable<ReturnType<typeof planThroughGates>>): number {
  const seg = plan.trajectory.segments[0]!;
  return seg.t0Us + Math.round(seg.durationS * 1e6);
}
