import { parseArgs } from 'node:util';
import { TopicBus } from '../core/bus.js';
import { WallClock, type Clock } from '../core/clock.js';
import { configWith } from '../core/config/load.js';
import { UsageError } from '../core/errors.js';
import type { FlightEvent, Topics, Vec3 } from '../core/messages.js';
import { FlightLink } from '../flight/flight-link.js';
import { pointSample, type SetpointSource } from '../flight/setpoint.js';
import { UdpTransport } from '../flight/transport/udp.js';
import { Px4Sim } from '../sim/px4-sim.js';

const USAGE = `usage: racepilot fly-demo [--json]

Starts the simulated PX4 in this process on 127.0.0.1 UDP (ephemeral ports), connects the daemon's flight link with
allowArm/allowOffboard on and a start, flies: take-off to 2 m, a 3 m square, hold, land, in real time (about 20 s),
and prints what happened: events, the positions reached, and the setpoint cadence.
`;

interface Waypoint {
  name: string;
  p_ned_m: Vec3;
  /** How long to fly towards it (s). */
  holdS: number;
}

const PLAN: Waypoint[] = [
  { name: 'take-off to 2 m', p_ned_m: [0, 0, -2], holdS: 4 },
  { name: 'square corner 1', p_ned_m: [3, 0, -2], holdS: 2 },
  { name: 'square corner 2', p_ned_m: [3, 3, -2], holdS: 2 },
  { name: 'square corner 3', p_ned_m: [0, 3, -2], holdS: 2 },
  { name: 'square corner 4 (start)', p_ned_m: [0, 0, -2], holdS: 2 },
];

export interface DemoResult {
  finalState: string;
  armedAtEnd: boolean;
  mode: string;
  events: { tS: number; message: string }[];
  waypoints: { name: string; target: Vec3; reached: Vec3 | null; errorM: number | null }[];
  setpoints: { count: number; rateHz: number; intervalMs: { p50: number; p99: number; max: number } };
}

const sleep = (clock: Clock, us: number) => new Promise<void>((r) => clock.after(us, r));

/** The demo flight; also what the README's first command shows. */
export async function flyDemo(onEvent: (e: FlightEvent) => void = () => undefined): Promise<DemoResult> {
  const clock = new WallClock();
  const simTransport = new UdpTransport({ bindHost: '127.0.0.1', bindPort: 0 });
  const sim = new Px4Sim({ transport: simTransport, clock });
  await sim.start();
  const simPort = simTransport.localAddress()!.port;
  const config = configWith({ flight: { transport: { kind: 'udp', bindHost: '127.0.0.1', peerHost: '127.0.0.1', peerPort: simPort }, allowArm: true, allowOffboard: true } }).flight;
  const bus = new TopicBus<Topics>();
  const t0 = clock.nowUs();
  const events: DemoResult['events'] = [];
  bus.subscribe('fc/event', (e) => {
    if (e.severity !== 'debug') events.push({ tS: Math.round((e.tUs - t0) / 1e4) / 100, message: e.message });
    onEvent(e);
  });
  const link = new FlightLink({ transport: new UdpTransport({ bindHost: '127.0.0.1', bindPort: 0, peerHost: '127.0.0.1', peerPort: simPort }), clock, bus, config });
  let current: Waypoint = PLAN[0]!;
  const source: SetpointSource = { sample: () => pointSample(current.p_ned_m) };
  link.setSource(source);
  const waypoints: DemoResult['waypoints'] = [];
  try {
    await link.start();
    link.requestStart();
    for (let i = 0; i < 150 && link.controlState !== 'in_control'; i++) await sleep(clock, 100_000);
    if (link.controlState === 'in_control') {
      for (const wp of PLAN) {
        current = wp;
        await sleep(clock, wp.holdS * 1e6);
        const p = link.vehicle?.p_ned_m ?? null;
        const err = p ? Math.hypot(p[0] - wp.p_ned_m[0], p[1] - wp.p_ned_m[1], p[2] - wp.p_ned_m[2]) : null;
        const r2 = (x: number) => Math.round(x * 100) / 100;
        waypoints.push({ name: wp.name, target: wp.p_ned_m, reached: p && (p.map(r2) as Vec3), errorM: err === null ? null : r2(err) });
        if (link.controlState !== 'in_control') break;
      }
    }
    await link.stop(3_000_000);
    // Wait for the touchdown and PX4's auto-disarm, so the demo never ends with an armed vehicle.
    for (let i = 0; i < 150 && link.status.armed; i++) await sleep(clock, 100_000);
  } finally {
    await link.close();
    await sim.stop();
  }
  const times = link.setpointTimesUs;
  const iv = times.slice(1).map((t, i) => (t - times[i]!) / 1000).sort((a, b) => a - b);
  const q = (p: number) => (iv.length ? Math.round(iv[Math.min(iv.length - 1, Math.floor(p * iv.length))]! * 100) / 100 : 0);
  const spanS = times.length > 1 ? (times.at(-1)! - times[0]!) / 1e6 : 0;
  return {
    finalState: link.controlState,
    armedAtEnd: sim.armed,
    mode: sim.mode,
    events,
    waypoints,
    setpoints: { count: times.length, rateHz: spanS ? Math.round(((times.length - 1) / spanS) * 10) / 10 : 0, intervalMs: { p50: q(0.5), p99: q(0.99), max: q(1) } },
  };
}

export async function run(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: { json: { type: 'boolean', default: false }, help: { type: 'boolean', default: false } } }));
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n\n${USAGE}`);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const live = !values.json;
  if (live) process.stdout.write('fly-demo: simulated PX4 on 127.0.0.1 UDP, daemon link with allowArm/allowOffboard and a start\n');
  const r = await flyDemo((e) => {
    if (live && e.severity !== 'debug') process.stdout.write(`  ${e.message}\n`);
  });
  if (values.json) process.stdout.write(`${JSON.stringify(r)}\n`);
  else {
    process.stdout.write('\npositions reached (NED, m):\n');
    for (const w of r.waypoints) process.stdout.write(`  ${w.name.padEnd(26)} target [${w.target.join(', ')}]  reached [${w.reached?.join(', ') ?? '-'}]  error ${w.errorM ?? '-'} m\n`);
    const s = r.setpoints;
    process.stdout.write(`setpoints: ${s.count} at ${s.rateHz} Hz; interval p50 ${s.intervalMs.p50} ms, p99 ${s.intervalMs.p99} ms, max ${s.intervalMs.max} ms\n`);
    process.stdout.write(`end: control ${r.finalState}, vehicle ${r.armedAtEnd ? 'ARMED' : 'disarmed'} in ${r.mode}\n`);
  }
  return r.finalState === 'done' && !r.armedAtEnd && r.waypoints.length === PLAN.length ? 0 : 1;
}
