import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { benchPerception } from '../../src/cli/bench-perception.js';
import { configWith } from '../../src/core/config/load.js';

const MODEL = new URL('../../../models/gate-detector.onnx', import.meta.url).pathname;
const leftovers = () => readdirSync(tmpdir()).filter((f) => f.startsWith('racepilot-bench-perception-')).length;

test('bench perception runs the real path end to end, and with --record records as the daemon does, then cleans up', async () => {
  const before = leftovers();
  const config = configWith({ perception: { providers: ['cpu'] }, recording: { images: { format: 'raw', everyNth: 2 } } });
  const res = await benchPerception({ config, models: [MODEL], durationS: 0.5, distinctFramesets: 1, record: true });
  const m = res.models[0]!;
  assert.equal(m.variant, 'pruned');
  for (const run of [m.saturated, m.paced]) {
    assert.ok(run.framesets > 0, 'FrameSets came out');
    assert.ok(run.gatesPerFrameset > 0, 'the rendered gates are seen');
    assert.ok(run.latencyMs.endToEndMs.p50 > 0 && run.latencyMs.endToEndMs.p99 >= run.latencyMs.endToEndMs.p50);
    assert.equal(run.stalls.thresholdMs, 5);
  }
  // Every FrameSet and perception message of the three runs (warm-up, saturated, paced) reached the log.
  const out = m.saturated.framesets + m.paced.framesets;
  assert.ok(m.recording, 'the recording is reported');
  assert.equal(m.recording!.abortedReason, null);
  assert.ok(m.recording!.messages >= 2 * out, `${m.recording!.messages} messages recorded for at least ${out} FrameSets and as many perception messages`);
  assert.ok(m.recording!.bytes > 0);
  assert.ok(res.target, 'the pruned model gets a verdict');
  assert.equal(leftovers(), before, 'the temporary log folder is gone');
});
