import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { GstStream, restartDelayS } from '../../src/camera/gstreamer-source.js';
import { rigStreams, type PresetOptions } from '../../src/camera/presets.js';
import { WallClock } from '../../src/core/clock.js';
import { rigSchema, defaultRigs, type RigConfig } from '../../src/core/config/camera.js';
import { ConfigError, type RacepilotError } from '../../src/core/errors.js';
import type { CameraImage, CameraStreamStats } from '../../src/core/messages.js';

const haveGst = spawnSync('gst-launch-1.0', ['--version']).status === 0;
const skip = haveGst ? false : 'gst-launch-1.0 not installed (apt-get install gstreamer1.0-tools gstreamer1.0-plugins-base)';

function rig(over: Partial<RigConfig> & Record<string, unknown>): RigConfig {
  return rigSchema.parse({ ...defaultRigs[0], width: 64, height: 48, format: 'GRAY8', ...over });
}

function streamFor(r: RigConfig, preset: PresetOptions, extra: Partial<ConstructorParameters<typeof GstStream>[0]> = {}) {
  const images: CameraImage[][] = [];
  const fatal: RacepilotError[] = [];
  const stats: CameraStreamStats[] = [];
  const s = new GstStream({
    spec: rigStreams(r, 0, preset)[0]!,
    clock: new WallClock(),
    onImages: (imgs) => images.push(imgs.map((i) => ({ ...i, data: Uint8Array.from(i.data) }))),
    onFatal: (e) => fatal.push(e),
    onStats: (st) => stats.push(st),
    statsIntervalUs: 200_000,
    restart: { initialS: 0.05, maxS: 0.5 },
    ...extra,
  });
  return { s, images, fatal, stats };
}

async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('videotestsrc side-by-side: exact frame count, size, and a correct left/right split', { skip, timeout: 20_000 }, async () => {
  const r = rig({ source: { preset: 'videotestsrc', pattern: 'white', rightPattern: 'black' } });
  const { s, images, fatal } = streamFor(r, { live: false, numBuffers: 7 }, { restartOnEnd: false });
  s.start();
  await s.whenEnded();
  assert.deepEqual(fatal, []);
  assert.equal(images.length, 7);
  images.forEach((pair, k) => {
    assert.equal(pair.length, 2);
    const [l, rr] = pair as [CameraImage, CameraImage];
    assert.equal(l.side, 'left');
    assert.equal(rr.side, 'right');
    assert.equal(l.seq, k);
    for (const img of pair) {
      assert.equal(img.width, 64);
      assert.equal(img.height, 48);
      assert.equal(img.data.length, 64 * 48);
      assert.equal(img.format, 'GRAY8');
      assert.equal(img.rig, 'front');
    }
    assert.ok(l.data.every((v) => v > 200), 'left image is all white');
    assert.ok(rr.data.every((v) => v < 40), 'right image is all black');
    assert.equal(l.tSampleUs, l.tUs, 'no latency configured');
  });
});

test('videotestsrc RGB pair with different patterns splits per pixel', { skip, timeout: 20_000 }, async () => {
  const r = rig({ format: 'RGB', source: { preset: 'videotestsrc', pattern: 'red', rightPattern: 'blue' } });
  const { s, images } = streamFor(r, { live: false, numBuffers: 2 }, { restartOnEnd: false });
  s.start();
  await s.whenEnded();
  assert.equal(images.length, 2);
  const [l, rr] = images[0]!;
  assert.equal(l!.data.length, 64 * 48 * 3);
  for (let i = 0; i < 64 * 48; i++) {
    assert.ok(l!.data[3 * i]! > 200 && l!.data[3 * i + 2]! < 40, `left pixel ${i} red`);
    assert.ok(rr!.data[3 * i]! < 40 && rr!.data[3 * i + 2]! > 200, `right pixel ${i} blue`);
  }
});

test('a live 30 fps source delivers roughly 30 frames per second of its own timestamps', { skip, timeout: 20_000 }, async () => {
  const r = rig({ fps: 30, pipelineLatencyMs: 20 });
  const { s, images } = streamFor(r, { live: true }, { latencyUs: 20_000 });
  s.start();
  try {
    await until(() => images.length > 0 && images.at(-1)![0]!.tUs - images[0]![0]!.tUs >= 1e6, 10_000, 'a second of frames');
  } finally {
    await s.stop();
  }
  const t0 = images[0]![0]!.tSampleUs;
  const inSecond = images.filter((p) => p[0]!.tSampleUs - t0 < 1e6).length;
  assert.ok(inSecond >= 15 && inSecond <= 45, `${inSecond} frames in one second`);
  assert.equal(images[0]![0]!.tUs - images[0]![0]!.tSampleUs, 20_000, 'latency subtracted');
});

test('a pipeline killed mid-stream is restarted and the gap reported', { skip, timeout: 30_000 }, async () => {
  const r = rig({ fps: 30 });
  const { s, images, stats } = streamFor(r, { live: true });
  s.start();
  try {
    await until(() => images.length >= 5, 10_000, 'first frames');
    const pid = s.pid!;
    assert.ok(pid > 0);
    process.kill(pid, 'SIGKILL');
    const before = images.length;
    await until(() => images.length >= before + 5 && s.pid !== pid, 15_000, 'frames after the restart');
  } finally {
    await s.stop();
  }
  const st = s.stats();
  assert.equal(st.restarts, 1);
  assert.ok(st.maxGapUs >= 50_000, `gap of ${st.maxGapUs} µs reported`);
  assert.ok(st.dropped >= 1, `dropped ${st.dropped}`);
  assert.ok(st.late >= 1);
  assert.match(st.lastError ?? '', /SIGKILL/);
  assert.ok(stats.some((x) => x.state === 'restarting' || x.restarts === 1), 'stats published during the run');
  // Sequence numbers continue across the restart.
  images.forEach((p, k) => assert.equal(p[0]!.seq, k));
});

test('a bad pipeline string is a configuration error naming the rig, not a restart loop', { skip, timeout: 20_000 }, async () => {
  const r = rig({ name: 'back', source: { preset: 'custom', layout: 'side-by-side', pipelines: ['videotestsrc ! nosuchelement_xyz'] } });
  const { s, fatal, images } = streamFor(r, {});
  s.start();
  await s.whenEnded();
  assert.equal(images.length, 0);
  assert.equal(fatal.length, 1);
  assert.ok(fatal[0] instanceof ConfigError);
  assert.match(fatal[0]!.message, /camera rig "back" \(camera\.rigs\[0\]\.source\)/);
  assert.match(fatal[0]!.message, /nosuchelement_xyz/);
  assert.equal(s.stats().state, 'failed');
  assert.equal(s.stats().restarts, 0);
});

test('a stalled pipeline (frames far slower than configured) is killed and restarted', { skip, timeout: 30_000 }, async () => {
  // Configured 30 fps, the pipeline delivers 2 fps: after 5 periods (~170 ms) without a frame it counts as stalled.
  const r = rig({
    fps: 30,
    source: {
      preset: 'custom',
      layout: 'side-by-side',
      pipelines: ['videotestsrc is-live=true ! video/x-raw,format=GRAY8,width=128,height=48,framerate=2/1'],
    },
  });
  const { s, images } = streamFor(r, {}, { stallPeriods: 5 });
  s.start();
  try {
    await until(() => s.stats().restarts >= 1 && images.length >= 2, 20_000, 'a stall restart');
  } finally {
    await s.stop();
  }
  assert.match(s.stats().lastError ?? '', /stalled/);
});

test('a pipeline that fails at run time (missing device) is retried, not given up', { skip, timeout: 30_000 }, async () => {
  const r = rig({ name: 'left', source: { preset: 'custom', layout: 'side-by-side', pipelines: ['filesrc location=/nonexistent/racepilot-camera'] } });
  const { s, fatal } = streamFor(r, {}, { restart: { initialS: 0.05, maxS: 0.4 } });
  s.start();
  try {
    await until(() => s.stats().restarts >= 4, 20_000, 'four restarts');
  } finally {
    await s.stop();
  }
  assert.deepEqual(fatal, [], 'a run-time failure is not a configuration error');
  assert.match(s.stats().lastError ?? '', /pipeline ended \(exit \d+\): from element .*filesrc.*Resource not found/);
});

test('restart backoff doubles from the initial delay up to the cap', () => {
  const r = { initialS: 0.2, maxS: 5 };
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5, 6].map((n) => restartDelayS(n, r)),
    [0.2, 0.4, 0.8, 1.6, 3.2, 5, 5],
  );
});
