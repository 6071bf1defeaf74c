import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { channelMismatches, startLivePerception } from '../../src/cli/live-perception.js';
import { TopicBus } from '../../src/core/bus.js';
import { WallClock } from '../../src/core/clock.js';
import { defaultRigs } from '../../src/core/config/camera.js';
import { configWith } from '../../src/core/config/load.js';
import { createLogger } from '../../src/core/logger.js';
import type { PerceptionGates, Topics } from '../../src/core/messages.js';
import { loadTrack } from '../../src/planning/track.js';

const repo = (p: string) => fileURLToPath(new URL(`../../../${p}`, import.meta.url));
const haveGst = spawnSync('gst-launch-1.0', ['--version']).status === 0;
const skip = haveGst ? false : 'gst-launch-1.0 not installed (apt-get install gstreamer1.0-tools gstreamer1.0-plugins-base)';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { lines, log: createLogger({ level: 'info', format: 'json', stream }) };
}

// The real flight's camera edge end to end: four GStreamer rigs (videotestsrc standing in for the CSI cameras) →
// FrameSets → the perception stage with the detector in its worker → perception/gates on the bus.
test('race.cameras "live": GStreamer rigs feed the detector and perception publishes for every rig', { skip, timeout: 60_000 }, async () => {
  const config = configWith({
    race: { track: repo('config/tracks/line.json'), cameras: 'live' },
    perception: { model: repo('models/gate-detector.onnx'), providers: ['cpu'] },
    // Small frames keep the test light; SMPTE bars so that no image is rejected as black. Four free-running
    // videotestsrc pipelines are not synchronised as the CSI cameras are, so the skew allowed is half a period.
    camera: {
      rigs: defaultRigs.map((r) => ({ ...r, width: 160, height: 120, fps: 15, source: { preset: 'videotestsrc', pattern: 'smpte' } })),
      sync: { maxSkewMs: 34, timeoutMs: 60 },
    },
  });
  const { lines, log } = capture();
  const bus = new TopicBus<Topics>();
  const msgs: PerceptionGates[] = [];
  bus.subscribe('perception/gates', (m) => msgs.push(m));
  const live = await startLivePerception({ bus, clock: new WallClock(), config, track: loadTrack(config.race.track!), log });
  // Every rig's images reach the detector. (Whole eight-image FrameSets depend on how the free-running test
  // sources happen to be phased; that grouping is rig-sync's, tested in test/camera.)
  const slots = ['front', 'left', 'right', 'back'].flatMap((r) => [`${r}/left`, `${r}/right`]);
  const inferred = (slot: string) => msgs.filter((m) => m.imagesUsed > 0 && !m.rejected.some((x) => x.startsWith(`${slot}:`))).length;
  try {
    const end = Date.now() + 30_000;
    while (Date.now() < end && !slots.every((s) => inferred(s) >= 5)) await new Promise((r) => setTimeout(r, 50));
  } finally {
    await live.close();
  }
  for (const s of slots) assert.ok(inferred(s) >= 5, `${s}: inferred in ${inferred(s)} of ${msgs.length} FrameSets`);
  const used = msgs.filter((m) => m.imagesUsed > 0);
  assert.equal(used[0]!.provider, 'cpu');
  assert.ok(used.every((m) => m.timings.inferenceMs > 0 && m.tSampleUs <= m.tUs));
  assert.ok(msgs.every((m) => m.rejected.every((r) => r.endsWith(': missing'))), 'nothing but missing images rejected (no black, no bad size)');
  assert.ok(live.stats().framesets >= used.length);
  assert.ok(lines.some((l) => l.msg === 'live cameras and perception started'));
  assert.ok(!lines.some((l) => l.msg === 'perception: camera format and model input differ'), 'RGB rigs and an RGB model agree');
});

test('a rig whose format does not give the model its channels is named', () => {
  const rigs = configWith({}).camera.rigs.map((r, i) => ({ ...r, format: i === 2 ? ('GRAY8' as const) : ('RGB' as const) }));
  assert.deepEqual(channelMismatches(rigs, { path: 'm.onnx', input: { channels: 3 } as never }), [
    { rig: rigs[2]!.name, format: 'GRAY8', model: 'm.onnx', modelChannels: 3 },
  ]);
  assert.deepEqual(channelMismatches(rigs.map((r) => ({ ...r, enabled: r.format === 'RGB' })), { path: 'm.onnx', input: { channels: 3 } as never }), []);
});
