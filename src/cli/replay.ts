import { parseArgs } from 'node:util';
import { InputError, UsageError } from '../core/errors.js';
import { configWith, loadConfig } from '../core/config/load.js';
import { existsSync, writeFileSync } from 'node:fs';
import { replayLog, type ReplayResult } from '../recording/replay.js';
import { createReplayStages } from '../recording/replay-stages.js';
import { startRecording, type Recording } from '../recording/recorder.js';
import { collectReport, renderReport } from '../recording/replay-report.js';
import { replayCapture } from '../recording/capture-replay.js';
import { Progress } from './progress.js';
import { trackForLog } from '../recording/log-track.js';
import { logSummary } from '../recording/mcap-reader.js';
import '../recording/pipeline-replay-stages.js';

const USAGE = `usage: racepilot replay LOG [--from S] [--to S] [--speed X|max] [--config FILE] [--track FILE] [--model FILE] [--record OUT] [--report FILE.html] [--json]

Feeds a log's recorded inputs (flight-controller bytes; frames as perception arrives) through the same core pipeline
on the log's clock and compares what it produces with what was recorded: fc/status, fc/vehicle_state, and with the
race track known, the gate map, race events, trajectories and setpoints.
Prints the first divergences and a summary; exits 1 when the replay diverges. A .tlog or raw MAVLink capture
replays as flight-controller input and prints what the state tracking made of it.

  --from S       compare from S seconds into the log (earlier inputs still build up state)
  --to S         stop S seconds into the log
  --speed X|max  real-time factor (1 = as recorded), or max (default)
  --config FILE  configuration to replay with (default: built-in defaults)
  --track FILE   the race track the log was flown on (default: config/tracks/<the log's track name>.json)
  --model FILE   the detector to replay perception with (when a perception replay stage is registered)
  --record OUT   record the new run to OUT (an .mcap path; the recorder adds -000 per part)
  --report FILE  write a self-contained HTML page: flown path over the track, speed, detections/s, latency
  --json         one JSON object on stdout
  -h, --help     this text
`;

export async function run(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        from: { type: 'string' },
        to: { type: 'string' },
        speed: { type: 'string', default: 'max' },
        config: { type: 'string' },
        model: { type: 'string' },
        track: { type: 'string' },
        record: { type: 'string' },
        report: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n\n${USAGE}`);
  }
  const v = parsed.values;
  if (v.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (parsed.positionals.length !== 1) throw new UsageError(`expected one LOG, got ${parsed.positionals.length}\n\n${USAGE}`);
  const file = parsed.positionals[0]!;
  const seconds = (name: string, s: string | undefined) => {
    if (s === undefined) return undefined;
    const n = Number(s);
    if (!Number.isFinite(n) || n < 0) throw new UsageError(`--${name} must be a number of seconds ≥ 0, not "${s}"`);
    return n;
  };
  const fromS = seconds('from', v.from);
  const toS = seconds('to', v.to);
  const speed = v.speed === 'max' ? 'max' : Number(v.speed);
  if (speed !== 'max' && !(speed > 0)) throw new UsageError(`--speed must be a positive factor or "max", not "${v.speed}"`);
  const config = v.config ? loadConfig(v.config) : configWith({});
  if (v.model && !existsSync(v.model)) throw new InputError('model file not found (--model)', v.model);
  const capture = /\.(tlog|bin|raw)$/i.test(file);
  const meta = capture ? null : (await logSummary(file)).meta;
  const track = capture ? null : await trackForLog(file, v.track ?? null, meta);
  const stages = await createReplayStages({ config, modelPath: v.model ?? null, track, meta, logName: file });

  if (capture) {
    const r = replayCapture(file, { stages });
    const statuses = (r.produced['fc/status'] ?? []) as { mode: string; armed: boolean; linkUp: boolean; autopilot: string }[];
    const out = {
      file,
      packets: r.packets,
      spanS: r.spanS,
      produced: Object.fromEntries(Object.entries(r.produced).map(([t, m]) => [t, m.length])),
      modes: [...new Set(statuses.map((s) => s.mode))],
      autopilot: statuses.at(-1)?.autopilot ?? null,
      events: ((r.produced['fc/event'] ?? []) as { message: string }[]).slice(0, 20).map((e) => e.message),
    };
    process.stdout.write(v.json ? `${JSON.stringify(out)}\n` : `${JSON.stringify(out, null, 2)}\n`);
    return 0;
  }

  const progress = new Progress(100, 'replay');
  let shown = 0;
  let recording: Recording | null = null;
  const result = await replayLog(file, {
    stages,
    onBus: v.record
      ? (bus, clock) => {
          recording = startRecording(bus, clock, { ...config.recording, enabled: true }, { basePath: v.record!.replace(/\.mcap$/i, ''), metadata: { replayOf: file } });
        }
      : undefined,
    ...(fromS !== undefined ? { fromS } : {}),
    ...(toS !== undefined ? { toS } : {}),
    speed,
    onProgress: (f) => {
      const pct = Math.floor(f * 100);
      if (pct > shown) progress.tick(pct - shown);
      shown = Math.max(shown, pct);
    },
  });
  if (shown < 100) progress.tick(100 - shown);
  const recorded = recording ? await (recording as Recording).stop() : null;
  if (v.report) writeFileSync(v.report, renderReport(await collectReport(file)));
  const out = { ...result, stages: stages.map((s) => s.name), recorded: recorded?.files ?? null, report: v.report ?? null };
  process.stdout.write(v.json ? `${JSON.stringify(out)}\n` : formatReplay(result) + (recorded ? `  new run recorded to ${recorded.files.join(', ')}\n` : '') + (v.report ? `  report: ${v.report}\n` : ''));
  return result.ok ? 0 : 1;
}

export function formatReplay(r: ReplayResult): string {
  const lines = [`${r.file}: ${r.ok ? 'REPRODUCED' : 'DIVERGED'}`, `  log ${r.ending.kind}, ${r.inputsFed} inputs fed, ${r.spanS.toFixed(2)} s of log in ${r.wallS.toFixed(2)} s (${(r.spanS / Math.max(1e-6, r.wallS)).toFixed(1)}× real time; ${(r.spanS / Math.max(1e-6, r.wallS + r.openS)).toFixed(1)}× with the ${r.openS.toFixed(2)} s it took to open)`];
  for (const [topic, c] of Object.entries(r.topics)) lines.push(`  ${topic}: ${c.matched}/${c.recorded} matched, ${c.diverged} diverged, ${c.produced} produced`);
  if (r.divergences.length) {
    lines.push('  first divergences:');
    for (const d of r.divergences) {
      lines.push(`    ${d.topic} #${d.index}${d.tUs !== null ? ` at ${(d.tUs / 1e6).toFixed(3)} s` : ''}: ${d.path} expected ${JSON.stringify(d.expected)}, got ${JSON.stringify(d.actual)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
