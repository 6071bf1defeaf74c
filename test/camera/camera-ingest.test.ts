import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { CameraIngest } from '../../src/camera/camera-ingest.js';
import { TopicBus } from '../../src/core/bus.js';
import { WallClock } from '../../src/core/clock.js';
import { cameraSchema, defaultRigs } from '../../src/core/config/camera.js';
import type { CameraStreamStats, FrameSet, FrameSetStats, Topics } from '../../src/core/messages.js';

const haveGst = spawnSync('gst-launch-1.0', ['--version']).status === 0;
const skip = haveGst ? false : 'gst-launch-1.0 not installed (apt-get install gstreamer1.0-tools gstreamer1.0-plugins-base)';

test('four live rigs: FrameSets of eight slots on the bus, stereo pairs always together, stats published', { skip, timeout: 30_000 }, async () => {
  // Small frames: the behaviour is the point here, the rate at full size is `racepilot bench camera`.
  const config = cameraSchema.parse({ rigs: defaultRigs.map((r) => ({ ...r, width: 64, height: 48, format: 'GRAY8' })) });
  const bus = new TopicBus<Topics>();
  const sets: FrameSet[] = [];
  const streamStats: CameraStreamStats[] = [];
  const syncStats: FrameSetStats[] = [];
  bus.subscribe('camera/frameset', (s) => sets.push(s));
  bus.subscribe('camera/stream_stats', (s) => streamStats.push(s));
  bus.subscribe('camera/sync_stats', (s) => syncStats.push(s));
  const fatal: unknown[] = [];
  const ingest = new CameraIngest({ config, clock: new WallClock(), bus, onFatal: (e) => fatal.push(e), statsIntervalUs: 300_000 });
  ingest.start();
  const end = Date.now() + 15_000;
  try {
    while (Date.now() < end) {
      await new Promise((r) => setTimeout(r, 50));
      const seen = new Set(sets.flatMap((s) => s.images.filter((i) => i !== null).map((i) => `${i!.rig}/${i!.side}`)));
      if (seen.size === 8 && syncStats.length >= 2 && sets.length >= 30) break;
    }
  } finally {
    await ingest.stop();
  }
  assert.deepEqual(fatal, []);
  assert.equal(ingest.streams.length, 4, 'one side-by-side pipeline per rig');
  const slots = ['front', 'left', 'right', 'back'].flatMap((r) => [`${r}/left`, `${r}/right`]);
  const seen = new Set<string>();
  let prevT = -Infinity;
  sets.forEach((s, k) => {
    assert.equal(s.seq, k);
    assert.equal(s.images.length, 8);
    assert.ok(s.tSampleUs > prevT, 'capture times increase');
    prevT = s.tSampleUs;
    s.images.forEach((img, i) => {
      if (img) {
        assert.equal(`${img.rig}/${img.side}`, slots[i]);
        assert.equal(img.data.length, 64 * 48);
        seen.add(slots[i]!);
      } else assert.ok(s.holes.includes(slots[i]!));
    });
    assert.ok(s.skewUs <= config.sync.maxSkewMs * 1000);
    // A side-by-side rig delivers both images of an instant at once: never one without the other.
    for (let r = 0; r < 4; r++) assert.equal(s.images[2 * r] === null, s.images[2 * r + 1] === null, `rig ${r} pair in set ${k}`);
  });
  assert.equal(seen.size, 8, `images from every camera: ${[...seen]}`);
  assert.ok(streamStats.some((s) => s.state === 'running' && s.frames > 0));
  assert.ok(syncStats.at(-1)!.sets > 0);
});
