import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { rigCameras, type RigCamera } from '../../src/camera/rig.js';
import { TopicBus } from '../../src/core/bus.js';
import { ManualClock } from '../../src/core/clock.js';
import { defaultRigs, rigSchema } from '../../src/core/config/camera.js';
import { perceptionSchema } from '../../src/core/config/perception.js';
import { createLogger } from '../../src/core/logger.js';
import type { CameraImage, PerceptionGates } from '../../src/core/messages.js';
import { BatchPreprocessor } from '../../src/perception/batch-preprocess.js';
import { DetectorSession } from '../../src/perception/detector-session.js';
import type { ModelInfo } from '../../src/perception/model-info.js';
import { PerceptionStage, type Detector } from '../../src/perception/perception-stage.js';
import { Preprocessor } from '../../src/perception/preprocess.js';
import { matFromQuat, rotationAngle } from '../../src/perception/rotation.js';
import { Prng } from '../../src/sim/render/prng.js';
import { Renderer } from '../../src/sim/render/renderer.js';
import { buildScene } from '../../src/sim/render/scene.js';
import { banked, detection, facingGate, frameSet, renderImages, truthInBody, type Vehicle } from './rendered-truth.js';

const MODEL = fileURLToPath(new URL('../../../models/gate-detector.onnx', import.meta.url));
const cfg = perceptionSchema.parse({ model: MODEL, providers: ['cpu'], cpu: { intraOpThreads: 1 } });
const log = createLogger({ level: 'silent' });
const scene = buildScene({ seed: 11, courseGates: 5 });
const gate = scene.gates[1]!;
const cams = rigCameras(rigSchema.parse({ ...defaultRigs[0], format: 'RGB' }), 0);
const renderers = cams.map((c) => new Renderer(scene, c.model, 3));

/**
 * A detector that answers with the network output an ideal model would give for the true corners (centre peak,
 * corner offsets and corner heatmaps in the metadata's layout), so the stage's decoding and geometry are checked
 * against known truth independently of how well the current model is trained.
 */
class TruthDetector implements Detector {
  readonly provider = 'truth';
  /** Per batch image: the corners to encode (image pixels), in batch order. */
  script: ([number, number][] | null)[] = [];
  constructor(readonly info: ModelInfo, private readonly imageSize: { w: number; h: number }) {}
  async run(input: Float32Array, batch: number): Promise<Float32Array> {
    assert.equal(input.length, batch * this.info.input.channels * this.info.input.width * this.info.input.height);
    const { width: W, height: H, stride: S } = this.info.layout;
    const plane = W * H;
    const out = new Float32Array(batch * 13 * plane);
    const sx = this.imageSize.w / this.info.input.width;
    const sy = this.imageSize.h / this.info.input.height;
    for (let b = 0; b < batch; b++) {
      const q = this.script[b];
      if (!q) continue;
      const base = b * 13 * plane;
      const pin = q.map(([x, y]) => [x / sx, y / sy] as const);
      const cx = pin.reduce((s, p) => s + p[0], 0) / 4;
      const cy = pin.reduce((s, p) => s + p[1], 0) / 4;
      const gx = Math.min(W - 1, Math.max(0, Math.floor(cx / S)));
      const gy = Math.min(H - 1, Math.max(0, Math.floor(cy / S)));
      out[base + gy * W + gx] = 0.9;
      const area = Math.abs(pin.reduce((a, p, i) => { const n = pin[(i + 1) % 4]!; return a + p[0] * n[1] - n[0] * p[1]; }, 0)) / 2;
      const csig = Math.max(0.6, Math.min(2, Math.sqrt(area) / S / 10));
      pin.forEach(([x, y], k) => {
        out[base + (1 + 2 * k) * plane + gy * W + gx] = x - (gx * S + S / 2);
        out[base + (2 + 2 * k) * plane + gy * W + gx] = y - (gy * S + S / 2);
        // The corner heatmap as training teaches it (models/gatedet/data.py `targets`): a Gaussian around the exact
        // sub-cell position, its nearest cell set to 1.
        const kx = x / S - 0.5;
        const ky = y / S - 0.5;
        for (let dy = -2; dy <= 2; dy++) for (let dx = -2; dx <= 2; dx++) {
          const u = Math.round(kx) + dx;
          const v = Math.round(ky) + dy;
          const val = dx === 0 && dy === 0 ? 1 : Math.exp(-((u - kx) ** 2 + (v - ky) ** 2) / (2 * csig * csig));
          if (u >= 0 && v >= 0 && u < W && v < H) out[base + (9 + k) * plane + v * W + u] = val;
        }
      });
    }
    return out;
  }
}

let session: DetectorSession;
let pre: BatchPreprocessor;
before(async () => {
  session = await DetectorSession.open(cfg, log);
  pre = new BatchPreprocessor(session.info.input, 8);
});
after(async () => {
  await pre.close();
  await session.close();
});

function truthFrame(det: TruthDetector, v: Vehicle, seed: number) {
  const rng = new Prng(seed);
  det.script = cams.map((c: RigCamera) => {
    const d = detection(c, gate, v, rng, 0.3);
    return d ? d.corners.map((p) => [p[0], p[1]] as [number, number]) : null;
  });
  return frameSet(renderImages(renderers, cams, v, 1000), 1000, seed);
}

describe('perception stage', () => {
  it('the worker batch equals the training preprocessing, for RGB and for gray cameras (replicated to RGB)', async () => {
    const rng = new Prng(3);
    const rgb = { width: 64, height: 48, channels: 3 as const, data: Uint8Array.from({ length: 64 * 48 * 3 }, () => Math.floor(rng.next() * 256)) };
    const gray = { width: 80, height: 60, channels: 1 as const, data: Uint8Array.from({ length: 80 * 60 }, () => Math.floor(rng.next() * 256)) };
    const b = await pre.run([rgb, gray]);
    const ref = new Preprocessor(session.info.input);
    const want = ref.allocate(2);
    ref.into(rgb, want, 0);
    const grayAsRgb = { ...gray, channels: 3 as const, data: Uint8Array.from({ length: 80 * 60 * 3 }, (_, i) => gray.data[Math.floor(i / 3)]!) };
    ref.into(grayAsRgb, want, 1);
    assert.equal(b.tensor.length, want.length);
    let maxErr = 0;
    for (let i = 0; i < want.length; i++) maxErr = Math.max(maxErr, Math.abs(b.tensor[i]! - want[i]!));
    assert.ok(maxErr < 1e-4, `max difference ${maxErr}`);
    assert.deepEqual(b.scales, [{ sx: 64 / session.info.input.width, sy: 48 / session.info.input.height }, { sx: 80 / session.info.input.width, sy: 60 / session.info.input.height }]);
    b.release();
  });

  it('pixels are copied one image per turn of the event loop, none before run() returns (the loop never holds a whole FrameSet)', async () => {
    const img = () => ({ width: 64, height: 48, channels: 3 as const, data: new Uint8Array(64 * 48 * 3).fill(10) });
    const images = [img(), img(), img()];
    const pending = pre.run(images);
    // Written after run() returned: the copy has not started, so the batch shows these values.
    images.forEach((im, k) => im.data.fill(50 + 50 * k));
    const b = await pending;
    const ref = new Preprocessor(session.info.input);
    const want = ref.allocate(3);
    images.forEach((im, k) => ref.into(im, want, k));
    let maxErr = 0;
    for (let i = 0; i < want.length; i++) maxErr = Math.max(maxErr, Math.abs(b.tensor[i]! - want[i]!));
    assert.ok(maxErr < 1e-4, `max difference ${maxErr}`);
    assert.ok(b.copyMaxSliceMs <= b.copyMs + 1e-9);
    b.release();
  });

  it('rendered FrameSets through preprocessing, decoding and geometry give the true gate poses (distortion on)', async () => {
    const det = new TruthDetector(session.info, { w: cams[0]!.model.width, h: cams[0]!.model.height });
    const clock = new ManualClock('sim', 2000);
    const stage = new PerceptionStage({ cfg, cameras: cams, lanes: [{ detector: det, pre }], clock, log });
    for (const [k, [d, off, up]] of ([[5, 0, 0.6], [8, 1, 0.5], [10, -1.5, 0.8]] as const).entries()) {
      const v = facingGate(gate, d, off, up);
      const msg = await stage.process(truthFrame(det, v, k + 1));
      assert.equal(msg.gates.length, 1, JSON.stringify(msg.rejected));
      const g = msg.gates[0]!;
      const truth = truthInBody(gate, v);
      const D = Math.hypot(...truth.p_body_m);
      const e = Math.hypot(g.p_body_m[0] - truth.p_body_m[0], g.p_body_m[1] - truth.p_body_m[1], g.p_body_m[2] - truth.p_body_m[2]) / D;
      assert.ok(e < 0.03, `d=${d}: ${(100 * e).toFixed(2)}% of ${D.toFixed(1)} m`);
      assert.ok(rotationAngle(matFromQuat(g.q_body_gate), truth.R_body_gate) < (5 * Math.PI) / 180);
      assert.equal(g.rig, 'front');
      assert.deepEqual(g.seenBy, ['left', 'right']);
      assert.equal(msg.tSampleUs, 1000);
      assert.equal(msg.tUs, 2000);
      assert.equal(msg.timings.endToEndMs, 1);
      assert.equal(msg.imagesUsed, 2);
      assert.equal(msg.provider, 'truth');
    }
    // Buffers are reused, not made anew per FrameSet.
    assert.ok(pre.idleBuffers <= 2, `idle buffer pairs ${pre.idleBuffers}`);
  });

  it('the attitude on fc/vehicle_state gives a far gate its upright prior (banked 20°, 14 m)', async () => {
    const det = new TruthDetector(session.info, { w: cams[0]!.model.width, h: cams[0]!.model.height });
    const v = banked(facingGate(gate, 14, 0.5, 0.6, 0.1), 20);
    const run = async (withAttitude: boolean) => {
      const stage = new PerceptionStage({ cfg, cameras: cams, lanes: [{ detector: det, pre }], clock: new ManualClock('sim', 2000), log });
      const bus = new TopicBus();
      const detach = stage.attach(bus);
      const R = v.R_ned_body;
      // The body attitude as the flight controller reports it (quaternion body → NED), sampled at the capture.
      const w = Math.sqrt(Math.max(0, 1 + R[0] + R[4] + R[8])) / 2;
      const q: [number, number, number, number] = [w, (R[7] - R[5]) / (4 * w), (R[2] - R[6]) / (4 * w), (R[3] - R[1]) / (4 * w)];
      if (withAttitude) bus.publish('fc/vehicle_state', { tUs: 1000, tSampleUs: 1000, p_ned_m: v.p_ned_m, v_ned_mps: [0, 0, 0], q_ned_body: q, w_body_radps: [0, 0, 0], source: 'sim' });
      const msg = await stage.process(truthFrame(det, v, 41));
      detach();
      assert.equal(msg.gates.length, 1, JSON.stringify(msg.rejected));
      const g = msg.gates[0]!;
      return { err: rotationAngle(matFromQuat(g.q_body_gate), truthInBody(gate, v).R_body_gate) * (180 / Math.PI), sigma: g.sigmaRot_rad };
    };
    const without = await run(false);
    const aided = await run(true);
    assert.ok(aided.err < 5, `orientation error with the attitude ${aided.err.toFixed(2)}°`);
    assert.ok(aided.sigma < without.sigma / 1.5, `σ ${aided.sigma} with the attitude vs ${without.sigma} without`);
  });

  it('bad input is named, counted and never crashes nor makes a gate (real model)', async () => {
    const clock = new ManualClock('sim', 0);
    const stage = new PerceptionStage({ cfg, cameras: cams, lanes: [{ detector: session, pre }], clock, log });
    const v = facingGate(gate, 6, 0, 0.6);
    const good = renderImages(renderers, cams, v, 0);
    const fill = (img: CameraImage, value: number): CameraImage => ({ ...img, data: new Uint8Array(img.data.length).fill(value) });
    const cases: { images: (CameraImage | null)[]; want: RegExp[] }[] = [
      { images: [null, null], want: [/front\/left: missing/, /front\/right: missing/] },
      { images: [fill(good[0]!, 0), fill(good[1]!, 2)], want: [/front\/left: black/, /front\/right: black/] },
      { images: [fill(good[0]!, 255), fill(good[1]!, 254)], want: [/front\/left: saturated/, /front\/right: saturated/] },
      {
        images: [{ ...good[0]!, width: 320, height: 240, data: good[0]!.data.subarray(0, 320 * 240 * 3) }, { ...good[1]!, data: good[1]!.data.subarray(0, 100) }],
        want: [/front\/left: 320x240 RGB .*calibrated for 640x480/, /front\/right: 640x480 RGB \(100 bytes\)/],
      },
      { images: [null, fill(good[1]!, 0)], want: [/front\/left: missing/, /front\/right: black/] },
    ];
    for (const c of cases) {
      const msg = await stage.process(frameSet(c.images, 0, 1));
      assert.equal(msg.gates.length, 0, `no gate from ${msg.rejected}`);
      assert.equal(msg.rejected.length, 2, JSON.stringify(msg.rejected));
      c.want.forEach((re, i) => assert.match(msg.rejected[i]!, re));
    }
    assert.deepEqual(
      [stage.stats.imagesMissing, stage.stats.imagesBlind, stage.stats.imagesBadSize, stage.stats.imagesInferred, stage.stats.framesets],
      [3, 5, 2, 0, 5],
    );
    // A good FrameSet after all that still runs, with the real model, and every gate it reports is a finite pose.
    const msg = await stage.process(frameSet(good, 0, 6));
    assert.equal(msg.rejected.length, 0);
    assert.equal(msg.provider, 'cpu');
    for (const g of msg.gates) assert.ok(g.p_body_m.every(Number.isFinite) && g.range_m > 0.2 && g.range_m < 200);
  });

  it('two lanes share a FrameSet and give the message one lane gives (ideal outputs, then the real model)', async () => {
    const det = new TruthDetector(session.info, { w: cams[0]!.model.width, h: cams[0]!.model.height });
    const v = facingGate(gate, 8, 0.7, 0.6);
    const fs = truthFrame(det, v, 23);
    const oneLane = await new PerceptionStage({ cfg, cameras: cams, lanes: [{ detector: det, pre }], clock: new ManualClock('sim', 2000), log }).process(fs);
    assert.equal(oneLane.gates.length, 1, JSON.stringify(oneLane.rejected));
    // Each lane's ideal detector encodes only its own share: the left image goes to lane 0, the right to lane 1.
    const left = new TruthDetector(session.info, { w: cams[0]!.model.width, h: cams[0]!.model.height });
    const right = new TruthDetector(session.info, { w: cams[0]!.model.width, h: cams[0]!.model.height });
    [left.script, right.script] = [det.script.slice(0, 1), det.script.slice(1, 2)];
    const pre2 = new BatchPreprocessor(session.info.input, 1);
    const session2 = await DetectorSession.open(cfg, log);
    try {
      const twoLanes = await new PerceptionStage({
        cfg, cameras: cams, lanes: [{ detector: left, pre }, { detector: right, pre: pre2 }], clock: new ManualClock('sim', 2000), log,
      }).process(fs);
      assert.deepEqual(twoLanes.gates, oneLane.gates);
      assert.deepEqual(twoLanes.rejected, oneLane.rejected);

      // The real network, one session per lane: the same gates as one lane running the batch of two (ONNX Runtime
      // computes each image of a batch alone, so the figures agree to float rounding).
      const good = renderImages(renderers, cams, v, 0);
      const real1 = await new PerceptionStage({ cfg, cameras: cams, lanes: [{ detector: session, pre }], clock: new ManualClock('sim', 0), log })
        .process(frameSet(good, 0, 1));
      const stage2 = new PerceptionStage({ cfg, cameras: cams, lanes: [{ detector: session, pre }, { detector: session2, pre: pre2 }], clock: new ManualClock('sim', 0), log });
      const real2 = await stage2.process(frameSet(good, 0, 1));
      assert.ok(real1.gates.length >= 1, 'the real model sees the gate at 8 m');
      assert.equal(real2.gates.length, real1.gates.length);
      real2.gates.forEach((g, i) => {
        const h = real1.gates[i]!;
        assert.deepEqual([g.rig, g.seenBy], [h.rig, h.seenBy]);
        for (let k = 0; k < 3; k++) assert.ok(Math.abs(g.p_body_m[k]! - h.p_body_m[k]!) < 1e-3, `${g.p_body_m} vs ${h.p_body_m}`);
      });
      // A saturated right image: lane 1's share is rejected by name, lane 0's left image still inferred.
      const sat = await stage2.process(frameSet([good[0]!, { ...good[1]!, data: new Uint8Array(good[1]!.data.length).fill(255) }], 0, 2));
      assert.deepEqual(sat.rejected.map((r) => r.split(' (')[0]), ['front/right: saturated']);
      assert.equal(sat.imagesUsed, 1);
      // A missing left image: one image, so one share, on lane 0.
      const miss = await stage2.process(frameSet([null, good[1]!], 0, 3));
      assert.deepEqual(miss.rejected, ['front/left: missing']);
      assert.equal(miss.imagesUsed, 1);
      assert.equal(stage2.stats.imagesInferred, 2 + 1 + 1);
    } finally {
      await pre2.close();
      await session2.close();
    }
  });

  it('lanes finishing out of turn: messages still come out in FrameSet order, and a failed lane is waited for', async () => {
    // Lane 1 answers only when told; lane 0 at once. FrameSet 0 uses both lanes, FrameSet 1 (left image only) lane
    // 0 alone, so it is done first, and must still be published second.
    class HeldDetector implements Detector {
      readonly provider = 'truth';
      held: (() => void)[] = [];
      fail = false;
      constructor(readonly inner: TruthDetector) {}
      get info() { return this.inner.info; }
      run(input: Float32Array, batch: number): Promise<Float32Array> {
        return new Promise((resolve, reject) => this.held.push(() => (this.fail ? reject(new Error('lane 1 died')) : resolve(this.inner.run(input, batch)))));
      }
    }
    const size = { w: cams[0]!.model.width, h: cams[0]!.model.height };
    const det = new TruthDetector(session.info, size);
    const fs = truthFrame(det, facingGate(gate, 7, 0, 0.6), 31);
    const lane0 = new TruthDetector(session.info, size);
    lane0.script = det.script.slice(0, 1);
    const lane1 = new HeldDetector(new TruthDetector(session.info, size));
    lane1.inner.script = det.script.slice(1, 2);
    const pre2 = new BatchPreprocessor(session.info.input, 1);
    try {
      const stage = new PerceptionStage({ cfg, cameras: cams, lanes: [{ detector: lane0, pre }, { detector: lane1, pre: pre2 }], clock: new ManualClock('sim', 0), log });
      const bus = new TopicBus();
      const got: number[] = [];
      bus.subscribe('perception/gates', (m) => got.push(m.framesetSeq));
      const detach = stage.attach(bus);
      bus.publish('camera/frameset', { ...fs, seq: 0 });
      bus.publish('camera/frameset', { ...fs, seq: 1, images: [fs.images[0]!, null] });
      while (lane1.held.length === 0) await new Promise((r) => setImmediate(r));
      for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r)); // FrameSet 1 is done with lane 0 by now
      assert.deepEqual(got, [], 'nothing published while FrameSet 0 waits for lane 1');
      lane1.held.shift()!();
      while (got.length < 2) await new Promise((r) => setImmediate(r));
      assert.deepEqual(got, [0, 1]);

      // Lane 1 fails: the FrameSet fails, but only once lane 0 is out of its inference too, so idle() means idle.
      const slow = new HeldDetector(new TruthDetector(session.info, size));
      slow.inner.script = det.script.slice(0, 1);
      lane1.fail = true;
      const stage2 = new PerceptionStage({ cfg, cameras: cams, lanes: [{ detector: slow, pre }, { detector: lane1, pre: pre2 }], clock: new ManualClock('sim', 0), log });
      const job = stage2.process({ ...fs, seq: 2 });
      let settled = false;
      const outcome = job.then(() => 'published', (e: Error) => e.message).finally(() => (settled = true));
      while (lane1.held.length === 0 || slow.held.length === 0) await new Promise((r) => setImmediate(r));
      lane1.held.shift()!();
      let idle = false;
      const idled = stage2.idle().then(() => (idle = true));
      for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
      assert.equal(settled, false, 'the FrameSet waits for its other lane');
      assert.equal(idle, false, 'not idle while lane 0 is inferring');
      slow.held.shift()!();
      assert.equal(await outcome, 'lane 1 died');
      await idled;
      assert.equal(idle, true);
      detach();
    } finally {
      await pre2.close();
    }
  });

  it('on the bus: one perception/gates message per processed FrameSet; FrameSets beyond two in flight are skipped', async () => {
    const det = new TruthDetector(session.info, { w: 640, h: 480 });
    const bus = new TopicBus();
    const stage = new PerceptionStage({ cfg, cameras: cams, lanes: [{ detector: det, pre }], clock: new ManualClock('sim', 0), log });
    const got: PerceptionGates[] = [];
    bus.subscribe('perception/gates', (m) => got.push(m));
    stage.attach(bus);
    const v = facingGate(gate, 7, 0, 0.6);
    const fs = truthFrame(det, v, 9);
    for (let i = 0; i < 4; i++) bus.publish('camera/frameset', { ...fs, seq: i });
    while (got.length < 2) await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(got.map((m) => m.framesetSeq), [0, 1]);
    assert.equal(stage.stats.skipped, 2);
    assert.equal(got[0]!.gates.length, 1);
  });
});
