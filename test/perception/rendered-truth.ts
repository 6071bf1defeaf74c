/**
 * Known truth for perception tests: a vehicle placed in a rendered scene (sim/render), the true body-frame pose of
 * its gates, and the corners each rig camera sees, projected with the camera's own model exactly as the renderer's
 * labels are.
 */
import type { RigCamera } from '../../src/camera/rig.js';
import type { CameraImage, FrameSet, Vec3 } from '../../src/core/messages.js';
import type { DecodedGate } from '../../src/perception/decode.js';
import { apply3, mul3, transpose3, type Mat3 } from '../../src/perception/rotation.js';
import { NEUTRAL_LOOK } from '../../src/sim/render/look.js';
import type { CameraPose } from '../../src/sim/render/math3.js';
import type { Renderer } from '../../src/sim/render/renderer.js';
import type { Prng } from '../../src/sim/render/prng.js';
import type { Gate } from '../../src/sim/render/scene.js';

export interface Vehicle {
  p_ned_m: Vec3;
  R_ned_body: Mat3;
}

/** A level vehicle `dist` metres in front of a gate (along its approach direction), offset right/up, yawed extra. */
export function facingGate(g: Gate, dist: number, right = 0, up = 0, extraYawRad = 0): Vehicle {
  const f = g.f_ned;
  const a = g.a_ned;
  const p: Vec3 = [g.c_ned_m[0] - f[0] * dist + a[0] * right, g.c_ned_m[1] - f[1] * dist + a[1] * right, g.c_ned_m[2] - up];
  const yaw = Math.atan2(f[1], f[0]) + extraYawRad;
  const c = Math.cos(yaw);
  const s = Math.sin(yaw);
  return { p_ned_m: p, R_ned_body: [c, -s, 0, s, c, 0, 0, 0, 1] };
}

/** The same vehicle rolled by bankDeg about its forward axis (a racing turn). */
export function banked(v: Vehicle, bankDeg: number): Vehicle {
  const a = (bankDeg * Math.PI) / 180;
  const c = Math.cos(a);
  const s = Math.sin(a);
  return { p_ned_m: v.p_ned_m, R_ned_body: mul3(v.R_ned_body, [1, 0, 0, 0, c, -s, 0, s, c]) };
}

export function cameraPose(cam: RigCamera, v: Vehicle): CameraPose {
  const o = apply3(v.R_ned_body, cam.p_body_m);
  return { p_ned_m: [v.p_ned_m[0] + o[0], v.p_ned_m[1] + o[1], v.p_ned_m[2] + o[2]], R_ned_cam: mul3(v.R_ned_body, cam.R_body_cam) };
}

/** The gate's true pose in the body frame, in perception's gate frame (x right and z away, as the camera sees it). */
export function truthInBody(g: Gate, v: Vehicle): { p_body_m: Vec3; R_body_gate: Mat3 } {
  const R_body_ned = transpose3(v.R_ned_body);
  const d: Vec3 = [g.c_ned_m[0] - v.p_ned_m[0], g.c_ned_m[1] - v.p_ned_m[1], g.c_ned_m[2] - v.p_ned_m[2]];
  const behind = (v.p_ned_m[0] - g.c_ned_m[0]) * g.f_ned[0] + (v.p_ned_m[1] - g.c_ned_m[1]) * g.f_ned[1] > 0;
  const x = behind ? g.a_ned.map((c) => -c) : g.a_ned;
  const z = behind ? g.f_ned.map((c) => -c) : g.f_ned;
  const y = g.b_ned;
  const R_ned_gate: Mat3 = [x[0]!, y[0], z[0]!, x[1]!, y[1], z[1]!, x[2]!, y[2], z[2]!];
  return { p_body_m: apply3(R_body_ned, d), R_body_gate: mul3(R_body_ned, R_ned_gate) };
}

/**
 * What an ideal detector reports for gate g in camera cam: the projected inner corners plus Gaussian noise; corners
 * off the image get `offImageSigmaPx` noise and confidence 0 (the network extrapolates them); a corner no lens ray
 * reaches is NaN. Null when fewer than two corners are on the image.
 */
export function detection(cam: RigCamera, g: Gate, v: Vehicle, rng: Prng, sigmaPx: number, offImageSigmaPx = 4 * sigmaPx): DecodedGate | null {
  const pose = cameraPose(cam, v);
  const Rt = transpose3(pose.R_ned_cam);
  const behind = (pose.p_ned_m[0] - g.c_ned_m[0]) * g.f_ned[0] + (pose.p_ned_m[1] - g.c_ned_m[1]) * g.f_ned[1] > 0;
  const order = behind ? [1, 0, 3, 2] : [0, 1, 2, 3];
  const px = order.map((k) => {
    const p = g.inner_ned_m[k]!;
    return cam.model.project(apply3(Rt, [p[0] - pose.p_ned_m[0], p[1] - pose.p_ned_m[1], p[2] - pose.p_ned_m[2]]));
  });
  const inImg = px.map((p) => p !== null && cam.model.inImage(p));
  if (inImg.filter(Boolean).length < 2) return null;
  const corners = px.map((p, i) => {
    const s = inImg[i] ? sigmaPx : offImageSigmaPx;
    const nx = rng.normal();
    const ny = rng.normal();
    return p ? ([p[0] + s * nx, p[1] + s * ny] as const) : ([NaN, NaN] as const);
  });
  return {
    score: 0.9,
    corners: corners as unknown as DecodedGate['corners'],
    cornerConfidence: inImg.map((b) => (b ? 0.8 : 0)) as DecodedGate['cornerConfidence'],
  };
}

/** The rig's images of the scene from vehicle pose v, as the camera layer would deliver them. */
export function renderImages(renderers: readonly Renderer[], cams: readonly RigCamera[], v: Vehicle, tUs: number, seq = 0): CameraImage[] {
  return cams.map((cam, k) => {
    const r = renderers[k]!;
    const out = r.render(cameraPose(cam, v), NEUTRAL_LOOK);
    return {
      tUs, tSampleUs: tUs, rig: cam.rig, side: cam.side, seq, width: out.width, height: out.height,
      format: out.channels === 3 ? 'RGB' : 'GRAY8', data: out.image,
    };
  });
}

export function frameSet(images: (CameraImage | null)[], tSampleUs: number, seq: number): FrameSet {
  return { tUs: tSampleUs, tSampleUs, seq, images, holes: [], dead: [], skewUs: 0 };
}
