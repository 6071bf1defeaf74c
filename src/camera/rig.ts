import type { RigConfig } from '../core/config/camera.js';
import type { Vec3 } from '../core/messages.js';
import { CameraModel, scaledCalibration } from './camera-model.js';
import { mat3Mul, type Mat3 } from '../core/vec3.js';

// Kept importable from here: rig code and its users speak of these alongside the rig types.
export { mat3Apply, mat3Mul, mat3Transpose, type Mat3 } from '../core/vec3.js';

export type { RigConfig } from '../core/config/camera.js';

/** Which image of a stereo pair. */
export type Side = 'left' | 'right';
export const SIDES: readonly Side[] = ['left', 'right'];

/** A 3x3 rotation, row-major: `R_a_b` rotates vectors from frame b into frame a (v_a = R_a_b · v_b). */

/** One camera of a rig with everything needed to render or triangulate: model and pose in the body FRD frame. */
export interface RigCamera {
  rig: string;
  side: Side;
  /** Index in a FrameSet's image list: 2·rigIndex + (0 left, 1 right). */
  slot: number;
  model: CameraModel;
  /** Rotates camera-frame (OpenCV: x right, y down, z forward) vectors into the body FRD frame. */
  R_body_cam: Mat3;
  /** Optical centre in the body frame (m). */
  p_body_m: Vec3;
  fps: number;
}

const deg = Math.PI / 180;

/**
 * A camera looking straight ahead: its z (forward) is body x, its x (right) body y, its y (down) body z.
 * Columns are the camera axes expressed in the body frame.
 */
const R_BODY_CAM_FORWARD: Mat3 = [0, 0, 1, 1, 0, 0, 0, 1, 0];




/**
 * Orientation of a rig's cameras in the body: yaw about body z (down; positive turns right), then pitch about the
 * yawed y axis (positive looks up), then roll about the viewing axis, applied to a forward-looking camera.
 * R = Rz(yaw) · Ry(pitch) · Rx(roll) · R_forward (intrinsic z-y-x, the aerospace order).
 */
export function rigRotation(yawDeg: number, pitchDeg: number, rollDeg: number): Mat3 {
  const [cy, sy] = [Math.cos(yawDeg * deg), Math.sin(yawDeg * deg)];
  const [cp, sp] = [Math.cos(pitchDeg * deg), Math.sin(pitchDeg * deg)];
  const [cr, sr] = [Math.cos(rollDeg * deg), Math.sin(rollDeg * deg)];
  const Rz: Mat3 = [cy, -sy, 0, sy, cy, 0, 0, 0, 1];
  // Pitch up means the forward axis gains a −z (up) component in FRD: Ry(θ)·x = (cos θ, 0, −sin θ).
  const Ry: Mat3 = [cp, 0, sp, 0, 1, 0, -sp, 0, cp];
  const Rx: Mat3 = [1, 0, 0, 0, cr, -sr, 0, sr, cr];
  return mat3Mul(mat3Mul(mat3Mul(Rz, Ry), Rx), R_BODY_CAM_FORWARD);
}

/**
 * The two cameras of a rig. Both share the rig's orientation (a rectified-style pair); the optical centres sit
 * ±baseline/2 along the cameras' x axis (right) from the rig's position.
 */
export function rigCameras(rig: RigConfig, rigIndex: number): [RigCamera, RigCamera] {
  const R = rigRotation(rig.pose.yawDeg, rig.pose.pitchDeg, rig.pose.rollDeg);
  const xAxis: Vec3 = [R[0], R[3], R[6]];
  const half = rig.baselineM / 2;
  const p = rig.pose.p_body_m;
  const make = (side: Side, sign: number): RigCamera => {
    const calib = rig[side];
    return {
      rig: rig.name,
      side,
      slot: 2 * rigIndex + (side === 'left' ? 0 : 1),
      // Intrinsics measured at another size (same aspect, checked by the config schema) are scaled to the readout.
      model: new CameraModel(
        calib.size && (calib.size.width !== rig.width || calib.size.height !== rig.height)
          ? scaledCalibration({ ...calib.size, intrinsics: calib.intrinsics, distortion: calib.distortion }, rig.width, rig.height)
          : { width: rig.width, height: rig.height, intrinsics: calib.intrinsics, distortion: calib.distortion },
      ),
      R_body_cam: [...R] as Mat3,
      p_body_m: [p[0] + sign * half * xAxis[0], p[1] + sign * half * xAxis[1], p[2] + sign * half * xAxis[2]],
      fps: rig.fps,
    };
  };
  return [make('left', -1), make('right', 1)];
}

/** Every enabled camera of a configuration, in FrameSet slot order (rig order, left before right). */
export function allRigCameras(rigs: readonly RigConfig[]): RigCamera[] {
  return rigs.filter((r) => r.enabled).flatMap((r, i) => rigCameras(r, i));
}

/** Bytes per pixel of a rig's frame format. */
export function bytesPerPixel(format: RigConfig['format']): number {
  return format === 'RGB' ? 3 : 1;
}
