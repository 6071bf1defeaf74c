import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BenchPerceptionResult, ModelFigures, RunFigures } from '../../src/cli/bench-perception.js';
import { jsonWithoutSeries } from '../../src/cli/bench-perception.js';
import { perceptionPicture, stallColour } from '../../src/cli/bench-perception-picture.js';
import { attribute } from '../../src/cli/stall-watch.js';

/** A run of `n` FrameSets over 10 s starting at epoch 1000 ms, with two stalls: one a GC caused, one a late timer. */
function run(n: number): RunFigures {
  const samples = Float64Array.from(Array.from({ length: 12_001 }, (_, t) => [1000 + t, 0, 0, 0, 0, -1]).flat());
  const stalls = attribute({
    stalls: [{ start: 3000, end: 3008 }, { start: 8000, end: 8012 }], gcs: [{ start: 3000, end: 3007 }], holds: [],
    samples, thresholdMs: 5, seconds: 10, attributed: true,
  });
  return {
    framesetsPerS: n / 10, latencyMs: { endToEndMs: { p50: 15, p99: 24 } }, stalls,
    trace: { startMs: 1000, seconds: 10, doneMs: Array.from({ length: n }, (_, i) => (i + 1) * (10_000 / n)), endToEndMs: Array.from({ length: n }, (_, i) => 10 + (i % 20)) },
  } as unknown as RunFigures;
}

test('the picture has a panel per model and run, a dot per FrameSet, a bar per stall coloured by whose it was', () => {
  const m = { variant: 'pruned', saturated: run(600), paced: { ...run(300), rateHz: 30 } } as unknown as ModelFigures;
  const res = {
    images: 8, width: 640, height: 480, lanes: 2, models: [m],
    idleEventLoop: { stalls: { count: 1, seconds: 30 } },
  } as unknown as BenchPerceptionResult;
  const svg = perceptionPicture(res);
  assert.match(svg, /^<svg[^>]*width="1200"/);
  assert.match(svg, /idle loop: 1 stall &gt; 5 ms in 30 s/);
  assert.match(svg, /pruned · saturated: 60 FrameSets\/s/);
  assert.match(svg, /pruned · paced 30 Hz: 30 FrameSets\/s, end to end p50 15 \/ p99 24 ms; 2 stalls &gt; 5 ms, 1 caused/);
  assert.equal(svg.match(/<circle /g)?.length, 900, 'one dot per FrameSet');
  assert.equal(svg.match(/class="stall caused"/g)?.length, 2, 'the GC stall, in both runs');
  assert.equal(svg.match(/class="stall"/g)?.length, 2, 'the late timer, in both runs');
  assert.equal(svg.match(/target p99 30 ms/g)?.length, 2);
  const [gc, late] = m.paced.stalls.all;
  assert.deepEqual([stallColour(gc!), stallColour(late!)], ['#ef6c00', '#90caf9']);
  // The GC stall began 2 s into the 10 s run: a fifth of the way along the axis (70 to 1180 px).
  assert.match(svg, new RegExp(`class="stall caused" x="${(70 + 0.2 * 1110).toFixed(1)}"`));
  // --json leaves the series out.
  const json = JSON.parse(jsonWithoutSeries({ ...res, models: [m] } as BenchPerceptionResult)) as { models: { paced: Record<string, unknown> & { stalls: Record<string, unknown> } }[] };
  assert.equal(json.models[0]!.paced.trace, undefined);
  assert.equal(json.models[0]!.paced.stalls.all, undefined);
  assert.equal(json.models[0]!.paced.stalls.caused, 1);
});
