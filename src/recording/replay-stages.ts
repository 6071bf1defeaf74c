import type { Config } from '../core/config/schema.js';
import type { Track } from '../planning/track.js';
import { fcStateStage } from './fc-replay-stage.js';
import type { ReplayStage } from './replay.js';

/**
 * The stages `racepilot replay` runs, by name. A stage plugs in by topic: it says which recorded topics it consumes
 * (`inputs`) and which it produces (`outputs`, compared with what the log holds), and attaches to the replay's bus
 * and log clock exactly as its live wrapper attaches to the daemon's (see ReplayStage in replay.ts).
 *
 * To add a stage (perception, estimation, planning, ...), in the stage's own module or a `*-replay-stage.ts` beside
 * it, call once at import:
 *
 *   registerReplayStage({ name: 'planning', order: 40, create: ({ config }) => planningReplayStage(config) });
 *
 * and import that module once from src/cli/replay.ts (a side-effect import). `create` returns null when the stage cannot run for this log
 * or configuration (e.g. perception without a model): replay then compares only what the other stages produce,
 * and says which stages ran. `order` sorts stages along the dataflow (camera 10, perception 20, estimation 30,
 * planning 40, flight 50) so that a stage's inputs are produced before it runs in the same log instant.
 */
export interface ReplayStageContext {
  config: Config;
  /** `--model FILE`: the detector to replay perception with, instead of the configured one. */
  modelPath: string | null;
  /** The race track the log was flown on (`--track`, or found from the log's metadata); null when unknown. */
  track?: Track | null;
  /** The log's racepilot metadata (what the flight ran with), null for a capture or a foreign file. */
  meta?: Record<string, string> | null;
  /** The log, for messages. */
  logName?: string;
}

export interface ReplayStageEntry {
  name: string;
  order: number;
  create(ctx: ReplayStageContext): ReplayStage | null | Promise<ReplayStage | null>;
}

const registry = new Map<string, ReplayStageEntry>();

export function registerReplayStage(entry: ReplayStageEntry): void {
  registry.set(entry.name, entry);
}

registerReplayStage({ name: 'fc-state', order: 50, create: ({ config }) => fcStateStage(config.flight) });

/** The registered stages that can run, in dataflow order; `only` picks some by name. */
export async function createReplayStages(ctx: ReplayStageContext, only?: string[]): Promise<ReplayStage[]> {
  const entries = [...registry.values()].sort((a, b) => a.order - b.order).filter((e) => !only || only.includes(e.name));
  const stages: ReplayStage[] = [];
  for (const e of entries) {
    const s = await e.create(ctx);
    if (s) stages.push(s);
  }
  return stages;
}

export function replayStageNames(): string[] {
  return [...registry.keys()];
}
