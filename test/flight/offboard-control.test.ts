import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ControlState, FcStatus } from '../../src/core/messages.js';
import { initialControl, step, streams, type ActionResult, type ControlMachine, type ControlParams } from '../../src/flight/offboard-control.js';

const P: ControlParams = { allowArm: true, allowOffboard: true, offboardWarmupUs: 1_000_000 };

function status(over: Partial<FcStatus> = {}): FcStatus {
  return {
    tUs: 0, linkUp: true, lastHeartbeatUs: 0, autopilot: 'px4', vehicleType: 'QUADROTOR', systemId: 1, mode: 'POSCTL',
    externalControl: false, armed: false, batteryV: null, batteryRemaining: null, ...over,
  };
}

class Driver {
  m: ControlMachine = initialControl(0);
  t = 0;
  actions: string[] = [];
  messages: string[] = [];
  constructor(public st: FcStatus, public p: ControlParams = P) {}
  step(opts: { start?: boolean; stop?: boolean; results?: ActionResult[]; dtUs?: number } = {}): ControlState {
    this.t += opts.dtUs ?? 20_000;
    const r = step(this.m, { status: { ...this.st, tUs: this.t }, start: opts.start ?? false, stop: opts.stop ?? false, results: opts.results ?? [] }, this.t, this.p);
    this.m = r.state;
    this.actions.push(...r.actions.map((a) => a.kind));
    this.messages.push(...r.events.map((e) => e.message));
    for (const e of r.events) if (e.kind === 'control_state') assert.ok(e.message.includes(':'), 'every transition has a reason');
    return this.m.state;
  }
}

function flyPx4ToControl(): Driver {
  const d = new Driver(status());
  assert.equal(d.step({ start: true }), 'waiting_link');
  assert.equal(d.step(), 'warmup');
  assert.ok(streams('warmup'));
  for (let i = 0; i < 49; i++) assert.equal(d.step(), 'warmup', 'streams for the whole warm-up');
  assert.deepEqual(d.actions, []);
  assert.equal(d.step(), 'arming');
  assert.deepEqual(d.actions, ['arm']);
  assert.equal(d.step({ results: [{ action: 'arm', ok: true, result: 'ACCEPTED' }] }), 'arming');
  d.st = { ...d.st, armed: true };
  assert.equal(d.step(), 'requesting_mode');
  assert.deepEqual(d.actions, ['arm', 'set_mode']);
  d.st = { ...d.st, mode: 'OFFBOARD', externalControl: true };
  assert.equal(d.step({ results: [{ action: 'set_mode', ok: true, result: 'ACCEPTED' }] }), 'in_control');
  return d;
}

test('PX4: start → warm-up for offboardWarmup → arm → OFFBOARD → in control', () => {
  const d = flyPx4ToControl();
  assert.ok(d.t - 40_000 >= 1_000_000, 'mode requested only after the warm-up');
});

test('nothing happens without a start, or with allowOffboard false; without allowArm it waits for the pilot', () => {
  const a = new Driver(status());
  for (let i = 0; i < 100; i++) a.step();
  assert.equal(a.m.state, 'idle');
  const b = new Driver(status(), { ...P, allowOffboard: false });
  for (let i = 0; i < 100; i++) b.step({ start: i === 0 });
  assert.equal(b.m.state, 'idle');
  assert.deepEqual(b.actions, []);
  assert.equal(b.messages.filter((m) => /allowOffboard is false/.test(m)).length, 1, 'warned once, not at 50 Hz');
  const c = new Driver(status(), { ...P, allowArm: false });
  for (let i = 0; i < 100; i++) c.step({ start: i === 0 });
  assert.equal(c.m.state, 'arming');
  assert.deepEqual(c.actions, [], 'never arms when allowArm is false');
  c.st = { ...c.st, armed: true }; // the pilot arms
  assert.equal(c.step(), 'requesting_mode');
});

test('a pilot switching away from OFFBOARD keeps the vehicle for good', () => {
  const d = flyPx4ToControl();
  d.st = { ...d.st, mode: 'POSCTL', externalControl: false };
  assert.equal(d.step(), 'pilot_override');
  assert.ok(!streams('pilot_override'));
  d.st = { ...d.st, mode: 'OFFBOARD', externalControl: true };
  const n = d.actions.length;
  for (let i = 0; i < 100; i++) d.step({ start: true });
  assert.equal(d.m.state, 'pilot_override');
  assert.equal(d.actions.length, n, 'no command after an override');
  d.step({ stop: true });
  assert.equal(d.m.state, 'pilot_override', 'even a stop does not command a vehicle that is the pilot\'s');
});

test('link loss is reported; on return still in OFFBOARD control resumes, otherwise it is not taken back', () => {
  const d = flyPx4ToControl();
  d.st = { ...d.st, linkUp: false };
  assert.equal(d.step(), 'link_lost');
  assert.ok(d.messages.some((m) => /no longer trusted/.test(m)));
  d.st = { ...d.st, linkUp: true };
  assert.equal(d.step(), 'in_control');
  d.st = { ...d.st, linkUp: false };
  d.step();
  d.st = { ...d.st, linkUp: true, mode: 'AUTO.LAND', externalControl: false };
  assert.equal(d.step(), 'pilot_override');
});

test('stop in control: land, then done once disarmed', () => {
  const d = flyPx4ToControl();
  assert.equal(d.step({ stop: true }), 'landing');
  assert.equal(d.actions.at(-1), 'land');
  d.st = { ...d.st, mode: 'AUTO.LAND', externalControl: false };
  assert.equal(d.step({ results: [{ action: 'land', ok: true, result: 'ACCEPTED' }] }), 'landing', 'leaving OFFBOARD for LAND is not an override');
  d.st = { ...d.st, armed: false };
  assert.equal(d.step(), 'done');
});

test('a refused arm fails; a refused OFFBOARD after we armed lands', () => {
  const a = new Driver(status());
  for (let i = 0; i < 60 && a.m.state !== 'arming'; i++) a.step({ start: i === 0 });
  assert.equal(a.step({ results: [{ action: 'arm', ok: false, result: 'DENIED' }] }), 'failed');
  const b = new Driver(status());
  for (let i = 0; i < 60 && b.m.state !== 'arming'; i++) b.step({ start: i === 0 });
  b.st = { ...b.st, armed: true };
  b.step({ results: [{ action: 'arm', ok: true, result: 'ACCEPTED' }] });
  assert.equal(b.step({ results: [{ action: 'set_mode', ok: false, result: 'TIMEOUT' }] }), 'failed');
  assert.equal(b.actions.at(-1), 'land');
});

test('ArduPilot: GUIDED first, then arm and take off', () => {
  const d = new Driver(status({ autopilot: 'ardupilot', mode: 'LOITER' }));
  d.step({ start: true });
  assert.equal(d.step(), 'requesting_mode');
  assert.deepEqual(d.actions, ['set_mode']);
  d.st = { ...d.st, mode: 'GUIDED', externalControl: true };
  assert.equal(d.step({ results: [{ action: 'set_mode', ok: true, result: 'ACCEPTED' }] }), 'arming');
  d.st = { ...d.st, armed: true };
  assert.equal(d.step({ results: [{ action: 'arm', ok: true, result: 'ACCEPTED' }] }), 'in_control');
  assert.deepEqual(d.actions, ['set_mode', 'arm', 'takeoff']);
});

test('an unknown autopilot is never taken over', () => {
  const d = new Driver(status({ autopilot: 'generic' }));
  d.step({ start: true });
  assert.equal(d.step(), 'failed');
  assert.deepEqual(d.actions, []);
});
