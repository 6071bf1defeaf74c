import { parseArgs } from 'node:util';
import { WallClock } from '../core/clock.js';
import { UsageError } from '../core/errors.js';
import { UdpTransport } from '../flight/transport/udp.js';
import { Px4Sim } from '../sim/px4-sim.js';
import { VIO_DRIFT_M_PER_SQRT_S } from '../sim/sensors.js';

const USAGE = `usage: racepilot sim-fc [options]

A simulated PX4 (v1.14) flight controller on UDP, in real time: the quadrotor physics, PX4's cascaded controller,
its modes, commands, offboard rules and failsafes, speaking MAVLink 2 as system 1, component 1.

options:
  --bind HOST:PORT   address to listen on (default 127.0.0.1:14580, PX4 SITL's offboard link)
  --peer HOST:PORT   where to send before anyone has sent to us (default 127.0.0.1:14540); after that, replies go
                     to whoever sent last, as PX4 does
  --seed N           seed of the sensor noise and drift (default 1)
  --drift            odometry drift: a ${VIO_DRIFT_M_PER_SQRT_S} m/√s random walk of the reported position (VIO-like)
  --twr R            thrust-to-weight ratio (default 4)
  --status-every S   seconds between status lines (default 2; 0: none)
  --help             this text
`;

function hostPort(value: string, option: string): { host: string; port: number } {
  const m = /^(.+):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) throw new UsageError(`${option} expects HOST:PORT (e.g. 127.0.0.1:14580), got "${value}"`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

function positiveNumber(value: string, option: string, min: number): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < min) throw new UsageError(`${option} expects a number ≥ ${min}, got "${value}"`);
  return n;
}

export async function run(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: {
        bind: { type: 'string', default: '127.0.0.1:14580' },
        peer: { type: 'string', default: '127.0.0.1:14540' },
        seed: { type: 'string', default: '1' },
        drift: { type: 'boolean', default: false },
        twr: { type: 'string', default: '4' },
        'status-every': { type: 'string', default: '2' },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    }).values;
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n\n${USAGE}`);
  }
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const bind = hostPort(args.bind!, '--bind');
  const peer = hostPort(args.peer!, '--peer');
  const seed = Math.trunc(positiveNumber(args.seed!, '--seed', 0));
  const twr = positiveNumber(args.twr!, '--twr', 1.2); // below ~1.2 it cannot hover and manoeuvre
  const statusEvery = positiveNumber(args['status-every']!, '--status-every', 0);

  const clock = new WallClock();
  const transport = new UdpTransport({ bindHost: bind.host, bindPort: bind.port, peerHost: peer.host, peerPort: peer.port });
  const say = (line: string) => process.stdout.write(`${new Date().toISOString()} sim-fc ${line}\n`);
  transport.onStatus((s) => say(`link ${s.connected ? 'up' : 'down'}: ${s.reason}`));
  const sim = new Px4Sim({
    transport,
    clock,
    quad: { thrustToWeight: twr },
    sensors: { seed, driftMPerSqrtS: args.drift ? VIO_DRIFT_M_PER_SQRT_S : 0 },
    onEvent: (text) => say(`STATUSTEXT "${text}"`),
  });
  await sim.start(); // a port in use rejects with a LinkError: main prints it and exits non-zero
  say(`PX4 v1.14 simulation on ${transport.name}, TWR ${twr}, seed ${seed}${args.drift ? ', odometry drift on' : ''}`);

  const status = statusEvery > 0
    ? clock.every(statusEvery * 1e6, () => {
        const t = sim.vehicle.truth;
        const p = sim.vehicle.estimated_p_ned_m.map((x) => x.toFixed(2)).join(', ');
        const v = Math.hypot(...t.v_ned_mps).toFixed(2);
        say(
          `${sim.mode}${sim.armed ? ' ARMED' : ''}${sim.failsafe ? ' FAILSAFE' : ''} p_ned [${p}] m |v| ${v} m/s ` +
            `in ${sim.counts.packetsIn} pkts (${sim.counts.setpoints} setpoints) out ${sim.counts.packetsOut} pkts`,
        );
      })
    : null;

  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  status?.cancel();
  await sim.stop();
  say('stopped');
  return 0;
}
