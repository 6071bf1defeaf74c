import { test } from 'node:test';
import assert from 'node:assert/strict';
import { judgeTarget, type ModelFigures } from '../../src/cli/bench-perception.js';
import { attribute } from '../../src/cli/stall-watch.js';

/** A paced run's figures with only what the verdict reads filled in. */
function model(variant: string, o: { fps?: number; p99?: number; rateHz?: number; holds?: boolean; gc?: boolean; asleep?: boolean }): ModelFigures {
  // One 8 ms stall 100-108, the main thread running through it unless asleep.
  const samples = Float64Array.from(Array.from({ length: 301 }, (_, t) => [t, o.asleep ? 0 : Math.max(0, Math.min(t, 108) - 100), 0, o.asleep ? 0 : 1, 0, -1]).flat());
  const stalls = attribute({
    stalls: [{ start: 100, end: 108 }], gcs: o.gc ? [{ start: 100, end: 107 }] : [], holds: o.holds ? [{ start: 100, end: 106 }] : [],
    samples, thresholdMs: 5, seconds: 15, attributed: true,
  });
  const paced = { framesetsPerS: o.fps ?? 30, rateHz: o.rateHz ?? 30, latencyMs: { endToEndMs: { p50: 15, p99: o.p99 ?? 24 } }, stalls };
  return { model: `${variant}.onnx`, variant, paced } as unknown as ModelFigures;
}

test('the target is judged on the pruned model and fails on a stall perception or its GC caused', () => {
  assert.equal(judgeTarget([model('dense', { holds: true })]), null, 'no pruned model, no verdict');
  const machine = judgeTarget([model('dense', { p99: 80 }), model('pruned', { asleep: true })])!;
  assert.equal(machine.met, true, 'a late timer is the machine\'s');
  assert.deepEqual(machine.otherStalls, { onLoop: 0, waitingForCpu: 0, timerLate: 1 });
  const other = judgeTarget([model('pruned', {})])!;
  assert.equal(other.met, true);
  assert.equal(other.otherStalls.onLoop, 1, 'on the loop without perception or GC: reported, not counted');
  assert.equal(judgeTarget([model('pruned', { holds: true })])!.met, false);
  assert.equal(judgeTarget([model('pruned', { gc: true })])!.stallsCaused, 1);
  assert.equal(judgeTarget([model('pruned', { p99: 31 })])!.met, false);
  assert.equal(judgeTarget([model('pruned', { fps: 27 })])!.met, false);
  assert.equal(judgeTarget([model('pruned', { rateHz: 20, fps: 20 })])!.met, false, 'paced below the camera rate proves nothing');
});
