import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Vec3 } from '../../src/core/messages.js';
import { comparePlanners } from '../../src/planning/compare-planners.js';
import { accelerationFeasible, defaultLimits } from '../../src/planning/limits.js';
import { accelBox, axisProfile, pointMassAccel, pointMassDuration } from '../../src/planning/point-mass.js';
import { loadTrack } from '../../src/planning/track.js';
import { Prng } from '../../src/sim/render/prng.js';

const repo = (p: string) => fileURLToPath(new URL(`../../../${p}`, import.meta.url));

/** Constant-acceleration kinematics through the two phases (u for t1, then −u): independent of how u was found. */
function fly(p0: number, v0: number, T: number, u: number, t1: number): { p: number; v: number } {
  const pm = p0 + v0 * t1 + (u * t1 * t1) / 2;
  const vm = v0 + u * t1;
  const t2 = T - t1;
  return { p: pm + vm * t2 - (u * t2 * t2) / 2, v: vm - u * t2 };
}

describe('time-optimal point mass', () => {
  it('the two-phase profile reaches the end state in the time given', () => {
    const rng = new Prng(3);
    for (let k = 0; k < 50; k++) {
      const [p0, v0, p1, v1] = [rng.normal() * 10, rng.normal() * 5, rng.normal() * 10, rng.normal() * 5];
      const T = 0.5 + 3 * Math.abs(rng.normal());
      const { u, t1 } = axisProfile(p0, v0, p1, v1, T);
      assert.ok(t1 >= -1e-9 && t1 <= T + 1e-9, `t1 ${t1} of ${T}`);
      const end = fly(p0, v0, T, u, t1);
      assert.ok(Math.abs(end.p - p1) < 1e-6 && Math.abs(end.v - v1) < 1e-6, `case ${k}: ${JSON.stringify(end)} vs ${p1}, ${v1}`);
    }
  });

  it('the box fits the thrust and tilt limits, and the shortest duration is the shortest', () => {
    const box = accelBox(defaultLimits, 0.2);
    for (const a of [[box.h, box.h, -box.up], [-box.h, box.h, box.down]] as Vec3[]) assert.ok(accelerationFeasible(a, defaultLimits));
    assert.ok(!accelerationFeasible([box.h * 1.05, box.h * 1.05, box.down * 1.05], defaultLimits), 'the box is the largest');
    const from = { p: [0, 0, -2] as Vec3, v: [6, 0, 0] as Vec3 };
    const to = { p: [12, 5, -3] as Vec3, v: [0, 8, 0] as Vec3 };
    const T = pointMassDuration(from, to, box)!;
    const within = (t: number) => {
      const a = pointMassAccel(from, to, t, 0);
      const b = pointMassAccel(from, to, t, t - 1e-6);
      return [a, b].every((x) => Math.abs(x[0]) <= box.h + 1e-6 && Math.abs(x[1]) <= box.h + 1e-6 && x[2] <= box.down + 1e-6 && -x[2] <= box.up + 1e-6);
    };
    assert.ok(within(T), 'the duration found keeps every axis in the box');
    assert.ok(!within(T * 0.98), 'two percent faster does not');
  });

  it('on the straight course both planners fly; the point mass asks for a thrust jump the min-jerk plan never does', () => {
    const r = comparePlanners(loadTrack(repo('config/tracks/line.json')), defaultLimits);
    assert.ok(r.minJerk && r.pointMass);
    assert.equal(r.minJerk.gateSpeedsMps.length, r.gates);
    assert.ok(r.minJerk.maxSpeedMps <= defaultLimits.maxSpeedMps + 0.05, `min-jerk ${r.minJerk.maxSpeedMps} m/s`);
    assert.ok(r.minJerk.maxThrustTurnDeg < 15, `min-jerk thrust turns ${r.minJerk.maxThrustTurnDeg}° in 10 ms`);
    assert.ok(r.pointMass.maxThrustTurnDeg > 45, `point mass thrust turns ${r.pointMass.maxThrustTurnDeg}° in 10 ms`);
  });
});
