import { TopicBus } from '../core/bus.js';
import { WallClock } from '../core/clock.js';
import { loadConfig } from '../core/config/load.js';
import type { Config } from '../core/config/schema.js';
import { LinkError, UsageError } from '../core/errors.js';
import { createLogger, flushLogger, type Logger } from '../core/logger.js';
import type { Topics } from '../core/messages.js';
import { FlightLink } from '../flight/flight-link.js';
import { createFlightTransport } from '../flight/transport/create.js';
import { readyAfterSelfTests } from '../core/sd-notify.js';
import { parseCommandArgs } from './args.js';
import { estimationParamsFor, startRace } from './pipeline.js';
import { ESTIMATION_METADATA_KEY, estimationMetadata } from '../estimation/estimation-params.js';
import { loadTrack } from '../planning/track.js';
import type { Recording } from '../recording/recorder.js';
import { LogTap, startDaemonServices, type DaemonServices } from './daemon-services.js';

const USAGE = `usage: racepilot run --config FILE [--start] [--link-timeout S]

The daemon: connects to the flight controller named in the configuration (flight.transport) and reports its state.
With --start, and only if the configuration has flight.allowOffboard (and flight.allowArm to arm by itself), it
takes control in OFFBOARD (PX4) or GUIDED (ArduPilot) and streams setpoints. SIGINT/SIGTERM: land what it controls,
stop streaming, exit. With race.track set it races that track: race.cameras "live" (the default) runs the camera
rigs' GStreamer pipelines into the gate detector; "rendered" renders the rigs from the reported odometry (PX4 SITL).

  --config FILE      configuration (JSON), e.g. config/racepilot.json
  --start            the start signal (otherwise: monitor only)
  --link-timeout S   give up when no autopilot heartbeat arrives within S seconds (default 10)
  --help             this text
`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    argv,
    { config: { type: 'string' }, start: { type: 'boolean', default: false }, 'link-timeout': { type: 'string', default: '10' } },
    USAGE,
  );
  if (!parsed) return 0;
  const { values } = parsed;
  if (!values.config) throw new UsageError(`--config FILE is required\n\n${USAGE}`);
  const linkTimeoutS = Number(values['link-timeout']);
  if (!(linkTimeoutS > 0)) throw new UsageError(`--link-timeout: expected a positive number of seconds, got "${values['link-timeout']}"`);

  const config = loadConfig(values.config); // ConfigError (exit 78) names the file and field
  const logTap = new LogTap();
  const log = createLogger({ level: config.log.level, format: config.log.format, tee: logTap });
  const clock = new WallClock();
  const bus = new TopicBus<Topics>();
  const transport = createFlightTransport(config.flight);
  const link = new FlightLink({ transport, clock, bus, config: config.flight, log });
  const f = config.flight;

  const monitorOnly = !values.start || !f.allowOffboard;
  log.info(
    { transport: transport.name, allowArm: f.allowArm, allowOffboard: f.allowOffboard, start: values.start },
    monitorOnly
      ? `monitoring only: ${!values.start ? 'no --start given' : 'flight.allowOffboard is false'}`
      : `will take control on link-up${f.allowArm ? ' and arm' : ' (the pilot must arm: flight.allowArm is false)'}`,
  );
  bus.subscribe('fc/status', (s) =>
    log.info({ mode: s.mode, armed: s.armed, linkUp: s.linkUp, autopilot: s.autopilot, batteryV: s.batteryV }, 'flight controller status'),
  );

  let services: DaemonServices;
  let race: Awaited<ReturnType<typeof startRace>> = null;
  // Recording starts before the link, so the log holds the autopilot's first bytes too.
  const recording = config.recording.enabled ? await startDaemonRecording(config, values.config, bus, clock, log) : null;
  try {
    await link.start();
    services = await startDaemonServices({ config, bus, clock, log, logTap, link, transport });
    // With a track configured (race.track), the race pipeline plans and flies; without one the daemon only links.
    race = await startRace({ config, bus, clock, log, link });
  } catch (err) {
    await link.close().catch(() => undefined);
    await stopRecording(recording, log);
    flushLogger(log);
    throw err;
  }
  // READY only once the self-tests pass; a restarted daemon never takes control by itself (no --start in the unit).
  const selfTests = readyAfterSelfTests(services.notifier, [
    { name: 'flight-controller link', run: () => waitForHeartbeat(link, clock, linkTimeoutS) },
  ]).then((r) => {
    if (r.ok) log.info('self-tests passed: ready');
    else log.error({ failed: r.failed }, 'self-tests failed: not ready');
  });
  if (values.start) {
    link.requestStart();
    race?.start();
  }

  const timers: { cancel(): void }[] = [];
  const signalHandlers: [NodeJS.Signals, () => void][] = [];
  const outcome = await new Promise<{ code: number; why: string; error?: LinkError }>((resolve) => {
    for (const sig of ['SIGINT', 'SIGTERM'] as const) {
      const h = () => resolve({ code: 0, why: `${sig} received` });
      signalHandlers.push([sig, h]);
      process.once(sig, h);
    }
    timers.push(
      clock.after(linkTimeoutS * 1e6, () => {
        if (link.status.lastHeartbeatUs === null) {
          resolve({ code: 69, why: 'no link', error: new LinkError(noLinkReason(link, linkTimeoutS), transport.name) });
        }
      }),
    );
    timers.push(
      clock.every(100_000, () => {
        if (link.controlState === 'failed') {
          resolve({ code: 1, why: 'control failed', error: new LinkError('cannot go on: the control failed (see the events above)', transport.name) });
        }
      }),
    );
  });
  for (const t of timers) t.cancel();
  for (const [sig, h] of signalHandlers) process.off(sig, h);

  await Promise.race([selfTests, Promise.resolve()]);
  await race?.close();
  const final = await shutdown(link, log, outcome.why);
  await services.close(`stopped: ${outcome.why}`);
  // Last: the landing and the link's last words are in the log.
  await stopRecording(recording, log);
  if (outcome.error) {
    log.error({ controlState: final }, outcome.error.message);
    flushLogger(log);
    throw outcome.error;
  }
  flushLogger(log);
  return outcome.code;
}

/**
 * The flight log (recording.enabled): every topic to MCAP in recording.dir, with what a replay needs in its
 * metadata (the track, the estimation settings the race runs with, the configuration file's path).
 */
async function startDaemonRecording(config: Config, configFile: string, bus: TopicBus<Topics>, clock: WallClock, log: Logger): Promise<Recording> {
  const { startRecording } = await import('../recording/recorder.js');
  const track = config.race.track === null ? null : loadTrack(config.race.track);
  const rec = startRecording(bus, clock, config.recording, {
    log,
    track,
    metadata: { mode: 'run', configFile, [ESTIMATION_METADATA_KEY]: estimationMetadata(estimationParamsFor('detector')) },
  });
  log.info({ dir: config.recording.dir, images: config.recording.images.format }, 'recording the flight');
  return rec;
}

async function stopRecording(recording: Recording | null, log: Logger): Promise<void> {
  if (!recording) return;
  try {
    const s = await recording.stop();
    const detail = { files: s.files, messages: s.messages, bytes: s.bytes, droppedImages: s.droppedImages, abortedReason: s.abortedReason };
    if (s.abortedReason) log.error(detail, 'recording ended early');
    else log.info(detail, 'recording closed');
  } catch (err) {
    log.error({ err: (err as Error).message }, 'recording could not be closed cleanly; the log reads up to its last flushed chunk');
  }
}

/** Lands what we control (never leaves a vehicle armed by us without a land), stops the stream, closes the link. */
async function shutdown(link: FlightLink, log: Logger, why: string): Promise<string> {
  log.info({ controlState: link.controlState }, `stopping: ${why}`);
  const state = await link.stop();
  await link.close();
  log.info({ controlState: state, armed: link.status.armed }, 'stopped');
  return state;
}

/** Resolves on the first autopilot heartbeat; rejects after the link timeout. */
function waitForHeartbeat(link: FlightLink, clock: WallClock, timeoutS: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const t0 = clock.nowUs();
    const poll = clock.every(50_000, (now) => {
      if (link.status.lastHeartbeatUs !== null) {
        poll.cancel();
        resolve();
      } else if (now - t0 > timeoutS * 1e6) {
        poll.cancel();
        reject(new Error(`no autopilot heartbeat within ${timeoutS} s`));
      }
    });
  });
}

/** Why no autopilot was heard, in words a person can act on. */
function noLinkReason(link: FlightLink, timeoutS: number): string {
  const ps = link.parserStats;
  const ts = link.transportStatus;
  const base = `no heartbeat from an autopilot within ${timeoutS} s`;
  if (ps.bytesIn === 0) return `${base}: nothing received${ts ? ` (${ts.reason})` : ''}; check the device, cable, address and port`;
  if (ps.packets === 0) {
    return `${base}: ${ps.bytesIn} bytes received but not one valid MAVLink packet (${ps.badCrc} failed CRC, ${ps.junkBytes} junk bytes): wrong baud rate, or not a MAVLink port?`;
  }
  return `${base}: ${ps.packets} MAVLink packets received, none a heartbeat from an autopilot (only ground stations or companions?)`;
}
