/**
 * Camera poses drawn the way a racing drone flies a course: mostly lined up on a gate from 1.5 to 25 m out (the
 * next gates often in view behind it), sometimes right at or just through a gate (its frame cut by the image
 * border, the next gate ahead), banked and pitched as a quadrotor is when it turns and accelerates.
 */
import type { Vec3 } from '../../core/messages.js';
import { cameraRotation, type CameraPose } from './math3.js';
import type { Prng } from './prng.js';
import type { Scene } from './scene.js';

export function samplePose(scene: Scene, rng: Prng): CameraPose {
  const { gates, hall } = scene;
  const g = rng.pick(gates);
  const next = gates[g.id + 1] ?? g;
  const passing = rng.next() < 0.2;
  // Log-uniform distance: near gates are rarer in time but matter most for the detector.
  const d = passing ? rng.range(-1.2, 1.5) : Math.exp(rng.range(Math.log(1.5), Math.log(25)));
  const side = d * (0.25 * rng.normal()) + 0.3 * rng.normal();
  const up = 0.6 * rng.normal();
  const f = g.f_ned, a = g.a_ned;
  let p: Vec3 = [g.c_ned_m[0] - f[0] * d + a[0] * side, g.c_ned_m[1] - f[1] * d + a[1] * side, g.c_ned_m[2] + up];
  // Stay in the hall, 0.4 m to 6 m above the floor.
  const m = 1;
  p = [clamp(p[0], hall.x0 + m, hall.x1 - m), clamp(p[1], hall.y0 + m, hall.y1 - m), clamp(p[2], -Math.min(6, hall.height - 1), -0.4)];
  const target = passing || rng.next() < 0.15 ? next.c_ned_m : g.c_ned_m;
  const dx = target[0] - p[0], dy = target[1] - p[1];
  const yaw = (Math.hypot(dx, dy) > 0.5 ? Math.atan2(dy, dx) : Math.atan2(f[1], f[0])) + 0.22 * rng.normal();
  const pitch = clamp(0.05 + 0.14 * rng.normal(), -0.45, 0.5);
  const roll = clamp(0.3 * rng.normal(), -0.75, 0.75);
  return { p_ned_m: p, R_ned_cam: cameraRotation(yaw, pitch, roll) };
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
