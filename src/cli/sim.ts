import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TopicBus } from '../core/bus.js';
import { ManualClock } from '../core/clock.js';
import { configWith, loadConfig } from '../core/config/load.js';
import { UsageError } from '../core/errors.js';
import type { Topics } from '../core/messages.js';
import { loadTrack } from '../planning/track.js';
import { flightPicture } from '../sim/flight-picture.js';
import { runRaceSim, type RaceSummary } from '../sim/race-sim.js';
import { parseCommandArgs } from './args.js';
import { estimationParamsFor } from './pipeline.js';
import { ESTIMATION_METADATA_KEY, estimationMetadata } from '../estimation/estimation-params.js';

const DEFAULT_TRACK = fileURLToPath(new URL('../../../config/tracks/alphapilot-hall.json', import.meta.url));
const DEFAULT_MODEL = fileURLToPath(new URL('../../../models/gate-detector.onnx', import.meta.url));

const USAGE = `usage: racepilot sim [--track FILE] [--seed N] [--realtime] [--json] [--record OUT.mcap] [--picture OUT.png]
                     [--no-drift] [--perception detector|truth] [--config FILE] [--model FILE.onnx] [--render-workers N]

Flies the whole race in simulated time: the simulated PX4 (odometry with noise and, unless --no-drift, drift) over
an in-process MAVLink link, the daemon's flight link, perception, the gate map with drift estimation, race logic and
the planner. Prints progress while it flies and a summary at the end (--json: the summary as one JSON object).

  --track FILE       race track JSON (default: config/tracks/alphapilot-hall.json)
  --seed N           seed of the gate placement, sensor noise and drift (default 1)
  --realtime         pace the simulation to the wall clock (default: as fast as it computes)
  --perception KIND  detector: rendered cameras and the gate detector in the loop (default): at 30 Hz the rigs that
                     could see a gate are rendered at 320×240 from the true pose, and the daemon's perception stage
                     runs on them (simulated latency 25 ms; the clock waits for each result);
                     truth: gate sightings from the true geometry with noise, field of view and outliers
  --config FILE      configuration whose camera rigs and perception section are used (default: built-in)
  --model FILE.onnx  gate detector (default: models/gate-detector.onnx of this checkout)
  --render-workers N render worker threads (default: one per core)
  --record OUT.mcap  record every topic (files OUT-000.mcap, ...)
  --picture OUT.png  top and side views of the track with the planned and flown paths, coloured by speed
  --no-drift         odometry without drift
  --telemetry HOST:PORT  serve live telemetry (racepilot tail ws://HOST:PORT) while it flies; PORT 0 picks one,
                     the URL is printed on stderr; loopback only (use with --realtime to watch at flying speed)
Exit status: 0 when every gate was passed without a crash, 1 otherwise.
`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    argv,
    {
        track: { type: 'string' },
        seed: { type: 'string', default: '1' },
        realtime: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        record: { type: 'string' },
        picture: { type: 'string' },
        'no-drift': { type: 'boolean', default: false },
        perception: { type: 'string', default: 'detector' },
        config: { type: 'string' },
        model: { type: 'string' },
        'render-workers': { type: 'string' },
        telemetry: { type: 'string' },
    },
    USAGE,
  );
  if (!parsed) return 0;
  const { values } = parsed;
  const seed = Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0) throw new UsageError(`--seed must be a non-negative integer, got "${values.seed}"`);
  const perception = values.perception;
  if (perception !== 'detector' && perception !== 'truth') throw new UsageError(`--perception must be detector or truth, got "${perception}"`);
  const renderWorkers = values['render-workers'] === undefined ? undefined : Number(values['render-workers']);
  if (renderWorkers !== undefined && !(Number.isInteger(renderWorkers) && renderWorkers >= 1)) throw new UsageError(`--render-workers must be a positive integer, got "${values['render-workers']}"`);
  const base = values.config ? loadConfig(values.config) : configWith({});
  // The checkout's model unless the configuration file or --model names another.
  const model = values.model ?? (values.config ? base.perception.model : DEFAULT_MODEL);
  const config = { ...base, perception: { ...base.perception, model } };
  const trackFile = values.track ?? DEFAULT_TRACK;
  const track = loadTrack(trackFile);
  const live = !values.json;
  const say = (line: string) => {
    if (live) process.stdout.write(`${line}\n`);
  };
  const bus = new TopicBus<Topics>();
  let recording: { stop(): Promise<unknown>; files: string[] } | null = null;
  if (values.record) {
    const { startRecording } = await import('../recording/recorder.js');
    // The recorder stamps messages with their own tUs; its clock only names the file, so a fresh sim clock serves.
    recording = startRecording(bus, new ManualClock('sim'), configWith({ recording: { enabled: true } }).recording, {
      basePath: values.record.replace(/\.mcap$/, ''),
      metadata: { mode: 'sim', track: track.name, seed: String(seed), perception, [ESTIMATION_METADATA_KEY]: estimationMetadata(estimationParamsFor(perception)) },
      track,
    });
  }
  const telemetry = values.telemetry ? await startSimTelemetry(bus, values.telemetry) : null;
  say(`sim: ${track.name} (${track.gates.length} gates × ${track.laps} laps), seed ${seed}, perception ${perception}${perception === 'detector' ? ` (${model})` : ''}, drift ${values['no-drift'] ? 'off' : 'on'}`);
  let result;
  try {
    result = await runRaceSim({
      track, trackSource: trackFile, seed, drift: !values['no-drift'], perception, realtime: values.realtime, onProgress: say, bus, config,
      ...(renderWorkers !== undefined ? { renderWorkers } : {}),
    });
  } finally {
    await telemetry?.close();
    if (recording) {
      await recording.stop();
      say(`recorded: ${recording.files.join(', ')}`);
    }
  }
  if (values.picture) {
    writeFileSync(values.picture, flightPicture(result));
    say(`picture: ${values.picture}`);
  }
  const s = result.summary;
  if (values.json) process.stdout.write(`${JSON.stringify(s)}\n`);
  else process.stdout.write(formatSummary(s));
  return s.gatesPassed === s.gatesTotal && !s.crashed ? 0 : 1;
}

/**
 * The daemon's telemetry server on the simulation's bus, so `racepilot tail` can watch a simulated race as it would
 * a real one. Its status timer runs on the wall clock: the people watching live in real time.
 */
async function startSimTelemetry(bus: TopicBus<Topics>, where: string) {
  const m = /^([^:]+):(\d+)$/.exec(where);
  if (!m) throw new UsageError(`--telemetry: expected HOST:PORT, got "${where}"`);
  const { TelemetryServer } = await import('../telemetry/server.js');
  const { telemetrySchema } = await import('../core/config/telemetry.js');
  const { WallClock } = await import('../core/clock.js');
  const { silentLogger } = await import('../core/logger.js');
  const parsed = telemetrySchema.safeParse({ host: m[1], port: Number(m[2]), tegrastats: false });
  if (!parsed.success) throw new UsageError(`--telemetry: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const server = new TelemetryServer({ bus, clock: new WallClock(), config: parsed.data, log: silentLogger() });
  const { url } = await server.start();
  process.stderr.write(`telemetry: ${url}\n`);
  return server;
}

export function formatSummary(s: RaceSummary): string {
  const f = (x: number | null, unit: string, d = 2) => (x === null ? '-' : `${x.toFixed(d)} ${unit}`);
  return [
    '',
    `gates passed     ${s.gatesPassed} of ${s.gatesTotal}`,
    `lap time         ${f(s.lapTimeS, 's')} (ideal tracking: ${s.idealLapS.toFixed(2)} s)`,
    `speed            mean ${f(s.meanSpeedMps, 'm/s')}, top ${f(s.maxSpeedMps, 'm/s')}`,
    `closest pass     ${f(s.closestPassM, 'm from a frame', 3)}`,
    `tracking error   max ${f(s.trackingErrorMaxM, 'm')}; gate estimate error max ${f(s.gateErrorMaxM, 'm')}`,
    `drift            ${f(s.driftM, 'm')} at the end, estimated within ${f(s.driftErrorM, 'm')} (${s.gateMapAccepted} sightings fused, ${s.gateMapRejected} rejected)`,
    `perception       ${detectorLine(s)}`,
    `crashed          ${s.crashed ? 'YES' : 'no'}`,
    `end              ${s.endReason}`,
    `time             ${s.simTimeS.toFixed(1)} s simulated in ${s.wallTimeS.toFixed(1)} s; planning p99 ${s.planMsP99} ms`,
    '',
  ].join('\n');
}

function detectorLine(s: RaceSummary): string {
  const d = s.detector;
  if (!d) return 'truth (sightings from the true geometry, not the detector)';
  const n = Math.max(1, d.framesets);
  return [
    `detector ${d.model} on ${d.provider}, ${d.renderWidth}×${d.renderHeight} rendered:`,
    `${d.framesets} framesets, ${(d.gates / n).toFixed(2)} gates per frameset (${d.framesetsWithGate} with a gate), ${d.rejectedDetections} detections rejected by geometry;`,
    `${d.gatesWithin1m} of ${d.gates} reported gates within 1 m of a real one (median error ${d.medianErrorM ?? '-'} m);`,
    `${d.rigsRendered} rigs rendered, ${d.rigsSkipped} skipped (no gate could be in view); wall ${(d.renderMs / 1000).toFixed(1)} s rendering, ${(d.perceptionMs / 1000).toFixed(1)} s perception`,
  ].join('\n                 ');
}
