import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MavLinkData } from 'mavlink-mappings';
import { ManualClock } from '../../src/core/clock.js';
import { createMemoryPair, type MemoryTransport } from '../../src/flight/transport/memory.js';
import { MavlinkParser } from '../../src/flight/mavlink/parser.js';
import { MavlinkEncoder, decode } from '../../src/flight/mavlink/codec.js';
import { common, minimal } from '../../src/flight/mavlink/registry.js';
import { Px4Sim, type Px4SimOptions } from '../../src/sim/px4-sim.js';
import { decodePx4CustomMode, encodePx4Mode } from '../../src/sim/px4-modes.js';
import type { Vec3 } from '../../src/core/messages.js';

const { MavCmd, MavResult } = common;
const MASK = common.PositionTargetTypemask;
/** Position only, yaw given (ignore velocity, acceleration and yaw rate). */
const POSITION_MASK = MASK.VX_IGNORE | MASK.VY_IGNORE | MASK.VZ_IGNORE | MASK.AX_IGNORE | MASK.AY_IGNORE | MASK.AZ_IGNORE | MASK.YAW_RATE_IGNORE;

/** The companion computer's side of the link, as a test double: records what the sim sends, sends what we tell it. */
class Companion {
  readonly received: Array<{ tUs: number; msg: MavLinkData }> = [];
  private readonly parser = new MavlinkParser();
  private readonly encoder = new MavlinkEncoder(1, 191);
  private setpointTimer: { cancel(): void } | null = null;

  constructor(
    readonly clock: ManualClock,
    readonly transport: MemoryTransport,
  ) {
    transport.onData((chunk) => {
      for (const p of this.parser.push(chunk)) {
        const msg = decode(p);
        if (msg) this.received.push({ tUs: clock.nowUs(), msg });
      }
    });
  }

  of<T extends MavLinkData>(clazz: new () => T, sinceUs = 0): T[] {
    return this.received.filter((r) => r.tUs >= sinceUs && r.msg instanceof clazz).map((r) => r.msg as T);
  }

  last<T extends MavLinkData>(clazz: new () => T): T {
    const all = this.of(clazz);
    assert.ok(all.length > 0, `no ${clazz.name} received`);
    return all[all.length - 1]!;
  }

  texts(): string[] {
    return this.of(common.StatusText).map((s) => s.text);
  }

  command(command: common.MavCmd, params: number[] = []): common.MavResult {
    const m = new common.CommandLong();
    m.targetSystem = 1;
    m.targetComponent = 1;
    m.command = command;
    m.confirmation = 0;
    [m._param1, m._param2, m._param3, m._param4, m._param5, m._param6, m._param7] = [...params, 0, 0, 0, 0, 0, 0, 0].slice(0, 7);
    const before = this.received.length;
    this.transport.send(this.encoder.encode(m));
    const ack = this.received.slice(before).find((r) => r.msg instanceof common.CommandAck && (r.msg as common.CommandAck).command === command);
    assert.ok(ack, `no COMMAND_ACK for command ${command}`);
    const a = ack.msg as common.CommandAck;
    assert.equal(a.targetSystem, 1);
    assert.equal(a.targetComponent, 191);
    return a.result;
  }

  setMode(main: number, sub = 0): common.MavResult {
    return this.command(MavCmd.DO_SET_MODE, [minimal.MavModeFlag.CUSTOM_MODE_ENABLED, main, sub]);
  }

  /** Streams a position setpoint at 50 Hz until stopped. */
  stream(p: Vec3, yaw = 0, mask = POSITION_MASK): void {
    this.stopStream();
    this.setpointTimer = this.clock.every(20_000, () => {
      const m = new common.SetPositionTargetLocalNed();
      m.timeBootMs = Math.round(this.clock.nowUs() / 1000);
      m.targetSystem = 1;
      m.targetComponent = 1;
      m.coordinateFrame = common.MavFrame.LOCAL_NED;
      m.typeMask = mask;
      [m.x, m.y, m.z] = p;
      m.yaw = yaw;
      this.transport.send(this.encoder.encode(m));
    });
  }

  stopStream(): void {
    this.setpointTimer?.cancel();
    this.setpointTimer = null;
  }

  heartbeatMode(): string | null {
    return decodePx4CustomMode(this.last(minimal.Heartbeat).customMode);
  }
}

async function setup(options: Partial<Px4SimOptions> = {}) {
  const clock = new ManualClock('sim', 0);
  const pair = createMemoryPair({ delivery: 'sync' });
  const sim = new Px4Sim({ transport: pair.a, clock, ...options });
  const fc = new Companion(clock, pair.b);
  await pair.b.start();
  await sim.start();
  const run = (seconds: number) => clock.advanceBy(Math.round(seconds * 1e6));
  return { clock, sim, fc, run };
}

const dist = (a: Vec3, b: Vec3) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
const lastPos = (fc: Companion): Vec3 => {
  const m = fc.last(common.LocalPositionNed);
  return [m.x, m.y, m.z];
};

test('PX4 custom mode encoding: main mode in bits 16-23, sub mode in bits 24-31', () => {
  assert.equal(encodePx4Mode('POSCTL'), 3 << 16);
  assert.equal(encodePx4Mode('OFFBOARD'), 6 << 16);
  assert.equal(encodePx4Mode('AUTO.LOITER'), ((4 << 16) | (3 << 24)) >>> 0);
  assert.equal(encodePx4Mode('AUTO.LAND'), ((4 << 16) | (6 << 24)) >>> 0);
  for (const m of ['MANUAL', 'ALTCTL', 'ACRO', 'STABILIZED', 'AUTO.TAKEOFF', 'AUTO.RTL', 'AUTO.READY'] as const)
    assert.equal(decodePx4CustomMode(encodePx4Mode(m)), m);
  assert.equal(decodePx4CustomMode(9 << 16), null);
});

test('heartbeats at 1 Hz as PX4, and telemetry at its rates', async () => {
  const { fc, run, sim } = await setup();
  run(3.001);
  const hbs = fc.of(minimal.Heartbeat);
  assert.equal(hbs.length, 3);
  const hb = hbs[2]!;
  assert.equal(hb.autopilot, minimal.MavAutopilot.PX4);
  assert.equal(hb.type, minimal.MavType.QUADROTOR);
  assert.ok(hb.baseMode & minimal.MavModeFlag.CUSTOM_MODE_ENABLED);
  assert.equal(hb.baseMode & minimal.MavModeFlag.SAFETY_ARMED, 0);
  assert.equal(hb.customMode, 3 << 16); // POSCTL
  assert.equal(hb.systemStatus, minimal.MavState.STANDBY);
  const since = 1_000_000;
  const inTwoSeconds = (c: new () => MavLinkData) => fc.of(c, since).length;
  assert.ok(Math.abs(inTwoSeconds(common.LocalPositionNed) - 100) <= 2);
  assert.ok(Math.abs(inTwoSeconds(common.AttitudeQuaternion) - 100) <= 2);
  assert.ok(Math.abs(inTwoSeconds(common.Odometry) - 60) <= 2);
  assert.ok(inTwoSeconds(common.SysStatus) >= 2 && inTwoSeconds(common.BatteryStatus) >= 4);
  const odo = fc.last(common.Odometry);
  assert.equal(odo.frameId, common.MavFrame.LOCAL_NED);
  assert.equal(odo.childFrameId, common.MavFrame.BODY_FRD);
  assert.ok(Math.abs(odo.q[0]! - 1) < 0.01);
  await sim.stop();
});

test('arm is ACCEPTED and shows in the heartbeat; unknown commands are UNSUPPORTED; preflight auto-disarm', async () => {
  const { fc, run, sim } = await setup();
  assert.equal(fc.command(MavCmd.COMPONENT_ARM_DISARM, [1]), MavResult.ACCEPTED);
  run(1.01);
  assert.ok(fc.last(minimal.Heartbeat).baseMode & minimal.MavModeFlag.SAFETY_ARMED);
  assert.equal(fc.last(minimal.Heartbeat).systemStatus, minimal.MavState.ACTIVE);
  assert.equal(fc.command(MavCmd.DO_DIGICAM_CONTROL), MavResult.UNSUPPORTED);
  // PX4 disarms a vehicle that was armed and never took off (COM_DISARM_PRFLT, 10 s).
  run(10);
  assert.equal(sim.armed, false);
  assert.ok(fc.texts().includes('Disarmed by auto preflight disarming'));
  await sim.stop();
});

test('OFFBOARD is refused without setpoints, accepted after a second of 50 Hz setpoints, and flies there', async () => {
  const { fc, run, sim } = await setup();
  assert.equal(fc.setMode(6), MavResult.TEMPORARILY_REJECTED);
  assert.ok(fc.texts().some((t) => t.includes('Offboard')));
  fc.stream([0, 0, -2]);
  run(0.5);
  assert.equal(fc.setMode(6), MavResult.TEMPORARILY_REJECTED, 'half a second of setpoints is not enough');
  run(0.6);
  assert.equal(fc.setMode(6), MavResult.ACCEPTED);
  assert.equal(fc.command(MavCmd.COMPONENT_ARM_DISARM, [1]), MavResult.ACCEPTED);
  run(5);
  assert.equal(fc.heartbeatMode(), 'OFFBOARD');
  assert.ok(dist(lastPos(fc), [0, 0, -2]) < 0.15, `at ${lastPos(fc)}`);
  fc.stream([6, -3, -4], 1);
  run(10);
  assert.ok(dist(lastPos(fc), [6, -3, -4]) < 0.15, `at ${lastPos(fc)}`);
  const att = fc.last(common.AttitudeQuaternion);
  const yaw = Math.atan2(2 * (att.q1 * att.q4 + att.q2 * att.q3), 1 - 2 * (att.q3 ** 2 + att.q4 ** 2));
  assert.ok(Math.abs(yaw - 1) < 0.05, `yaw ${yaw}`);
  await sim.stop();
});

async function inOffboardAt(p: Vec3, options: Partial<Px4SimOptions> = {}) {
  const ctx = await setup(options);
  ctx.fc.stream(p);
  ctx.run(1.1);
  assert.equal(ctx.fc.setMode(6), MavResult.ACCEPTED);
  assert.equal(ctx.fc.command(MavCmd.COMPONENT_ARM_DISARM, [1]), MavResult.ACCEPTED);
  ctx.run(6);
  assert.equal(ctx.sim.mode, 'OFFBOARD');
  return ctx;
}

test('setpoints stopping: after COM_OF_LOSS_T (1 s) the failsafe leaves OFFBOARD and holds', async () => {
  const { fc, run, sim, clock } = await inOffboardAt([2, 0, -3]);
  fc.stopStream();
  const stoppedUs = clock.nowUs();
  run(0.9);
  assert.equal(sim.mode, 'OFFBOARD', 'not before the timeout');
  run(0.3);
  assert.equal(sim.mode, 'AUTO.LOITER');
  run(1);
  assert.equal(fc.heartbeatMode(), 'AUTO.LOITER');
  assert.equal(fc.last(minimal.Heartbeat).systemStatus, minimal.MavState.CRITICAL);
  assert.ok(fc.texts().some((t) => t.startsWith('Failsafe: offboard signal lost')));
  run(5);
  assert.ok(dist(lastPos(fc), [2, 0, -3]) < 0.3, `drifted to ${lastPos(fc)}`);
  assert.ok(sim.armed);
  // Setpoints coming back do not put it back in OFFBOARD: that takes a new request.
  fc.stream([5, 0, -3]);
  run(2);
  assert.equal(sim.mode, 'AUTO.LOITER');
  assert.ok(clock.nowUs() > stoppedUs);
  await sim.stop();
});

test('the land failsafe action lands and disarms', async () => {
  const { fc, run, sim } = await inOffboardAt([0, 0, -2], { offboardLossAction: 'land' });
  fc.stopStream();
  run(1.2);
  assert.equal(sim.mode, 'AUTO.LAND');
  run(8);
  assert.ok(fc.texts().includes('Landing detected'));
  assert.equal(sim.armed, false);
  assert.ok(fc.texts().includes('Disarmed by landing'));
});

test('a pilot switching to POSCTL takes the vehicle: setpoints are then ignored', async () => {
  const { fc, run, sim } = await inOffboardAt([0, 0, -3]);
  sim.pilotSetMode('POSCTL');
  fc.stream([10, 0, -3]);
  run(3);
  assert.equal(fc.heartbeatMode(), 'POSCTL');
  assert.ok(dist(lastPos(fc), [0, 0, -3]) < 0.2, `moved to ${lastPos(fc)}`);
  // The companion may ask again, and PX4 would allow it; here it shows the request path still works.
  assert.equal(fc.setMode(6), MavResult.ACCEPTED);
  await sim.stop();
});

test('takeoff to an altitude, then hold, then land and disarm', async () => {
  const { fc, run, sim } = await setup();
  assert.equal(fc.command(MavCmd.NAV_TAKEOFF, [0, 0, 0, NaN, NaN, NaN, 4]), MavResult.ACCEPTED);
  assert.equal(sim.mode, 'AUTO.TAKEOFF');
  assert.equal(fc.command(MavCmd.COMPONENT_ARM_DISARM, [1]), MavResult.ACCEPTED);
  run(8);
  assert.equal(fc.heartbeatMode(), 'AUTO.LOITER');
  assert.ok(Math.abs(lastPos(fc)[2] + 4) < 0.25, `z ${lastPos(fc)[2]}`);
  assert.equal(fc.command(MavCmd.COMPONENT_ARM_DISARM, [0]), MavResult.TEMPORARILY_REJECTED, 'no disarm in the air');
  assert.equal(fc.command(MavCmd.NAV_LAND), MavResult.ACCEPTED);
  run(10);
  assert.ok(Math.abs(lastPos(fc)[2]) < 0.05);
  assert.equal(sim.armed, false);
});

test('SET_MESSAGE_INTERVAL changes a stream, -1 stops it, REQUEST_MESSAGE sends one', async () => {
  const { fc, run, clock, sim } = await setup();
  assert.equal(fc.command(MavCmd.SET_MESSAGE_INTERVAL, [common.LocalPositionNed.MSG_ID, 100_000]), MavResult.ACCEPTED);
  let t0 = clock.nowUs();
  run(2);
  assert.ok(Math.abs(fc.of(common.LocalPositionNed, t0).length - 20) <= 1);
  assert.equal(fc.command(MavCmd.SET_MESSAGE_INTERVAL, [common.Odometry.MSG_ID, -1]), MavResult.ACCEPTED);
  t0 = clock.nowUs();
  run(1);
  assert.equal(fc.of(common.Odometry, t0).length, 0);
  t0 = clock.nowUs();
  assert.equal(fc.command(MavCmd.REQUEST_MESSAGE, [common.Odometry.MSG_ID]), MavResult.ACCEPTED);
  assert.equal(fc.of(common.Odometry, t0).length, 1);
  assert.equal(fc.command(MavCmd.SET_MESSAGE_INTERVAL, [4242, 1000]), MavResult.DENIED);
  await sim.stop();
});

test('link loss hook: the sim goes silent, and what it would hear is lost too', async () => {
  const { fc, run, sim, clock } = await inOffboardAt([0, 0, -2]);
  sim.link = { send: false, receive: false };
  const t0 = clock.nowUs();
  run(2);
  assert.equal(fc.received.filter((r) => r.tUs > t0).length, 0);
  // The setpoints it no longer hears trigger the offboard failsafe.
  assert.equal(sim.mode, 'AUTO.LOITER');
  sim.link = { send: true, receive: true };
  run(1.01);
  assert.equal(fc.heartbeatMode(), 'AUTO.LOITER');
});

test('odometry drift and noise are deterministic for a seed', async () => {
  const flyOnce = async () => {
    const { fc, sim } = await inOffboardAt([1, 1, -2], { sensors: { driftMPerSqrtS: 0.05, seed: 7 } });
    await sim.stop();
    return { p: lastPos(fc), drift: sim.sensor.drift(), truth: sim.vehicle.truth.p_ned_m };
  };
  const a = await flyOnce();
  const b = await flyOnce();
  assert.deepEqual(a, b);
  assert.ok(Math.hypot(...a.drift) > 0.01, 'drift switched on moves the estimate');
  // The controller flies the estimate to the setpoint, so the truth is off by the drift.
  // (up to the lag of the position loop behind the moving drift).
  assert.ok(dist(a.p, [1, 1, -2]) < 0.2, `estimate at ${a.p}`);
  assert.ok(dist(a.truth, a.p.map((x, i) => x - a.drift[i]!) as Vec3) < 0.1);
});
