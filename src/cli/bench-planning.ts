import { fileURLToPath } from 'node:url';
import { rounded, summarize, type Summary } from '../core/stats.js';
import { defaultLimits } from '../planning/limits.js';
import { comparePlanners, type PlannerComparison } from '../planning/compare-planners.js';
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
  /** Minimum-jerk against the time-optimal point mass, the whole race planned at once under the same rules. */
  comparison: PlannerComparison;
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
    comparison: comparePlanners(track, defaultLimits),
  };
}

const BENCH_PLANNING_USAGE = `usage: racepilot bench planning [--track FILE] [--lookahead N] [--replan-ms MS] [--json]

Replans along the course as the race does and reports the time per planning call (wall and CPU: p50, p90, p99,
max) and the lap the plans give with ideal tracking. Target: planning p99 under 5 ms.

Then compares the race's minimum-jerk planner with the time-optimal point mass (UZH's AlphaPilot model): the whole
race planned at once from a hover, every gate crossed square-on at a speed from the same grid chosen by dynamic
programming; lap time, speeds, and the largest change of thrust direction in 10 ms that each plan asks for.
`;

/** `racepilot bench planning`. */
export async function run(argv: string[]): Promise<number> {
  const { parseCommandArgs } = await import('./args.js');
  const parsed = parseCommandArgs(
    argv,
    { track: { type: 'string' }, lookahead: { type: 'string', default: '2' }, 'replan-ms': { type: 'string', default: '20' }, json: { type: 'boolean', default: false } },
    BENCH_PLANNING_USAGE,
  );
  if (!parsed) return 0;
  const { values } = parsed;
  const r = benchPlanning({
    ...(values.track ? { trackFile: values.track } : {}),
    lookahead: Number(values.lookahead),
    replanPeriodMs: Number(values['replan-ms']),
  });
  if (values.json) process.stdout.write(`${JSON.stringify(r)}\n`);
  else {
    const w = r.planMs;
    const c = r.planCpuMs;
    process.stdout.write(
      `bench planning: ${r.plans} plans on ${r.track}, ${r.lookaheadGates} gates ahead\n` +
        `  wall ms: p50 ${w.p50}, p90 ${w.p90}, p99 ${w.p99}, max ${w.max}\n` +
        `  cpu ms:  p50 ${c.p50}, p90 ${c.p90}, p99 ${c.p99}, max ${c.max}\n` +
        `  ideal lap ${r.idealLapS} s, mean speed ${r.idealMeanSpeedMps} m/s; target p99 < 5 ms: ${w.p99 < 5 ? 'met' : 'NOT met'}\n` +
        comparisonText(r.comparison),
    );
  }
  return 0;
}

function comparisonText(c: PlannerComparison): string {
  const row = (name: string, f: PlannerComparison['minJerk']) =>
    f
      ? `  ${name.padEnd(11)} lap ${f.lapS.toFixed(2)} s, mean ${f.meanSpeedMps.toFixed(2)} m/s, top ${f.maxSpeedMps.toFixed(2)} m/s, thrust turns up to ${f.maxThrustTurnDeg.toFixed(0)}° in 10 ms, search ${f.searchMs.toFixed(0)} ms\n`
      : `  ${name.padEnd(11)} no plan through every gate\n`;
  const b = c.box;
  return (
    `planner comparison, whole race planned at once (${c.gates} gates):\n` +
    row('min-jerk', c.minJerk) +
    row('point mass', c.pointMass) +
    `  (point-mass acceleration box: ±${b.h.toFixed(2)} m/s² horizontal, ${b.up.toFixed(2)} up, ${b.down.toFixed(2)} down; no speed limit or drag: a lower bound for its model)\n`
  );
}
