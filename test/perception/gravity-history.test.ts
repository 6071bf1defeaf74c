import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Vec3, VehicleState } from '../../src/core/messages.js';
import { GravityHistory } from '../../src/perception/gravity-history.js';

/** A vehicle rolled by `rollRad` (about body x), turning at `rollRate` rad/s about the same axis. */
function state(tUs: number, rollRad: number, rollRate: number | null = null): VehicleState {
  return {
    tUs, tSampleUs: tUs, p_ned_m: [0, 0, -2], v_ned_mps: [0, 0, 0],
    q_ned_body: [Math.cos(rollRad / 2), Math.sin(rollRad / 2), 0, 0],
    w_body_radps: rollRate === null ? null : [rollRate, 0, 0], source: 'sim',
  };
}
/** Gravity in the body frame of a vehicle rolled by r: NED down seen from a frame turned by r about x. */
const downRolled = (r: number): Vec3 => [0, Math.sin(r), Math.cos(r)];
const angle = (a: Vec3, b: Vec3) => Math.acos(Math.min(1, a[0] * b[0] + a[1] * b[1] + a[2] * b[2]));

describe('gravity at a capture time from the attitude history', () => {
  it('is unknown before any attitude and far from every sample', () => {
    const h = new GravityHistory(30_000);
    assert.equal(h.downAt(0), null);
    h.push(state(1_000_000, 0));
    assert.equal(h.downAt(1_100_000), null, '100 ms after the last attitude');
    assert.equal(h.downAt(900_000), null, '100 ms before the first');
    assert.deepEqual(h.downAt(1_000_000), [0, 0, 1]);
  });

  it('interpolates between the samples around the capture (a 300°/s roll moves 3° in 10 ms)', () => {
    const h = new GravityHistory();
    const rate = (300 * Math.PI) / 180;
    for (let k = 0; k <= 10; k++) h.push(state(k * 10_000, rate * k * 0.01));
    const got = h.downAt(45_000)!;
    assert.ok(angle(got, downRolled(rate * 0.045)) < 0.002, `off by ${angle(got, downRolled(rate * 0.045))} rad`);
  });

  it('carries the newest sample forward with the body rates, not as if the vehicle had stopped turning', () => {
    const rate = (300 * Math.PI) / 180;
    const withRates = new GravityHistory();
    const without = new GravityHistory();
    withRates.push(state(0, 0.3, rate));
    without.push(state(0, 0.3, null));
    const truth = downRolled(0.3 + rate * 0.02);
    assert.ok(angle(withRates.downAt(20_000)!, truth) < 0.005, 'extrapolated with ω');
    assert.ok(angle(without.downAt(20_000)!, truth) > 0.09, 'held: 6° stale');
  });

  it('ignores samples that arrive out of order', () => {
    const h = new GravityHistory();
    h.push(state(10_000, 0));
    h.push(state(5_000, 1));
    assert.deepEqual(h.downAt(10_000), [0, 0, 1]);
  });
});
