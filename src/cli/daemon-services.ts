import { Writable } from 'node:stream';
import type { TopicBus } from '../core/bus.js';
import type { Clock } from '../core/clock.js';
import type { Config } from '../core/config/schema.js';
import type { Logger } from '../core/logger.js';
import type { Topics } from '../core/messages.js';
import { systemdFromEnv, type SdNotifier, type Watchdog } from '../core/sd-notify.js';
import type { FlightLink } from '../flight/flight-link.js';
import { GcsForwarder } from '../flight/gcs-forward.js';
import type { ByteTransport } from '../flight/transport/transport.js';
import { TelemetryServer } from '../telemetry/server.js';

/**
 * A log destination whose target is plugged in later: the logger exists before the telemetry server does (the
 * server logs through it), and lines written before then simply do not reach telemetry.
 */
export class LogTap extends Writable {
  target: Writable | null = null;

  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.target) this.target.write(chunk);
    cb();
  }
}

export interface DaemonServices {
  notifier: SdNotifier;
  watchdog: Watchdog | null;
  telemetry: TelemetryServer | null;
  gcs: GcsForwarder | null;
  close(status: string): Promise<void>;
}

/** Control states in which the setpoint stream must be flowing. */
const STREAMING = new Set(['warmup', 'requesting_mode', 'in_control', 'arming', 'landing']);

/**
 * The daemon's services around the flight link: systemd notify and watchdog, the telemetry server and ground-station
 * forwarding. The watchdog's keep-alive goes out only while the control loop is healthy: the event loop turns and,
 * whenever the daemon is supposed to stream setpoints, the last one left less than three periods ago.
 */
export async function startDaemonServices(o: {
  config: Config;
  bus: TopicBus<Topics>;
  clock: Clock;
  log: Logger;
  logTap: LogTap;
  link: FlightLink;
  transport: ByteTransport;
}): Promise<DaemonServices> {
  const { config, bus, clock, log, link } = o;
  const { notifier, watchdog } = systemdFromEnv({ clock, onError: (err) => log.warn({ err: err.message }, 'systemd notify failed') });
  const periodUs = Math.round(1e6 / config.flight.setpointRateHz);
  const healthTimer = clock.every(periodUs, (dueUs) => {
    const last = link.setpointTimesUs.at(-1) ?? null;
    const streaming = STREAMING.has(link.controlState);
    const healthy = link.controlState !== 'failed' && (!streaming || (last !== null && dueUs - last < 3 * periodUs));
    if (healthy) watchdog?.tick(dueUs);
  });

  let telemetry: TelemetryServer | null = null;
  if (config.telemetry.enabled) {
    // Telemetry is for the people on the ground; a port it cannot have must not keep the vehicle from flying.
    const server = new TelemetryServer({ bus, config: config.telemetry, clock, log });
    try {
      const where = await server.start();
      o.logTap.target = server.logStream();
      telemetry = server;
      log.info({ url: where.url, token: config.telemetry.token ? 'required' : 'none (loopback)' }, 'telemetry listening');
    } catch (err) {
      await server.close().catch(() => undefined);
      log.error({ host: config.telemetry.host, port: config.telemetry.port, err: (err as Error).message }, 'telemetry could not start; flying without it');
    }
  }

  let gcs: GcsForwarder | null = null;
  if (config.telemetry.gcs.length > 0) {
    gcs = new GcsForwarder({ endpoints: config.telemetry.gcs, toFc: (b) => o.transport.send(b), log });
    gcs.attach(bus);
    await gcs.start();
    log.info({ endpoints: config.telemetry.gcs }, 'forwarding MAVLink to ground stations');
  }

  return {
    notifier,
    watchdog,
    telemetry,
    gcs,
    async close(status: string) {
      notifier.stopping(status);
      healthTimer.cancel();
      watchdog?.stop();
      o.logTap.target = null;
      await gcs?.close();
      await telemetry?.close();
      await notifier.close();
    },
  };
}
