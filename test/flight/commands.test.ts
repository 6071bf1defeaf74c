import { test } from 'node:test';
import assert from 'node:assert/strict';
import { common, type MavLinkData } from 'mavlink-mappings';
import { ManualClock } from '../../src/core/clock.js';
import { armParams, CommandSender, MavCmd, MavResult, px4SetModeParams, type CommandOutcome } from '../../src/flight/commands.js';

function setup(retries = 2) {
  const clock = new ManualClock();
  const sent: common.CommandLong[] = [];
  const sender = new CommandSender({
    clock,
    send: (m: MavLinkData) => sent.push(m as common.CommandLong),
    target: () => ({ targetSystem: 1, targetComponent: 1 }),
    timeoutUs: 1_000_000,
    retries,
  });
  return { clock, sent, sender };
}

test('an ACK for the command resolves it; params and target are in the COMMAND_LONG', async () => {
  const { sent, sender } = setup();
  const p = sender.send(MavCmd.COMPONENT_ARM_DISARM, armParams(true));
  assert.equal(sent.length, 1);
  assert.equal(sent[0]!.command, MavCmd.COMPONENT_ARM_DISARM);
  assert.equal(sent[0]!._param1, 1);
  assert.equal(sent[0]!.targetSystem, 1);
  assert.equal(sent[0]!.confirmation, 0);
  assert.equal(sender.handleAck({ command: MavCmd.NAV_LAND, result: MavResult.ACCEPTED }), false, 'other command ids do not match');
  assert.equal(sender.handleAck({ command: MavCmd.COMPONENT_ARM_DISARM, result: MavResult.ACCEPTED }), true);
  assert.deepEqual(await p, { command: MavCmd.COMPONENT_ARM_DISARM, ok: true, result: 'ACCEPTED', attempts: 1 });
  assert.equal(sender.pending, 0);
});

test('a refusal is an outcome, not an exception', async () => {
  const { sender } = setup();
  const p = sender.send(MavCmd.DO_SET_MODE, px4SetModeParams(6));
  sender.handleAck({ command: MavCmd.DO_SET_MODE, result: MavResult.DENIED });
  const o = await p;
  assert.equal(o.ok, false);
  assert.equal(o.result, 'DENIED');
});

test('no ACK: retries with an incremented confirmation, then TIMEOUT', async () => {
  const { clock, sent, sender } = setup(2);
  let outcome: CommandOutcome | null = null;
  void sender.send(MavCmd.NAV_LAND).then((o) => (outcome = o));
  clock.advanceTo(999_999);
  assert.equal(sent.length, 1);
  clock.advanceTo(1_000_000);
  assert.equal(sent.length, 2);
  assert.equal(sent[1]!.confirmation, 1);
  clock.advanceTo(2_000_000);
  assert.equal(sent.length, 3);
  assert.equal(sent[2]!.confirmation, 2);
  clock.advanceTo(3_000_000);
  await Promise.resolve();
  assert.equal(sent.length, 3);
  assert.deepEqual(outcome, { command: MavCmd.NAV_LAND, ok: false, result: 'TIMEOUT', attempts: 3 });
});

test('IN_PROGRESS extends the wait without resending; a late ACK after a retry still matches', async () => {
  const { clock, sent, sender } = setup(1);
  const p = sender.send(MavCmd.NAV_TAKEOFF);
  clock.advanceTo(900_000);
  sender.handleAck({ command: MavCmd.NAV_TAKEOFF, result: MavResult.IN_PROGRESS });
  clock.advanceTo(1_800_000);
  assert.equal(sent.length, 1);
  clock.advanceTo(1_900_000);
  assert.equal(sent.length, 2);
  sender.handleAck({ command: MavCmd.NAV_TAKEOFF, result: MavResult.ACCEPTED });
  assert.deepEqual(await p, { command: MavCmd.NAV_TAKEOFF, ok: true, result: 'ACCEPTED', attempts: 2 });
});

test('a second command with the same id supersedes the first; close() resolves the rest', async () => {
  const { sender } = setup();
  const a = sender.send(MavCmd.DO_SET_MODE, px4SetModeParams(3));
  const b = sender.send(MavCmd.DO_SET_MODE, px4SetModeParams(6));
  const c = sender.send(MavCmd.NAV_LAND);
  assert.equal((await a).result, 'SUPERSEDED');
  sender.handleAck({ command: MavCmd.DO_SET_MODE, result: MavResult.ACCEPTED });
  assert.equal((await b).ok, true);
  sender.close();
  assert.equal((await c).result, 'CLOSED');
});
