import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TopicBus } from '../../src/core/bus.js';
import { WallClock } from '../../src/core/clock.js';
import { configWith } from '../../src/core/config/load.js';
import type { ControlState, FlightEvent, Topics } from '../../src/core/messages.js';
import { FlightLink } from '../../src/flight/flight-link.js';
import { pointSample } from '../../src/flight/setpoint.js';
import { UdpTransport } from '../../src/flight/transport/udp.js';
import { Px4Sim } from '../../src/sim/px4-sim.js';

/**
 * The daemon's flight link against the simulated PX4 over real UDP sockets on 127.0.0.1 (ephemeral ports), in real
 * time. Waits poll for a condition with a generous deadline, so a slow machine makes the test slower, not flaky.
 */
async function connect() {
  const clock = new WallClock();
  const simTransport = new UdpTransport({ bindHost: '127.0.0.1', bindPort: 0 });
  const sim = new Px4Sim({ transport: simTransport, clock });
  await sim.start();
  const peerPort = simTransport.localAddress()!.port;
  const config = configWith({ flight: { transport: { kind: 'udp', bindHost: '127.0.0.1', peerHost: '127.0.0.1', peerPort }, allowArm: true, allowOffboard: true } }).flight;
  const bus = new TopicBus<Topics>();
  const events: FlightEvent[] = [];
  bus.subscribe('fc/event', (e) => events.push(e));
  let commandsSent = 0;
  bus.subscribe('mavlink/bytes', (m) => {
    // COMMAND_LONG (id 76) in a MAVLink 2 packet: msgid bytes 7..9.
    if (m.direction === 'tx' && m.bytes[0] === 0xfd && m.bytes[7] === 76) commandsSent++;
  });
  const link = new FlightLink({ transport: new UdpTransport({ bindHost: '127.0.0.1', bindPort: 0, peerHost: '127.0.0.1', peerPort }), clock, bus, config });
  link.setSource({ sample: () => pointSample([0, 0, -2]) });
  await link.start();
  const close = async () => {
    await link.close();
    await sim.stop();
  };
  return { sim, link, events, close, commands: () => commandsSent };
}

async function until(what: string, cond: () => boolean, timeoutMs = 15_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function flyToControl(c: Awaited<ReturnType<typeof connect>>): Promise<void> {
  c.link.requestStart();
  await until('in_control', () => c.link.controlState === 'in_control');
  assert.equal(c.sim.mode, 'OFFBOARD');
  assert.equal(c.sim.armed, true);
}

const states = (events: FlightEvent[]): ControlState[] => events.filter((e) => e.kind === 'control_state').map((e) => e.state!);

test('without a start the link only monitors: nothing armed, no commands for control', async () => {
  const c = await connect();
  try {
    await until('link up', () => c.link.status.linkUp);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(c.link.controlState, 'idle');
    assert.equal(c.sim.armed, false);
    assert.equal(c.sim.mode, 'POSCTL');
  } finally {
    await c.close();
  }
});

test('connect, arm, enter OFFBOARD, fly to 2 m; a pilot taking over keeps the vehicle', async () => {
  const c = await connect();
  try {
    await flyToControl(c);
    assert.deepEqual(states(c.events), ['waiting_link', 'warmup', 'arming', 'requesting_mode', 'in_control']);
    await until('2 m reached', () => {
      const p = c.link.vehicle?.p_ned_m;
      return !!p && Math.abs(p[2] + 2) < 0.3 && Math.hypot(p[0], p[1]) < 0.3;
    });
    const before = c.commands();
    c.sim.pilotSetMode('POSCTL');
    await until('pilot_override', () => c.link.controlState === 'pilot_override');
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(c.sim.mode, 'POSCTL', 'the daemon never takes the vehicle back');
    assert.equal(c.commands(), before, 'no command after the override');
    assert.ok(c.events.some((e) => e.state === 'pilot_override' && /POSCTL by someone else/.test(e.message)));
  } finally {
    await c.close();
  }
});

test('link loss is reported and control resumes when heartbeats return while still in OFFBOARD', async () => {
  const c = await connect();
  try {
    await flyToControl(c);
    c.sim.link.send = false; // the radio goes quiet from the autopilot's side; our setpoints still reach it
    await until('link_lost', () => c.link.controlState === 'link_lost', 5000);
    assert.equal(c.link.status.linkUp, false);
    assert.ok(c.events.some((e) => e.kind === 'link' && /link lost: no heartbeat/.test(e.message)));
    c.sim.link.send = true;
    await until('back in control', () => c.link.controlState === 'in_control', 5000);
  } finally {
    await c.close();
  }
});

test('setpoints stopping: the simulated PX4 leaves OFFBOARD on its failsafe, and the daemon does not take it back', async () => {
  const c = await connect();
  try {
    await flyToControl(c);
    await until('airborne', () => (c.link.vehicle?.p_ned_m[2] ?? 0) < -1);
    c.link.setSource({ sample: () => null }); // stale trajectory first: the hold setpoint keeps OFFBOARD alive
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(c.sim.mode, 'OFFBOARD');
    assert.ok(c.events.some((e) => /hold\/brake setpoint/.test(e.message)));
    c.sim.link.receive = false; // now no setpoint reaches the autopilot
    await until('sim failsafe', () => c.sim.mode !== 'OFFBOARD', 5000);
    c.sim.link.receive = true;
    await until('not taken back', () => c.link.controlState === 'pilot_override' || c.link.controlState === 'link_lost', 5000);
    await new Promise((r) => setTimeout(r, 1000));
    assert.notEqual(c.sim.mode, 'OFFBOARD');
    assert.equal(c.link.controlState, 'pilot_override');
  } finally {
    await c.close();
  }
});
