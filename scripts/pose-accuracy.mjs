#!/usr/bin/env node
// Gate pose accuracy of perception's geometry on rendered-truth views (test/perception/rendered-truth.ts): a stereo
// rig in front of a gate at 4-15 m, corners projected with the lens model plus Gaussian noise, with and without the
// upright prior (gravity from the attitude). Prints per distance the position error (% of the distance) and the
// orientation error (degrees): median, 90th percentile, worst, and how many views break the limits (3%, 5°).
//   npm run build && node scripts/pose-accuracy.mjs [--trials 300] [--noise-px 0.3] [--bank-deg 0]
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const trials = opt('--trials', 300);
const noisePx = opt('--noise-px', 0.3);
const bankDeg = opt('--bank-deg', 0);
const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const load = (p) => import(pathToFileURL(join(dist, p)).href);
const { rigCameras } = await load('src/camera/rig.js');
const { defaultRigs, rigSchema } = await load('src/core/config/camera.js');
const { rigGates } = await load('src/perception/gate-geometry.js');
const { matFromQuat, rotationAngle } = await load('src/perception/rotation.js');
const { Prng } = await load('src/sim/render/prng.js');
const { buildScene } = await load('src/sim/render/scene.js');
const { banked, detection, facingGate, truthInBody } = await load('test/perception/rendered-truth.js');

const P = { half: 2.438 / 2, cornerSigmaPx: 1.5, cornerThreshold: 0.15 };
const deg = 180 / Math.PI;
const [L, R] = rigCameras(rigSchema.parse(defaultRigs[0]), 0);
const gate = buildScene({ seed: 11, courseGates: 5 }).gates[1];
const offsets = [[0, 0.5], [1.5, -0.4], [-2, 1]];
const q = (xs, f) => xs[Math.min(xs.length - 1, Math.floor(f * xs.length))];
console.log(`${trials} views per distance, corner noise ${noisePx} px, bank ${bankDeg}°, ${L.model.width}x${L.model.height} lens, baseline 0.10 m`);
console.log('prior    dist   position % p50/p90/max  >3%    orientation ° p50/p90/max  >5°');
for (const prior of [false, true]) {
  for (const d of [4, 8, 10, 12, 15]) {
    const pos = [];
    const rot = [];
    for (let s = 0; s < trials; s++) {
      const rng = new Prng(1000 + s);
      const off = offsets[s % 3];
      const v = banked(facingGate(gate, d, off[0], off[1], 0.15 * ((s % 3) - 1)), bankDeg);
      const dl = detection(L, gate, v, rng, noisePx);
      const dr = detection(R, gate, v, rng, noisePx);
      const down = prior ? [v.R_ned_body[6], v.R_ned_body[7], v.R_ned_body[8]] : null;
      const g = rigGates(L, R, dl ? [dl] : [], dr ? [dr] : [], P, down).gates[0];
      if (!g) continue;
      const t = truthInBody(gate, v);
      pos.push((100 * Math.hypot(g.p_body_m[0] - t.p_body_m[0], g.p_body_m[1] - t.p_body_m[1], g.p_body_m[2] - t.p_body_m[2])) / d);
      rot.push(rotationAngle(matFromQuat(g.q_body_gate), t.R_body_gate) * deg);
    }
    pos.sort((a, b) => a - b);
    rot.sort((a, b) => a - b);
    const f = (x) => x.toFixed(2).padStart(5);
    console.log(
      `${(prior ? 'gravity' : 'corners').padEnd(8)} ${String(d).padStart(3)} m   ${f(q(pos, 0.5))} ${f(q(pos, 0.9))} ${f(pos.at(-1))}   ${String(pos.filter((e) => e >= 3).length).padStart(4)}    ` +
        `${f(q(rot, 0.5))} ${f(q(rot, 0.9))} ${f(rot.at(-1))}   ${String(rot.filter((e) => e >= 5).length).padStart(4)}  (of ${pos.length})`,
    );
  }
}
