import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CameraModel, type CameraCalibration } from '../../src/camera/camera-model.js';
import { cameraSchema } from '../../src/core/config/camera.js';

function near(actual: number, expected: number, tol: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} not within ${tol} of ${expected}`);
}

test('ideal pinhole projects x/z, y/z through K and back', () => {
  const cam = new CameraModel({ width: 100, height: 120, intrinsics: { fx: 100, fy: 200, cx: 50, cy: 60 }, distortion: { model: 'none' } });
  assert.deepEqual(cam.project([1, 2, 4]), [75, 160]);
  const ray = cam.unproject([75, 160])!;
  const n = Math.hypot(1, 2, 4);
  near(ray[0], 1 / n, 1e-12, 'x');
  near(ray[1], 2 / n, 1e-12, 'y');
  near(ray[2], 4 / n, 1e-12, 'z');
  assert.equal(cam.project([0, 0, -1]), null, 'behind the camera');
  assert.equal(cam.project([1, 0, 0]), null, 'in the camera plane');
});

test('OpenCV plumb-bob distortion matches values worked out by hand from the formula', () => {
  // Worked by hand: r² = 0.25, radial = 0.95328125, x'' = 0.285364375, y'' = 0.3814025, then u = fx·x'' + cx.
  const cam = new CameraModel({
    width: 640,
    height: 480,
    intrinsics: { fx: 300, fy: 310, cx: 320, cy: 240 },
    distortion: { model: 'opencv', k1: -0.2, k2: 0.05, p1: 0.001, p2: -0.002, k3: 0.01 },
  });
  const px = cam.project([0.3, 0.4, 1])!;
  near(px[0], 405.6093125, 1e-9, 'u');
  near(px[1], 358.234775, 1e-9, 'v');
  // Same direction, farther away: same pixel.
  const px2 = cam.project([0.6, 0.8, 2])!;
  near(px2[0], px[0], 1e-9, 'u at 2 m');
  // undistortPoint brings it back to the ideal pinhole position fx·x/z + cx.
  const u = cam.undistortPoint(px)!;
  near(u[0], 300 * 0.3 + 320, 1e-6, 'undistorted u');
  near(u[1], 310 * 0.4 + 240, 1e-6, 'undistorted v');
});

test('fisheye model matches θd = θ(1 + k1θ² + k2θ⁴) computed independently, also beyond 90°', () => {
  const cam = new CameraModel({
    width: 640,
    height: 480,
    intrinsics: { fx: 200, fy: 210, cx: 320, cy: 240 },
    distortion: { model: 'fisheye', k1: 0.1, k2: 0.01, k3: 0, k4: 0 },
  });
  const a = cam.project([1, 0, 1])!;
  near(a[0], 487.3667888389296, 1e-9, 'u at 45°');
  near(a[1], 240, 1e-12, 'v at 45°');
  const b = cam.project([0.5, -0.5, 0.2])!;
  near(b[0], 539.040164371693, 1e-9, 'u');
  near(b[1], 10.007827409722324, 1e-9, 'v');
  // Slightly behind the image plane still projects for a fisheye (θ ≈ 95°).
  const behind = cam.project([1, 0, -0.09]);
  assert.ok(behind !== null, 'a fisheye sees past 90°');
  const ray = cam.unproject(behind)!;
  const n = Math.hypot(1, 0.09);
  near(ray[0], 1 / n, 1e-9, 'ray x past 90°');
  near(ray[2], -0.09 / n, 1e-9, 'ray z past 90°');
  assert.equal(cam.undistortPoint(behind), null, 'no pinhole position for a ray behind the plane');
});

test('default wide-angle calibration: project/unproject round trip inside the lens fold, null beyond it', () => {
  const rig = cameraSchema.parse({}).rigs[0]!;
  const calib: CameraCalibration = { width: rig.width, height: rig.height, ...rig.left };
  const cam = new CameraModel(calib);
  // The measured polynomial folds back ~61° off axis (normalised radius ≈ 1.81, distorted ≈ 1.096).
  near(cam.maxRadius, 1.8145, 2e-3, 'fold radius');
  near(cam.maxDistortedRadius, 1.0963, 1e-3, 'distorted radius at the fold');
  let checked = 0;
  for (let v = 20; v < rig.height; v += 40) {
    for (let u = 20; u < rig.width; u += 40) {
      const ray = cam.unproject([u, v]);
      if (!ray) continue;
      const back = cam.project(ray)!;
      assert.ok(back, `ray of (${u}, ${v}) projects`);
      near(back[0], u, 1e-6, `u of (${u}, ${v})`);
      near(back[1], v, 1e-6, `v of (${u}, ${v})`);
      near(Math.hypot(...ray), 1, 1e-12, 'unit ray');
      checked++;
    }
  }
  assert.ok(checked > 150, `most pixels have a ray (${checked})`);
  // The optical axis goes through the principal point.
  const c = cam.project([0, 0, 3])!;
  near(c[0], rig.left.intrinsics.cx, 1e-12, 'cx');
  near(c[1], rig.left.intrinsics.cy, 1e-12, 'cy');
  // 70° off axis is beyond the fold: not visible rather than a wrong pixel.
  assert.equal(cam.project([Math.tan((70 * Math.PI) / 180), 0, 1]), null);
  // Barrel distortion pulls an off-axis point towards the centre.
  const d = cam.project([1, 0, 1])!;
  assert.ok(d[0] - rig.left.intrinsics.cx < rig.left.intrinsics.fx, 'barrel: distorted radius < undistorted');
});

test('bad calibrations are refused with the value named', () => {
  assert.throws(
    () => new CameraModel({ width: 10, height: 10, intrinsics: { fx: 0, fy: 1, cx: 0, cy: 0 }, distortion: { model: 'none' } }),
    /fx=0/,
  );
});
