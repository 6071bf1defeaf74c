import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rigCameras } from '../../src/camera/rig.js';
import { defaultRigs, rigSchema } from '../../src/core/config/camera.js';
import type { Vec3 } from '../../src/core/messages.js';
import { combine, rigGates, type GeometryParams } from '../../src/perception/gate-geometry.js';
import { solveSquarePnp } from '../../src/perception/pnp.js';
import { expRot, expRotInto, matFromQuat, mul3, mul3Into, rotationAngle, type Mat3 } from '../../src/perception/rotation.js';
import { fitSquare, squareCorners, triangulateMidpoint } from '../../src/perception/stereo.js';
import { Prng } from '../../src/sim/render/prng.js';
import { buildScene } from '../../src/sim/render/scene.js';
import { banked, detection, facingGate, truthInBody, type Vehicle } from './rendered-truth.js';

const P: GeometryParams = { half: 2.438 / 2, cornerSigmaPx: 1.5, cornerThreshold: 0.15 };
const deg = 180 / Math.PI;
const dist = (a: Vec3, b: Vec3) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);

describe('stereo and PnP numerics', () => {
  it('triangulates two exact rays to their intersection and refuses parallel ones', () => {
    const X: Vec3 = [0.7, -0.3, 9];
    const o2: Vec3 = [0.1, 0, 0];
    const n = (v: Vec3): Vec3 => { const l = Math.hypot(...v); return [v[0] / l, v[1] / l, v[2] / l]; };
    const r = triangulateMidpoint([0, 0, 0], n(X), o2, n([X[0] - 0.1, X[1], X[2]]));
    assert.ok(r && dist(r.p, X) < 1e-9 && r.gap < 1e-9);
    assert.equal(triangulateMidpoint([0, 0, 0], [0, 0, 1], o2, [0, 0, 1]), null);
    // Behind the cameras is not a triangulation.
    assert.equal(triangulateMidpoint([0, 0, 0], n([-0.05, 0, 1]), o2, n([0.05, 0, 1])), null);
  });

  it('fits a square to three or four 3-D corners', () => {
    const R = expRot([0.2, -0.4, 0.1]);
    const t: Vec3 = [0.5, 0.2, 7];
    const pts = squareCorners(P.half).map((c) => {
      const v: Vec3 = [R[0] * c[0] + R[1] * c[1] + R[2] * c[2] + t[0], R[3] * c[0] + R[4] * c[1] + R[5] * c[2] + t[1], R[6] * c[0] + R[7] * c[1] + R[8] * c[2] + t[2]];
      return v;
    });
    for (const sel of [pts, [pts[0]!, null, pts[2]!, pts[3]!]]) {
      const f = fitSquare(sel, P.half)!;
      assert.ok(dist(f.t, t) < 1e-9 && rotationAngle(f.R, R) < 1e-7);
    }
    assert.equal(fitSquare([pts[0]!, null, null, pts[3]!], P.half), null);
  });

  it('solves an exact square and rejects collinear corners', () => {
    const R = expRot([0.1, 0.5, -0.05]);
    const t: Vec3 = [-1, 0.4, 11];
    const pts = squareCorners(P.half).map((c) => {
      const x = R[0] * c[0] + R[1] * c[1] + t[0];
      const y = R[3] * c[0] + R[4] * c[1] + t[1];
      const z = R[6] * c[0] + R[7] * c[1] + t[2];
      return [x / z, y / z] as [number, number];
    });
    const s = solveSquarePnp({ points: pts, weights: [1, 1, 1, 1], half: P.half, sigma: 1e-3 })!;
    assert.ok(dist(s.t_cam_m, t) < 1e-6 && rotationAngle(s.R_cam_gate, R) < 1e-6);
    const line = [[0, 0], [0.1, 0], [0.2, 0], [0.3, 0]] as [number, number][];
    const bad = solveSquarePnp({ points: line, weights: [1, 1, 1, 1], half: P.half, sigma: 1e-3 });
    assert.ok(bad === null || !Number.isFinite(bad.t_cam_m[2]) || bad.rmsSigma > 25);
  });

  it('the rotation helpers that write into a reused array give the rotations built another way', () => {
    const out: Mat3 = [9, 9, 9, 9, 9, 9, 9, 9, 9];
    // Against the same rotation built another way: the unit quaternion (cos θ/2, sin θ/2·axis).
    for (const w of [[0.3, -1.1, 0.4], [1e-13, -2e-13, 0]] as Vec3[]) {
      const th = Math.hypot(...w);
      const s = th > 0 ? Math.sin(th / 2) / th : 0;
      const viaQuat = matFromQuat([Math.cos(th / 2), w[0] * s, w[1] * s, w[2] * s]);
      const r = expRotInto(out, w[0], w[1], w[2]); // every entry overwritten, the small-angle branch too
      assert.ok(r.every((v, i) => Math.abs(v - viaQuat[i]!) < 1e-12), `${r} vs ${viaQuat}`);
      assert.deepEqual(expRot(w), [...r]);
    }
    const a = expRot([0.2, 0.1, -0.7]);
    const b = expRot([-0.5, 0.3, 0.2]);
    const ab = mul3Into(out, a, b);
    assert.equal(ab, out);
    assert.ok(ab.every((v, i) => Math.abs(v - mul3(a, b)[i]!) < 1e-15));
  });

  it('scratch buffers carry nothing from one solve to the next: the same corners give the same pose', () => {
    const corners = (R: Mat3, t: Vec3) => squareCorners(P.half).map((c) => {
      const z = R[6] * c[0] + R[7] * c[1] + t[2];
      return [(R[0] * c[0] + R[1] * c[1] + t[0]) / z, (R[3] * c[0] + R[4] * c[1] + t[1]) / z] as [number, number];
    });
    const a = { points: corners(expRot([0.1, 0.5, -0.05]), [-1, 0.4, 11]), weights: [1, 0.6, 1, 0.3], half: P.half, sigma: 2e-3 };
    const b = { points: corners(expRot([-0.3, 0.1, 0.2]), [2, -0.5, 4]), weights: [1, 1, 1, 1], half: P.half, sigma: 2e-3 };
    const first = solveSquarePnp(a);
    solveSquarePnp(b);
    assert.deepEqual(solveSquarePnp(a), first);
  });

  it('combining shrinks the uncertainty when estimates agree and inflates it when they do not', () => {
    const I: Mat3 = [1, 0, 0, 0, 1, 0, 0, 0, 1];
    const cov = [[0.01, 0, 0], [0, 0.01, 0], [0, 0, 0.04]];
    const agree = combine([{ t: [0, 0, 10], cov, R: I, sigmaRot: 0.05 }, { t: [0.01, 0, 10.05], cov, R: I, sigmaRot: 0.05 }])!;
    assert.ok(agree.cov[2]![2]! < 0.04 && agree.sigmaRot < 0.05);
    const clash = combine([{ t: [0, 0, 10], cov, R: I, sigmaRot: 0.05 }, { t: [0, 0, 12], cov, R: I, sigmaRot: 0.05 }])!;
    assert.ok(clash.cov[2]![2]! > 0.04, `inflated: ${clash.cov[2]![2]}`);
  });
});

describe('gate poses on rendered scenes with known truth', () => {
  const scene = buildScene({ seed: 11, courseGates: 5 });
  const [front] = [rigSchema.parse(defaultRigs[0])];
  const [L, R] = rigCameras(front!, 0);
  const gate = scene.gates[1]!;

  /** Gravity in the body frame, as the flight controller's attitude gives it. */
  const downOf = (v: Vehicle): Vec3 => [v.R_ned_body[6], v.R_ned_body[7], v.R_ned_body[8]];

  function check(v: Vehicle, seed: number, sigmaPx = 0.3, down: Vec3 | null = null) {
    const rng = new Prng(seed);
    const dl = detection(L, gate, v, rng, sigmaPx);
    const dr = detection(R, gate, v, rng, sigmaPx);
    const res = rigGates(L, R, dl ? [dl] : [], dr ? [dr] : [], P, down);
    assert.equal(res.gates.length, 1, `one gate expected, got ${res.gates.length} (rejected ${res.rejected})`);
    const g = res.gates[0]!;
    const truth = truthInBody(gate, v);
    const d = Math.hypot(...truth.p_body_m);
    const cutImages = [dl, dr].filter((x) => x && x.cornerConfidence.some((c) => c === 0)).length;
    return { g, truth, d, cutImages, posErr: dist(g.p_body_m, truth.p_body_m) / d, rotErr: rotationAngle(matFromQuat(g.q_body_gate), truth.R_body_gate) * deg };
  }

  // Replays must reproduce: with the geometry's scratch buffers reused from gate to gate, a rig's result may depend
  // on nothing but its own detections.
  it('the same detections give the same gates, whatever was solved in between', () => {
    const rng = new Prng(5);
    const views = [facingGate(gate, 6, 1, 0.3, 0.1), banked(facingGate(gate, 12, -2, 1, -0.2), 20)].map((v) => ({
      dl: detection(L, gate, v, rng, 0.8), dr: detection(R, gate, v, rng, 0.8), down: downOf(v),
    }));
    const solve = (i: number, withDown: boolean) => {
      const c = views[i]!;
      return rigGates(L, R, c.dl ? [c.dl] : [], c.dr ? [c.dr] : [], P, withDown ? c.down : null);
    };
    for (const withDown of [false, true]) {
      const first = solve(0, withDown);
      assert.equal(first.gates.length, 1);
      solve(1, !withDown);
      assert.deepEqual(solve(0, withDown), first);
    }
  });

  // Corner noise 0.3 px: the precision of the integer-pixel labels the detector is trained on (uniform ±0.5 px).
  it('stereo: position within 3% of the distance from 4 to 15 m, orientation within 5° to 10 m (lens distortion on)', () => {
    assert.equal(L.model.distortion.model, 'opencv');
    for (const [i, d] of [4, 6, 8, 10, 12, 15].entries()) {
      for (const [j, off] of [[0, 0.5], [1.5, -0.4], [-2, 1]].entries()) {
        // Slightly yawed so the gate sits off-centre where the barrel distortion is strong.
        const v = facingGate(gate, d, off[0]!, off[1]!, 0.15 * (j - 1));
        const r = check(v, 100 * i + j);
        if (r.g.cornersSeen.every(Boolean)) assert.equal(r.g.method, 'stereo+pnp', `d=${d} off=${off} seen ${r.g.cornersSeen}`);
        assert.deepEqual(r.g.seenBy, ['left', 'right']);
        assert.ok(r.posErr < 0.03, `d=${d} off=${off}: position error ${(100 * r.posErr).toFixed(2)}% of ${r.d.toFixed(1)} m`);
        // Orientation of a nearly face-on gate rests on the perspective difference of its near and far edges: with a
        // 287 px lens that is under a pixel beyond ~10 m, so 5° holds to 10 m; farther it is reported, not promised.
        if (d <= 10) assert.ok(r.rotErr < 5, `d=${d} off=${off}: orientation error ${r.rotErr.toFixed(2)}°`);
        else assert.ok(r.rotErr < 15 && r.g.sigmaRot_rad * deg > 1.5, `d=${d}: orientation ${r.rotErr.toFixed(2)}°, σ ${(r.g.sigmaRot_rad * deg).toFixed(2)}°`);
        // The reported 1σ must cover the error within 4σ (a calibrated, not decorative, uncertainty).
        const sig = Math.hypot(...r.g.sigma_p_body_m);
        assert.ok(r.posErr * r.d < 4 * sig + 0.02, `d=${d}: error ${(r.posErr * r.d).toFixed(3)} m vs σ ${sig.toFixed(3)} m`);
      }
    }
  });

  // With gravity from the attitude (the upright prior), the corners only have to give the yaw, and every corner of
  // both images votes for it: 5° holds to 15 m. Level and banked 25°, so a frame mix-up in the prior would show.
  it('stereo with gravity: orientation within 5° and position within 3% from 4 to 15 m, level and banked', () => {
    for (const bankDeg of [0, 25]) {
      for (const [i, d] of [4, 8, 12, 15].entries()) {
        for (const [j, off] of [[0, 0.5], [1.5, -0.4], [-2, 1]].entries()) {
          const v = banked(facingGate(gate, d, off[0]!, off[1]!, 0.15 * (j - 1)), bankDeg);
          const r = check(v, 700 + 10 * i + j, 0.3, downOf(v));
          assert.ok(r.rotErr < 5, `bank ${bankDeg}°, d=${d} off=${off}: orientation error ${r.rotErr.toFixed(2)}°`);
          assert.ok(r.posErr < 0.03, `bank ${bankDeg}°, d=${d} off=${off}: position error ${(100 * r.posErr).toFixed(2)}%`);
          // The reported orientation uncertainty covers the error (3σ), and is tighter than without gravity far out.
          assert.ok(r.rotErr < 3 * r.g.sigmaRot_rad * deg, `d=${d}: ${r.rotErr.toFixed(2)}° vs σ ${(r.g.sigmaRot_rad * deg).toFixed(2)}°`);
        }
      }
    }
  });

  it('gravity tightens the orientation of a far gate; a wrong gravity does not go unnoticed in its uncertainty', () => {
    const v = facingGate(gate, 14, 0.5, 0.5, 0.1);
    const free = check(v, 31).g;
    const aided = check(v, 31, 0.3, downOf(v)).g;
    assert.ok(aided.sigmaRot_rad < free.sigmaRot_rad / 1.5, `σ ${aided.sigmaRot_rad} vs ${free.sigmaRot_rad} without gravity`);
    // Gravity 20° off (a stale attitude in a hard bank): the corners disagree with the prior and the fit says so.
    const wrong = check(v, 31, 0.3, downOf(banked(v, 20))).g;
    assert.ok(wrong.sigmaRot_rad > aided.sigmaRot_rad * 1.5, `σ ${wrong.sigmaRot_rad} with a wrong gravity vs ${aided.sigmaRot_rad}`);
  });

  it('uncertainty grows with distance', () => {
    const near = check(facingGate(gate, 3, 0, 0.5), 7).g;
    const far = check(facingGate(gate, 14, 0, 0.5), 7).g;
    assert.ok(Math.hypot(...far.sigma_p_body_m) > 3 * Math.hypot(...near.sigma_p_body_m));
  });

  // One corner cut off (three seen). With only two corners seen the pose rests on the extrapolated ones and the error
  // reaches 3-5 % at 2-3 m (measured with this helper); its uncertainty says so.
  it('a gate cut by the image edge keeps its pose from the corners that are seen', () => {
    let cut = 0;
    for (const [k, [d, off, up]] of ([[3.5, 2.4, 0.5], [4, 3, 0.5], [4.5, 3.4, 0.5], [4, -3.2, 0.5]] as const).entries()) {
      const v = facingGate(gate, d, off, up);
      const r = check(v, 500 + k);
      cut += r.cutImages;
      assert.ok(r.posErr < 0.03, `cut gate at ${d} m, offset ${off}: position error ${(100 * r.posErr).toFixed(2)}%`);
      assert.ok(r.rotErr < 5, `cut gate at ${d} m, offset ${off}: orientation error ${r.rotErr.toFixed(2)}°`);
    }
    assert.ok(cut >= 6, `expected the poses to cut corners off most of the 8 images, ${cut} were cut`);
  });

  it('one image only: the monocular pose still stands, marked pnp', () => {
    const v = facingGate(gate, 8, 0.3, 0.4);
    const rng = new Prng(9);
    const res = rigGates(L, R, [detection(L, gate, v, rng, 0.7)!], [], P);
    assert.equal(res.gates.length, 1);
    assert.equal(res.gates[0]!.method, 'pnp');
    const truth = truthInBody(gate, v);
    assert.ok(dist(res.gates[0]!.p_body_m, truth.p_body_m) / 8 < 0.03);
  });

  it('garbage corners are rejected, never turned into a gate', () => {
    const junk = [
      { score: 0.9, corners: [[10, 10], [10, 10], [10, 10], [10, 10]], cornerConfidence: [0.9, 0.9, 0.9, 0.9] },
      { score: 0.9, corners: [[100, 100], [110, 100], [120, 100], [130, 100]], cornerConfidence: [0.9, 0.9, 0.9, 0.9] },
      { score: 0.9, corners: [[NaN, 1], [2, 3], [4, 5], [6, 7]], cornerConfidence: [0.9, 0.9, 0.9, 0.9] },
      { score: 0.9, corners: [[300, 200], [340, 200], [340, 240], [300, 240]], cornerConfidence: [0, 0, 0, 0.9] },
    ] as never[];
    const res = rigGates(L, R, junk, [], P);
    assert.equal(res.gates.length, 0, JSON.stringify(res.gates.map((g) => g.p_body_m)));
    assert.equal(res.rejected, 4);
  });
});
