/**
 * Labels of a rendered frame: each gate's inner corners projected with the camera model (the same model that made
 * the frame's rays, so labels and pixels agree by construction), and which gates count as visible, decided on the
 * rendered gate-id image so that gates hidden behind others or cut by the border are judged by what is really seen.
 */
import type { CameraModel, Pixel } from '../../camera/camera-model.js';
import type { Vec3 } from '../../core/messages.js';
import { dot, sub, worldToCam, type CameraPose } from './math3.js';
import type { Scene } from './scene.js';

export interface GateLabel {
  gate: number;
  /** Inner corners TL, TR, BR, BL as seen in the image; null where a corner does not project (behind, off the lens). */
  corners: [Pixel | null, Pixel | null, Pixel | null, Pixel | null];
  /** Per corner: it projects and lies on the image. */
  inImage: [boolean, boolean, boolean, boolean];
  /** The camera is on the far side of the gate (it has flown through or is looking at its back). */
  fromBehind: boolean;
  /** Frame pixels of this gate that are the nearest surface in the rendered frame. */
  visiblePx: number;
  /** Frame area in pixels the gate would cover unoccluded (from its projected corners; 0 if they do not all project). */
  expectedPx: number;
  /** Labelled: all inner corners project, enough of its frame is seen, at least two inner corners are on the image. */
  visible: boolean;
}

export interface LabelOptions {
  /** Fewest visible frame pixels for a label. */
  minPixels?: number;
  /** Smallest visible share of the unoccluded frame area. */
  minFraction?: number;
}

export function gateLabels(scene: Scene, model: CameraModel, pose: CameraPose, gateIds: Uint8Array, opts: LabelOptions = {}): GateLabel[] {
  const minPixels = opts.minPixels ?? 30;
  const minFraction = opts.minFraction ?? 0.25;
  const counts = new Uint32Array(scene.gates.length + 1);
  for (let i = 0; i < gateIds.length; i++) counts[gateIds[i]!]!++;
  return scene.gates.map((g) => {
    const fromBehind = dot(sub(pose.p_ned_m, g.c_ned_m), g.f_ned) > 0;
    // Seen from behind, the gate's right-hand side is on the image's left: swap left and right.
    const order = fromBehind ? [1, 0, 3, 2] : [0, 1, 2, 3];
    const proj = (p: Vec3) => model.project(worldToCam(pose, p));
    const corners = order.map((k) => proj(g.inner_ned_m[k]!)) as GateLabel['corners'];
    const inImage = corners.map((c) => c !== null && model.inImage(c)) as GateLabel['inImage'];
    const ho = g.outerHalf_m;
    const outer = [
      [-ho, -ho], [ho, -ho], [ho, ho], [-ho, ho],
    ].map(([s, t]) => proj([g.c_ned_m[0] + g.a_ned[0] * s!, g.c_ned_m[1] + g.a_ned[1] * s!, g.c_ned_m[2] + t!]));
    const all = corners.every((c) => c) && outer.every((c) => c);
    const expectedPx = all ? Math.max(0, area(outer as Pixel[]) - area(corners as Pixel[])) : 0;
    const visiblePx = counts[g.id + 1]!;
    const fraction = expectedPx > 0 ? visiblePx / expectedPx : 1;
    const visible =
      corners.every((c) => c !== null) && visiblePx >= minPixels && fraction >= minFraction && inImage.filter(Boolean).length >= 2;
    return { gate: g.id, corners, inImage, fromBehind, visiblePx, expectedPx, visible };
  });
}

function area(p: Pixel[]): number {
  let s = 0;
  for (let i = 0; i < p.length; i++) {
    const a = p[i]!, b = p[(i + 1) % p.length]!;
    s += a[0] * b[1] - b[0] * a[1];
  }
  return Math.abs(s) / 2;
}

/** One corners.csv row, as ../shared/data/gates/airr-onboard writes them: integer pixels, TL, TR, BR, BL. */
export function cornersCsvRow(file: string, label: GateLabel): string {
  if (label.corners.some((c) => !c)) throw new RangeError(`gate ${label.gate} has corners that do not project`);
  return [file, ...label.corners.flatMap((c) => [Math.round(c![0]), Math.round(c![1])])].join(',');
}
