import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CameraModel, type CameraCalibration } from '../../src/camera/camera-model.js';
import type { Vec3 } from '../../src/core/messages.js';
import { defaultDatasetCalibration } from '../../src/sim/render/dataset.js';
import { gateLabels } from '../../src/sim/render/labels.js';
import { NEUTRAL_LOOK, randomLook } from '../../src/sim/render/look.js';
import { cameraRotation, type CameraPose } from '../../src/sim/render/math3.js';
import { samplePose } from '../../src/sim/render/poses.js';
import { Prng } from '../../src/sim/render/prng.js';
import { Renderer } from '../../src/sim/render/renderer.js';
import { buildScene, type Gate, type Scene } from '../../src/sim/render/scene.js';

const W = 160, H = 120;

const lenses: Record<string, CameraCalibration> = {
  // The default rig's wide-angle lens (k1 = -0.26: strong barrel), scaled to the test size.
  arducam: defaultDatasetCalibration(W, H),
  pinhole: { width: W, height: H, intrinsics: { fx: 90, fy: 90, cx: 79.5, cy: 59.5 }, distortion: { model: 'none' } },
  // A ~180° fisheye with a strongly non-equidistant lens.
  fisheye: { width: W, height: H, intrinsics: { fx: 52, fy: 52, cx: 80.2, cy: 58.7 }, distortion: { model: 'fisheye', k1: 0.08, k2: -0.04, k3: 0.01, k4: -0.002 } },
};

/** The scene with only one gate's board left: nothing can hide it, so every check must hold exactly. */
function loneGate(seed: number): { scene: Scene; gate: Gate } {
  const full = buildScene({ seed });
  const gate = full.gates[0]!;
  return { scene: { ...full, gates: [gate], quads: full.quads.filter((q) => q.gate === 0) }, gate };
}

/** A camera `dist` metres in front of the gate, turned so the gate sits off-centre, banked and pitched. */
function poseFacing(g: Gate, dist: number, yawOff: number, pitch: number, roll: number): CameraPose {
  const p: Vec3 = [g.c_ned_m[0] - g.f_ned[0] * dist, g.c_ned_m[1] - g.f_ned[1] * dist, g.c_ned_m[2] + 0.2];
  return { p_ned_m: p, R_ned_cam: cameraRotation(Math.atan2(g.f_ned[1], g.f_ned[0]) + yawOff, pitch, roll) };
}

function onGate(g: Gate, s: number, t: number): Vec3 {
  return [g.c_ned_m[0] + g.a_ned[0] * s, g.c_ned_m[1] + g.a_ned[1] * s, g.c_ned_m[2] + t];
}

for (const [name, calib] of Object.entries(lenses)) {
  test(`labels land on the rendered gate opening (${name} lens)`, () => {
    const model = new CameraModel(calib);
    let checked = 0;
    for (const seed of [1, 2]) {
      const { scene, gate } = loneGate(seed);
      const r = new Renderer(scene, model, 1);
      for (const [dist, yawOff, pitch, roll] of [
        [7, 0, 0, 0],
        [6, 0.35, 0.1, 0.4],
        [8, -0.45, -0.1, -0.5],
        [5, 0.15, 0.25, 0.2],
      ] as const) {
        const pose = poseFacing(gate, dist, yawOff, pitch, roll);
        const out = r.render(pose, NEUTRAL_LOOK);
        const [label] = gateLabels(scene, model, pose, out.gateIds);
        assert.ok(label && label.visible, `gate visible at ${dist} m, yaw offset ${yawOff}`);
        // Labels are TL, TR, BR, BL: the corners are the projections of the inner corners, in that order.
        const cam = (p: Vec3) => model.project(worldToCamera(pose, p));
        label.corners.forEach((c, k) => assert.deepEqual(c, cam(gate.inner_ned_m[k]!)));
        // Just inside the opening is not the frame; just outside the inner edge (on the ring) is the frame.
        const hi = gate.innerHalf_m, d = 0.1;
        for (let f = -0.9; f <= 0.9; f += 0.15) {
          const along = f * hi;
          for (const [s, t, frame] of [
            [along, -hi + d, false], [along, hi - d, false], [-hi + d, along, false], [hi - d, along, false],
            [along, -hi - d, true], [along, hi + d, true], [-hi - d, along, true], [hi + d, along, true],
          ] as const) {
            const px = cam(onGate(gate, s, t));
            if (!px || !model.inImage(px)) continue;
            const i = Math.round(px[1]) * W + Math.round(px[0]);
            assert.equal(out.gateIds[i] === 1, frame, `${name}: gate point (${s.toFixed(2)}, ${t.toFixed(2)}) → pixel ${px.map((v) => v.toFixed(1))} should ${frame ? '' : 'not '}be frame`);
            checked++;
          }
        }
        // The mask's frame pixels sit around the labelled corners: every corner pixel's 5×5 neighbourhood holds both.
        for (const c of label.corners) {
          if (!c || !model.inImage(c)) continue;
          let on = 0, off = 0;
          for (let dy = -2; dy <= 2; dy++)
            for (let dx = -2; dx <= 2; dx++) {
              const x = Math.round(c[0]) + dx, y = Math.round(c[1]) + dy;
              if (x < 0 || y < 0 || x >= W || y >= H) continue;
              if (out.gateIds[y * W + x] === 1) on++;
              else off++;
            }
          assert.ok(on > 0 && off > 0, `${name}: corner ${c} is on the frame's inner edge`);
        }
      }
    }
    assert.ok(checked > 200, `enough points checked (${checked})`);
  });
}

test('distortion bends the gate edges (the strong lenses are really tested)', () => {
  const model = new CameraModel(lenses.arducam!);
  const { gate } = loneGate(1);
  const pose = poseFacing(gate, 3.5, 0.45, 0, 0);
  const proj = (s: number, t: number) => model.project(worldToCamera(pose, onGate(gate, s, t)))!;
  const hi = gate.innerHalf_m;
  const a = proj(-hi, -hi), b = proj(-hi, hi), m = proj(-hi, 0);
  // Distance of the edge's midpoint from the straight line between its corners.
  const dist = Math.abs((b[0] - a[0]) * (a[1] - m[1]) - (a[0] - m[0]) * (b[1] - a[1])) / Math.hypot(b[0] - a[0], b[1] - a[1]);
  assert.ok(dist > 1.5, `edge bows by ${dist.toFixed(2)} px`);
});

test('same seed, same pixels; another seed, other pixels', () => {
  const model = new CameraModel(lenses.arducam!);
  const frame = (seed: number) => {
    const scene = buildScene({ seed });
    const rng = new Prng(seed + 1000);
    const pose = samplePose(scene, rng);
    return new Renderer(scene, model, 3).render(pose, randomLook(rng));
  };
  const a = frame(11), b = frame(11), c = frame(12);
  assert.deepEqual(a.image, b.image);
  assert.deepEqual(a.gateIds, b.gateIds);
  assert.notDeepEqual(a.image, c.image);
  assert.equal(a.image.length, W * H * 3);
});

test('labels: seen from behind, left and right swap so TL stays on the image left; behind the camera is not visible', () => {
  const model = new CameraModel(lenses.pinhole!);
  const { scene, gate } = loneGate(3);
  const r = new Renderer(scene, model, 1);
  const front = poseFacing(gate, 6, 0, 0, 0);
  const back = poseFacing(gate, -6, Math.PI, 0, 0);
  for (const pose of [front, back]) {
    const [l] = gateLabels(scene, model, pose, r.render(pose, NEUTRAL_LOOK).gateIds);
    assert.ok(l!.visible);
    const [tl, tr, br, bl] = l!.corners.map((c) => c!);
    assert.ok(tl![0] < tr![0] && bl![0] < br![0] && tl![1] < bl![1] && tr![1] < br![1], `corners in image order ${JSON.stringify(l!.corners)}`);
  }
  const away = poseFacing(gate, 6, Math.PI, 0, 0);
  const [l] = gateLabels(scene, model, away, r.render(away, NEUTRAL_LOOK).gateIds);
  assert.equal(l!.visible, false);
  assert.equal(l!.visiblePx, 0);
});

function worldToCamera(pose: CameraPose, p: Vec3): Vec3 {
  const R = pose.R_ned_cam;
  const d = [p[0] - pose.p_ned_m[0], p[1] - pose.p_ned_m[1], p[2] - pose.p_ned_m[2]];
  return [R[0] * d[0]! + R[3] * d[1]! + R[6] * d[2]!, R[1] * d[0]! + R[4] * d[1]! + R[7] * d[2]!, R[2] * d[0]! + R[5] * d[1]! + R[8] * d[2]!];
}

test('rig renderer: the default front rig sees the gate the vehicle faces, the back rig does not', async () => {
  const { allRigCameras } = await import('../../src/camera/rig.js');
  const { cameraSchema } = await import('../../src/core/config/camera.js');
  const { RigRenderer } = await import('../../src/sim/render/rig-renderer.js');
  const cams = allRigCameras(cameraSchema.parse({}).rigs);
  assert.equal(cams.length, 8);
  const { scene, gate } = loneGate(4);
  const rr = new RigRenderer(scene, cams, { scale: 0.25 });
  const yaw = Math.atan2(gate.f_ned[1], gate.f_ned[0]);
  const p: Vec3 = [gate.c_ned_m[0] - gate.f_ned[0] * 8, gate.c_ned_m[1] - gate.f_ned[1] * 8, gate.c_ned_m[2]];
  const outs = rr.render(p, [Math.cos(yaw / 2), 0, 0, Math.sin(yaw / 2)], NEUTRAL_LOOK);
  const seen = outs.map((o) => o.gateIds.reduce((n, v) => n + (v === 1 ? 1 : 0), 0));
  assert.equal(outs[0]!.width, 160);
  assert.ok(seen[0]! > 50 && seen[1]! > 50, `front cameras see the gate: ${seen}`);
  assert.equal(seen[6], 0, `back-left camera does not: ${seen}`);
  assert.equal(seen[7], 0, `back-right camera does not: ${seen}`);
  // The two front images differ by the stereo baseline: the gate sits further left in the right image.
  const meanX = (o: (typeof outs)[number]) => {
    let s = 0, n = 0;
    o.gateIds.forEach((v, i) => { if (v === 1) { s += i % o.width; n++; } });
    return s / n;
  };
  assert.ok(meanX(outs[0]!) > meanX(outs[1]!), 'disparity has the right sign');
});

test('render pool: worker threads give the same images as rendering in-process', async () => {
  const { allRigCameras } = await import('../../src/camera/rig.js');
  const { cameraSchema } = await import('../../src/core/config/camera.js');
  const { RigRenderer } = await import('../../src/sim/render/rig-renderer.js');
  const { RenderPool } = await import('../../src/sim/render/render-pool.js');
  const cams = allRigCameras(cameraSchema.parse({}).rigs);
  const scene = buildScene({ seed: 9 });
  const g = scene.gates[1]!;
  const p: Vec3 = [g.c_ned_m[0] - 6 * g.f_ned[0], g.c_ned_m[1] - 6 * g.f_ned[1], g.c_ned_m[2]];
  const yaw = Math.atan2(g.f_ned[1], g.f_ned[0]);
  const q: [number, number, number, number] = [Math.cos(yaw / 2), 0, 0, Math.sin(yaw / 2)];
  const look = randomLook(new Prng(3));
  const local = new RigRenderer(scene, cams, { scale: 0.125 }).render(p, q, look);
  const pool = await RenderPool.start({ scene: { seed: 9 }, cameras: cams, scale: 0.125, workers: 2 });
  try {
    const remote = await pool.render(p, q, look);
    assert.equal(remote.length, 8);
    remote.forEach((o, k) => {
      assert.deepEqual(o.image, local[k]!.image, `camera ${k}`);
      assert.deepEqual(o.gateIds, local[k]!.gateIds, `camera ${k} mask`);
    });
  } finally {
    await pool.close();
  }
});
