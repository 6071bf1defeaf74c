import dgram from 'node:dgram';
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { common, minimal } from 'mavlink-mappings';
import { TopicBus } from '../core/bus.js';
import { WallClock } from '../core/clock.js';
import { configWith } from '../core/config/load.js';
import { UsageError } from '../core/errors.js';
import type { Topics } from '../core/messages.js';
import { FlightLink } from '../flight/flight-link.js';
import { decode, MavlinkEncoder } from '../flight/mavlink/codec.js';
import { MavlinkParser } from '../flight/mavlink/parser.js';
import { pointSample } from '../flight/setpoint.js';
import { UdpTransport } from '../flight/transport/udp.js';
import { telemetrySchema } from '../core/config/telemetry.js';
import { silentLogger } from '../core/logger.js';
import { percentile } from '../core/stats.js';
import { TelemetryServer } from '../telemetry/server.js';
import { parseCommandArgs } from './args.js';

const USAGE = `usage: racepilot bench link [--json] [--seconds N] [--rate HZ] [--busy N] [--busy-priority lowered|normal] [--telemetry-clients N]

Streams setpoints at the configured rate (default 50 Hz) from the daemon's FlightLink over UDP loopback to a minimal
autopilot peer (heartbeats in OFFBOARD, ACKs every command) while N worker threads spin (default: one per core),
and reports the interval between setpoints as they leave the daemon and as the peer receives them: p50, p99, max.
The busy workers run at the lowered priority every daemon worker takes (--busy-priority normal: as a foreign hog). Target: p99 < 22 ms and no gap
over 50 ms at 50 Hz. With --telemetry-clients N the daemon's telemetry server runs on the same event loop with N
WebSocket clients (in another thread; one of them never reads) and events and log lines at 20 Hz.
`;

export interface LinkBenchResult {
  seconds: number;
  rateHz: number;
  busyWorkers: number;
  /** Whether the busy workers ran at the lowered priority of the daemon's own workers. */
  busyLowered: boolean;
  setpoints: number;
  /** Intervals between setpoints as they leave the daemon (the FlightLink's send times): what the target is on. */
  intervalMs: { p50: number; p99: number; max: number; mean: number };
  gapsOver50ms: number;
  /** The same stream as the autopilot peer receives it, on the same event loop (so it adds the receive delay). */
  receivedIntervalMs: { p50: number; p99: number; max: number; mean: number };
  targetMet: boolean;
  telemetryClients: number;
  /** Frames the reading clients received, and clients the server cut off (the stuck one should be). */
  telemetryFrames: number | null;
  telemetryClientsCut: number | null;
}

export async function benchLink(seconds: number, rateHz: number, busy: number, telemetryClients = 0, busyLowered = true): Promise<LinkBenchResult> {
  const workers = Array.from({ length: busy }, () => new Worker(new URL('./bench-busy-worker.js', import.meta.url), { workerData: { lowered: busyLowered } }));
  const peer = dgram.createSocket('udp4');
  await new Promise<void>((r) => peer.bind(0, '127.0.0.1', r));
  const peerPort = (peer.address() as { port: number }).port;
  const parser = new MavlinkParser();
  const enc = new MavlinkEncoder(1, 1);
  const arrivals: number[] = [];
  let daemon: { address: string; port: number } | null = null;
  const send = (m: Parameters<MavlinkEncoder['encode']>[0]) => daemon && peer.send(enc.encode(m), daemon.port, daemon.address);
  peer.on('message', (msg, rinfo) => {
    const t = performance.now();
    daemon = { address: rinfo.address, port: rinfo.port };
    for (const pkt of parser.push(msg)) {
      if (pkt.msgid === common.SetPositionTargetLocalNed.MSG_ID) arrivals.push(t);
      else if (pkt.msgid === common.CommandLong.MSG_ID) {
        const c = decode(pkt) as common.CommandLong;
        const ack = new common.CommandAck();
        Object.assign(ack, { command: c.command, result: common.MavResult.ACCEPTED, progress: 0, resultParam2: 0, targetSystem: pkt.sysid, targetComponent: pkt.compid });
        send(ack);
      }
    }
  });
  const hbTimer = setInterval(() => {
    const hb = new minimal.Heartbeat();
    Object.assign(hb, { type: minimal.MavType.QUADROTOR, autopilot: minimal.MavAutopilot.PX4, baseMode: 1 | 128, customMode: 6 << 16, systemStatus: minimal.MavState.ACTIVE, mavlinkVersion: 3 });
    send(hb);
  }, 200);

  const clock = new WallClock();
  const config = configWith({ flight: { transport: { kind: 'udp', bindHost: '127.0.0.1', peerHost: '127.0.0.1', peerPort }, setpointRateHz: rateHz, allowArm: true, allowOffboard: true } }).flight;
  const bus = new TopicBus<Topics>();
  const link = new FlightLink({ transport: new UdpTransport({ bindHost: '127.0.0.1', bindPort: 0, peerHost: '127.0.0.1', peerPort }), clock, bus, config });
  link.setSource({ sample: () => pointSample([0, 0, -2]) });
  const tele = telemetryClients > 0 ? await startTelemetryLoad(bus, clock, telemetryClients) : null;
  await link.start();
  link.requestStart();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  await link.close();
  const teleResult = tele ? await tele.stop() : null;
  clearInterval(hbTimer);
  peer.close();
  await Promise.all(workers.map((w) => w.terminate()));

  // The first second is the link coming up; measure the steady stream after it.
  const steadyIntervals = (timesMs: number[]) => {
    const t0 = timesMs[0] ?? 0;
    const steady = timesMs.filter((t) => t - t0 >= 1000);
    return steady.slice(1).map((t, i) => t - steady[i]!);
  };
  const sent = steadyIntervals(link.setpointTimesUs.map((t) => t / 1000));
  const received = steadyIntervals(arrivals);
  if (sent.length < 10 || received.length < 10) throw new UsageError(`bench link: only ${received.length} setpoints arrived; the link did not stream`);
  const intervalMs = intervalStats(sent);
  const gapsOver50ms = sent.filter((x) => x > 50).length;
  return {
    seconds,
    rateHz,
    busyWorkers: busy,
    busyLowered,
    setpoints: sent.length + 1,
    intervalMs,
    gapsOver50ms,
    receivedIntervalMs: intervalStats(received),
    targetMet: intervalMs.p99 < 22 && gapsOver50ms === 0,
    telemetryClients,
    telemetryFrames: teleResult?.frames ?? null,
    telemetryClientsCut: teleResult?.clientsCut ?? null,
  };
}

function intervalStats(iv: number[]) {
  const sorted = [...iv].sort((a, b) => a - b);
  const r3 = (x: number) => Math.round(x * 1000) / 1000;
  return { p50: r3(percentile(sorted, 50)), p99: r3(percentile(sorted, 99)), max: r3(sorted.at(-1)!), mean: r3(iv.reduce((a, b) => a + b, 0) / iv.length) };
}

/** The daemon's telemetry server on the bench's bus, loaded by clients in a worker and a lively event stream. */
async function startTelemetryLoad(bus: TopicBus<Topics>, clock: WallClock, clients: number) {
  const server = new TelemetryServer({ bus, clock, log: silentLogger(), config: telemetrySchema.parse({ port: 0, tegrastats: false, maxClients: clients + 4 }) });
  const { url, port } = await server.start();
  const worker = new Worker(new URL('./bench-telemetry-clients.js', import.meta.url), { workerData: { url, port, n: clients } });
  await new Promise((r) => worker.once('message', r));
  const events = setInterval(() => {
    bus.publish('fc/event', { tUs: clock.nowUs(), kind: 'info', message: 'bench event', severity: 'info' });
  }, 50);
  return {
    async stop() {
      clearInterval(events);
      worker.postMessage('count');
      const { frames } = (await new Promise((r) => worker.once('message', r))) as { frames: number };
      const clientsCut = server.stats.clientsCut;
      await server.close();
      await worker.terminate();
      return { frames, clientsCut };
    },
  };
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    argv,
    { json: { type: 'boolean', default: false }, seconds: { type: 'string', default: '10' }, rate: { type: 'string', default: '50' }, busy: { type: 'string' }, 'telemetry-clients': { type: 'string', default: '0' }, 'busy-priority': { type: 'string', default: 'lowered' } },
    USAGE,
  );
  if (!parsed) return 0;
  const { values } = parsed;
  const seconds = Number(values.seconds);
  const rate = Number(values.rate);
  const busy = values.busy === undefined ? availableParallelism() : Number(values.busy);
  if (!(seconds >= 2)) throw new UsageError('--seconds: expected a number ≥ 2');
  if (!(rate >= 5 && rate <= 250)) throw new UsageError('--rate: expected 5..250 Hz');
  if (!(Number.isInteger(busy) && busy >= 0 && busy <= 64)) throw new UsageError('--busy: expected an integer 0..64');
  const telemetryClients = Number(values['telemetry-clients']);
  if (!(Number.isInteger(telemetryClients) && telemetryClients >= 0 && telemetryClients <= 500)) throw new UsageError('--telemetry-clients: expected an integer 0..500');
  const prio = values['busy-priority'];
  if (prio !== 'lowered' && prio !== 'normal') throw new UsageError('--busy-priority: expected lowered or normal');
  const r = await benchLink(seconds, rate, busy, telemetryClients, prio === 'lowered');
  if (values.json) process.stdout.write(`${JSON.stringify(r)}\n`);
  else {
    const i = r.intervalMs;
    process.stdout.write(
      `bench link: ${r.setpoints} setpoints at ${r.rateHz} Hz over UDP loopback, ${r.busyWorkers} busy worker threads (${r.busyLowered ? 'lowered' : 'normal'} priority), ${r.seconds} s\n` +
        `  sent:     interval p50 ${i.p50} ms, p99 ${i.p99} ms, max ${i.max} ms, mean ${i.mean} ms; gaps > 50 ms: ${r.gapsOver50ms}\n` +
        `  received: interval p50 ${r.receivedIntervalMs.p50} ms, p99 ${r.receivedIntervalMs.p99} ms, max ${r.receivedIntervalMs.max} ms\n` +
        (r.telemetryClients ? `  telemetry: ${r.telemetryClients} clients, ${r.telemetryFrames} frames received, ${r.telemetryClientsCut} cut off\n` : '') +
        `  target (p99 < 22 ms, no gap > 50 ms): ${r.targetMet ? 'met' : 'NOT met'}\n`,
    );
  }
  return 0;
}
