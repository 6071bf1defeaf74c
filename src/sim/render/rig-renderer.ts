/**
 * The simulator's camera: renders every camera of the rigs from the vehicle's pose (what the flight controller or
 * the simulated dynamics report), each through its own lens and mounting. Images come out at `scale` times the
 * configured size with the intrinsics scaled alike (the simulator renders at half size by default: see bench.ts for
 * the rates), in the rig's pixel format.
 */
import { CameraModel, scaledCalibration } from '../../camera/camera-model.js';
import type { RigCamera } from '../../camera/rig.js';
import type { Quat, Vec3 } from '../../core/messages.js';
import { LensTable } from './lens-table.js';
import type { Look } from './look.js';
import { mulMat, mulVec, type CameraPose, type Mat3 } from './math3.js';
import { Renderer, type RenderOutput } from './renderer.js';
import type { Scene } from './scene.js';

export interface RigRendererOptions {
  /** Rendered size as a fraction of each camera's configured size. Default 0.5. */
  scale?: number;
  channels?: 1 | 3;
}

export class RigRenderer {
  readonly renderers: Renderer[];
  /** The camera models at the rendered size (labels must use these). */
  readonly models: CameraModel[];

  constructor(
    readonly scene: Scene,
    readonly cameras: readonly RigCamera[],
    opts: RigRendererOptions = {},
  ) {
    const scale = opts.scale ?? 0.5;
    if (!(scale > 0 && scale <= 1)) throw new RangeError(`render scale must be in (0, 1], got ${scale}`);
    this.models = cameras.map((c) =>
      scale === 1 ? c.model : new CameraModel(scaledCalibration(c.model, Math.max(16, Math.round(c.model.width * scale)), Math.max(16, Math.round(c.model.height * scale)))),
    );
    this.renderers = this.models.map((m) => new Renderer(scene, new LensTable(m), opts.channels ?? 1));
  }

  /** Each camera's pose in the world for a vehicle at p_ned_m with attitude q_ned_body. */
  cameraPoses(p_ned_m: Vec3, q_ned_body: Quat): CameraPose[] {
    const R_ned_body = quatToMat(q_ned_body);
    return this.cameras.map((c) => {
      const off = mulVec(R_ned_body, c.p_body_m);
      return { p_ned_m: [p_ned_m[0] + off[0], p_ned_m[1] + off[1], p_ned_m[2] + off[2]], R_ned_cam: mulMat(R_ned_body, c.R_body_cam as Mat3) };
    });
  }

  /** Renders all cameras, in FrameSet slot order; pass last call's outputs to reuse their buffers. */
  render(p_ned_m: Vec3, q_ned_body: Quat, look: Look, outs?: RenderOutput[]): RenderOutput[] {
    const poses = this.cameraPoses(p_ned_m, q_ned_body);
    return this.renderers.map((r, k) => r.render(poses[k]!, look, outs?.[k]));
  }
}

/** Rotation matrix (row-major) of a unit quaternion [w, x, y, z]; normalises it first. */
export function quatToMat(q: Quat): Mat3 {
  const n = Math.hypot(q[0], q[1], q[2], q[3]);
  if (!(n > 0)) throw new RangeError('attitude quaternion is zero');
  const [w, x, y, z] = [q[0] / n, q[1] / n, q[2] / n, q[3] / n];
  return [
    1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
    2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
    2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
  ];
}
