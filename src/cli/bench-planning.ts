import { fileURLToPath } from 'node:url';
import { rounded, summarize, type Summary } from '../core/stats.js';
import { defaultLimits } from '../planning/limits.js';
import { idealLap } from '../planning/feasibility.js';
import { loadTrack } from '../planning/track.js';

export interface PlanningBenchResult {
  track: string;
  plans: number;
  lookaheadGates: number;
  /** Wall time of one planning call (ms). */
  planMs: Summary;
  /** CPU time of one planning call (ms): what the planner costs, without the other processes of a shared machine. */
  planCpuMs: Summary;
  /** Flight time of the lap the replanning produced, ideal tracking (s), and its mean speed (m/s). */
  idealLapS: number;
  idealMeanSpeedMps: number;
}

const defaultTrack = fileURLToPath(new URL('../../../config/tracks/alphapilot-hall.json', import.meta.url));

/**
 * Replans as the race does (the Replanner's policy, stepped every 20 ms along the course from the state the plan
 * reaches: idealLap), and times each planning call. The vehicle follows the plan perfectly here: this measures the planner, not the flying.
 */
export function benchPlanning(opts: { trackFile?: string; lookahead?: number; replanPeriodMs?: number } = {}): PlanningBenchResult {
  const track = loadTrack(opts.trackFile ?? defaultTrack);
  const lookahead = opts.lookahead ?? 2;
  // One lap first, untimed: the JIT's first compilations are not what the race sees lap after lap.
  idealLap(track, defaultLimits, { lookahead });
  const lap = idealLap(track, defaultLimits, { lookahead, periodUs: (opts.replanPeriodMs ?? 20) * 1000 });
  if ('failedGate' in lap) throw new Error(`no feasible plan to gate ${lap.failedGate + 1} of ${track.name}`);
  return {
    track: track.name,
    plans: lap.planMs.length,
    lookaheadGates: lookahead,
    planMs: rounded(summarize(lap.planMs)),
    planCpuMs: rounded(summarize(lap.planCpuMs)),
    idealLapS: Math.round(lap.lapS * 100) / 100,
    idealMeanSpeedMps: Math.round(lap.meanSpeedMps * 100) / 100,
  };
}
