import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allRigCameras, mat3Apply, mat3Mul, mat3Transpose, rigRotation } from '../../src/camera/rig.js';
import { cameraSchema } from '../../src/core/config/camera.js';
import { configWith, loadConfig } from '../../src/core/config/load.js';
import { rigStreams } from '../../src/camera/presets.js';
import type { Vec3 } from '../../src/core/messages.js';

function near(a: number, b: number, tol: number, what: string): void {
  assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);
}
function nearVec(a: Vec3, b: Vec3, tol: number, what: string): void {
  a.forEach((x, i) => near(x, b[i]!, tol, `${what}[${i}]`));
}

test('a forward camera looks along body x with its x to the right and y down', () => {
  const R = rigRotation(0, 0, 0);
  nearVec(mat3Apply(R, [0, 0, 1]), [1, 0, 0], 1e-12, 'optical axis');
  nearVec(mat3Apply(R, [1, 0, 0]), [0, 1, 0], 1e-12, 'image right');
  nearVec(mat3Apply(R, [0, 1, 0]), [0, 0, 1], 1e-12, 'image down');
});

test('yaw turns right, pitch looks up, roll keeps the optical axis, rotations stay orthonormal', () => {
  nearVec(mat3Apply(rigRotation(90, 0, 0), [0, 0, 1]), [0, 1, 0], 1e-12, 'yaw 90 looks right');
  nearVec(mat3Apply(rigRotation(-90, 0, 0), [0, 0, 1]), [0, -1, 0], 1e-12, 'yaw -90 looks left');
  const s = Math.sin((20 * Math.PI) / 180);
  const c = Math.cos((20 * Math.PI) / 180);
  nearVec(mat3Apply(rigRotation(0, 20, 0), [0, 0, 1]), [c, 0, -s], 1e-12, 'pitch 20 looks up (−z in FRD)');
  nearVec(mat3Apply(rigRotation(0, 0, 30), [0, 0, 1]), [1, 0, 0], 1e-12, 'roll keeps the axis');
  const R = rigRotation(37, -12, 5);
  const I = mat3Mul(R, mat3Transpose(R));
  I.forEach((v, i) => near(v, i % 4 === 0 ? 1 : 0, 1e-12, `R·Rᵀ[${i}]`));
});

test('default configuration: four rigs, eight cameras, baseline between the optical centres', () => {
  const cfg = configWith({});
  assert.deepEqual(
    cfg.camera.rigs.map((r) => r.name),
    ['front', 'left', 'right', 'back'],
  );
  const cams = allRigCameras(cfg.camera.rigs);
  assert.equal(cams.length, 8);
  assert.deepEqual(
    cams.map((c) => c.slot),
    [0, 1, 2, 3, 4, 5, 6, 7],
  );
  for (let i = 0; i < 8; i += 2) {
    const [l, r] = [cams[i]!, cams[i + 1]!];
    assert.equal(l.side, 'left');
    near(Math.hypot(r.p_body_m[0] - l.p_body_m[0], r.p_body_m[1] - l.p_body_m[1], r.p_body_m[2] - l.p_body_m[2]), 0.1, 1e-12, 'baseline');
    // The right camera is to the right of the left one, seen from the left camera.
    const d: Vec3 = [r.p_body_m[0] - l.p_body_m[0], r.p_body_m[1] - l.p_body_m[1], r.p_body_m[2] - l.p_body_m[2]];
    assert.ok(mat3Apply(mat3Transpose(l.R_body_cam), d)[0] > 0.099, `${l.rig}: right camera on the right`);
  }
  // The back rig looks backwards, the left one to the left.
  nearVec(mat3Apply(cams[6]!.R_body_cam, [0, 0, 1]), [-1, 0, 0], 1e-12, 'back');
  nearVec(mat3Apply(cams[2]!.R_body_cam, [0, 0, 1]), [0, -1, 0], 1e-12, 'left');
  // A point 5 m ahead of the drone appears near the middle of both front images.
  const front = cams[0]!;
  const p_cam = mat3Apply(mat3Transpose(front.R_body_cam), [5 - front.p_body_m[0], -front.p_body_m[1], -front.p_body_m[2]]);
  const px = front.model.project(p_cam)!;
  assert.ok(front.model.inImage(px), `point ahead at ${px}`);
});

test('configuration errors name the field', () => {
  const rig = cameraSchema.parse({}).rigs[0]!;
  const bad = { ...rig, name: 'front', source: { preset: 'custom', layout: 'pair', pipelines: ['videotestsrc'] } };
  assert.throws(() => configWith({ camera: { rigs: [bad] } } as never), /camera\.rigs\[0\]\.source\.pipelines: a "pair" layout needs two pipelines/);
  assert.throws(() => configWith({ camera: { rigs: [rig, rig] } } as never), /camera\.rigs\[1\]\.name: rig name "front" used twice/);
  assert.throws(
    () => configWith({ camera: { rigs: [{ ...rig, left: { intrinsics: { fx: -1, fy: 1, cx: 0, cy: 0 } } }] } } as never),
    /camera\.rigs\[0\]\.left\.intrinsics\.fx/,
  );
  assert.throws(() => configWith({ camera: { bufferFrames: 2, rigs: [{ ...rig, fps: 120 }] } } as never), /camera\.bufferFrames: 2 buffers last 17 ms at rig "front"/);
});

test('config/rigs/jetson-csi.json: the default rigs on eight CSI sensors', () => {
  // dist/test/camera/ → repository root.
  const file = new URL('../../../config/rigs/jetson-csi.json', import.meta.url);
  const cfg = loadConfig(file.pathname);
  const defaults = configWith({}).camera.rigs;
  assert.equal(cfg.camera.rigs.length, 4);
  const ids = cfg.camera.rigs.flatMap((r, i) => {
    assert.deepEqual({ ...r, source: null }, { ...defaults[i], source: null }, `${r.name}: same geometry and calibration as the defaults`);
    return rigStreams(r, i).map((s) => Number(/sensor-id=(\d+)/.exec(s.pipeline)![1]));
  });
  assert.deepEqual(ids, [0, 1, 2, 3, 4, 5, 6, 7]);
});

test('a rig read out smaller than its calibration gets the calibration scaled; another aspect is refused', () => {
  const base = configWith({}).camera.rigs;
  const full = allRigCameras(base)[0]!.model;
  const half = allRigCameras(cameraSchema.parse({ rigs: base.map((r) => ({ ...r, width: 320, height: 240 })) }).rigs)[0]!.model;
  assert.equal(half.width, 320);
  near(half.intrinsics.fx, full.intrinsics.fx / 2, 1e-9, 'fx');
  near(half.intrinsics.cx, (full.intrinsics.cx + 0.5) / 2 - 0.5, 1e-9, 'cx');
  // The same ray lands on the same place of the picture, at half the pixel scale (about the outer edge).
  for (const X of [[0.3, -0.2, 4], [-1.5, 0.8, 3], [2, 1, 2.5]] as Vec3[]) {
    const a = full.project(X)!;
    const b = half.project(X)!;
    near(b[0], (a[0] + 0.5) / 2 - 0.5, 1e-6, 'u');
    near(b[1], (a[1] + 0.5) / 2 - 0.5, 1e-6, 'v');
  }
  assert.throws(
    () => configWith({ camera: { rigs: base.map((r) => ({ ...r, width: 640, height: 360 })) } }),
    (err: Error) => /camera\.rigs\[0\]\.left\.size/.test(err.message) && /another aspect ratio/.test(err.message),
  );
});
