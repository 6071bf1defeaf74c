import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { TopicBus } from '../../src/core/bus.js';
import { ManualClock } from '../../src/core/clock.js';
import { configWith } from '../../src/core/config/load.js';
import type { GcsEndpointConfig } from '../../src/core/config/telemetry.js';
import { silentLogger } from '../../src/core/logger.js';
import type { Topics } from '../../src/core/messages.js';
import { FlightLink } from '../../src/flight/flight-link.js';
import { GcsForwarder } from '../../src/flight/gcs-forward.js';
import { MavlinkEncoder, decode } from '../../src/flight/mavlink/codec.js';
import { MavlinkParser, type RawPacket } from '../../src/flight/mavlink/parser.js';
import { common, minimal } from '../../src/flight/mavlink/registry.js';
import { createMemoryPair } from '../../src/flight/transport/memory.js';
import { Px4Sim } from '../../src/sim/px4-sim.js';

/**
 * The daemon's wiring with the simulated PX4 (src/sim/px4-sim.ts) on the far end of an in-memory serial cable:
 * sim ⇄ FlightLink (publishes every received packet on the bus) → GcsForwarder ⇄ UDP ⇄ a ground station socket.
 * Simulated time on a ManualClock, advanced in small steps while the real UDP traffic is given turns to arrive, so
 * nothing depends on how fast this machine is.
 */
async function rig(endpoint: (gcsPort: number) => GcsEndpointConfig) {
  const clock = new ManualClock('sim', 0);
  const cable = createMemoryPair({ names: ['memory:fc', 'memory:daemon'] });
  const sim = new Px4Sim({ transport: cable.a, clock });
  const bus = new TopicBus<Topics>();
  const link = new FlightLink({ transport: cable.b, clock, bus, config: configWith({}).flight, log: silentLogger() });
  const gcs = dgram.createSocket('udp4');
  await new Promise<void>((r) => gcs.bind(0, '127.0.0.1', () => r()));
  const gcsPackets: { packet: RawPacket; from: dgram.RemoteInfo }[] = [];
  const parser = new MavlinkParser();
  gcs.on('message', (msg, from) => {
    for (const packet of parser.push(msg)) gcsPackets.push({ packet, from });
  });
  const fwd = new GcsForwarder({ endpoints: [endpoint(gcs.address().port)], toFc: (b) => cable.b.send(b), log: silentLogger() });
  fwd.attach(bus);
  await sim.start();
  await link.start();
  await fwd.start();

  /** Advances simulated time 10 ms at a time, letting real sockets deliver in between, until cond() holds. */
  const pumpUntil = async (cond: () => boolean, what: string) => {
    for (let i = 0; i < 2000; i++) {
      if (cond()) return;
      clock.advanceBy(10_000);
      await new Promise((r) => setTimeout(r, 1));
    }
    throw new Error(`never happened: ${what}`);
  };
  const close = async () => {
    await fwd.close();
    await link.close();
    await sim.stop();
    gcs.close();
  };
  return { clock, sim, link, gcs, gcsPackets, fwd, pumpUntil, close };
}

function armCommand(): Buffer {
  const enc = new MavlinkEncoder(255, 190); // QGroundControl's identity
  const cmd = new common.CommandLong();
  cmd.targetSystem = 1;
  cmd.targetComponent = 1;
  cmd.command = common.MavCmd.COMPONENT_ARM_DISARM;
  cmd.confirmation = 0;
  cmd._param1 = 1;
  cmd._param2 = 0;
  cmd._param3 = 0;
  cmd._param4 = 0;
  cmd._param5 = 0;
  cmd._param6 = 0;
  cmd._param7 = 0;
  return enc.encode(cmd);
}

function isAutopilotHeartbeat(p: RawPacket): boolean {
  if (p.msgid !== minimal.Heartbeat.MSG_ID || p.sysid !== 1 || p.compid !== 1) return false;
  const hb = decode(p) as minimal.Heartbeat;
  return hb.autopilot === minimal.MavAutopilot.PX4;
}

function ackFor(p: RawPacket, command: number): common.CommandAck | null {
  if (p.msgid !== common.CommandAck.MSG_ID) return null;
  const ack = decode(p) as common.CommandAck;
  return ack.command === command ? ack : null;
}

test('a ground station (we send to it) sees the sim FC heartbeats; its arm command reaches the FC and is ACKed', async () => {
  const r = await rig((port) => ({ kind: 'to', host: '127.0.0.1', port }));
  try {
    await r.pumpUntil(() => r.gcsPackets.some((g) => isAutopilotHeartbeat(g.packet)), 'a PX4 heartbeat at the ground station');
    // Forwarded byte for byte: the daemon's link saw the very same packet.
    const hb = r.gcsPackets.find((g) => isAutopilotHeartbeat(g.packet))!;
    assert.equal(hb.packet.bytes.length, hb.packet.bytes[1]! + 12, 'a whole MAVLink 2 packet');
    assert.ok(!r.gcsPackets.some((g) => g.packet.compid === 191), 'the daemon’s own traffic is not mirrored to the ground');

    assert.equal(r.sim.armed, false);
    // Reply where the heartbeats came from, as QGroundControl does.
    r.gcs.send(armCommand(), hb.from.port, hb.from.address);
    await r.pumpUntil(() => r.gcsPackets.some((g) => ackFor(g.packet, common.MavCmd.COMPONENT_ARM_DISARM)), 'the COMMAND_ACK');
    const ack = r.gcsPackets.map((g) => ackFor(g.packet, common.MavCmd.COMPONENT_ARM_DISARM)).find((a) => a)!;
    assert.equal(ack.result, common.MavResult.ACCEPTED);
    assert.equal(ack.targetSystem, 255, 'the ACK is addressed to the ground station');
    assert.equal(r.sim.armed, true, 'the pilot’s command took effect on the FC');
    assert.equal(r.fwd.stats[0]!.fromGcs, 1);
    assert.ok(r.fwd.stats[0]!.toGcs > 0);
  } finally {
    await r.close();
  }
});

test('a listening endpoint answers the ground station that sent to it; noise from the ground never reaches the FC', async () => {
  const r = await rig(() => ({ kind: 'listen', bindHost: '127.0.0.1', bindPort: 0 }));
  try {
    const local = r.fwd.localAddresses()[0]!;
    assert.ok(local && local.port > 0);
    // Noise, then half a packet, then the command: only the whole command may go on to the FC.
    const cmd = armCommand();
    r.gcs.send(Buffer.from('not mavlink at all'), local.port, '127.0.0.1');
    r.gcs.send(cmd.subarray(0, 10), local.port, '127.0.0.1');
    r.gcs.send(cmd, local.port, '127.0.0.1');
    await r.pumpUntil(() => r.gcsPackets.some((g) => ackFor(g.packet, common.MavCmd.COMPONENT_ARM_DISARM)), 'the COMMAND_ACK');
    assert.equal(r.sim.armed, true);
    assert.equal(r.fwd.stats[0]!.fromGcs, 1);
    assert.ok(r.fwd.stats[0]!.parser.junkBytes > 0 || r.fwd.stats[0]!.parser.badCrc > 0);
    // Once it has spoken, it gets the FC's stream too.
    await r.pumpUntil(() => r.gcsPackets.some((g) => isAutopilotHeartbeat(g.packet)), 'a heartbeat at the listening endpoint');
  } finally {
    await r.close();
  }
});
