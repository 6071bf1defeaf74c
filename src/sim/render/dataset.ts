/**
 * The training-set generator: rendered frames, gate-frame masks and inner-corner labels in the format of
 * ../shared/data/gates/airr-onboard (img_N.png RGB, mask_N.png 0/255, corners.csv without header, one row per
 * visible gate: file,x1,y1,x2,y2,x3,y3,x4,y4 for TL, TR, BR, BL).
 *
 * Image i depends only on (seed, i): its scene is scene ⌊i / sceneEvery⌋ of the seed, its pose and look come from
 * their own stream, so a longer run extends a shorter one with the same files.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CameraModel, type CameraCalibration, scaledCalibration } from '../../camera/camera-model.js';
import { defaultRigs } from '../../core/config/camera.js';
import { LensTable } from './lens-table.js';
import { gateLabels, cornersCsvRow } from './labels.js';
import { randomLook } from './look.js';
import { encodePng } from './png.js';
import { samplePose } from './poses.js';
import { Prng } from './prng.js';
import { Renderer, maskFromGateIds } from './renderer.js';
import { buildScene, type Scene } from './scene.js';

/**
 * Fewest visible frame pixels for a label: about a gate with a 10 px opening, a little below the smallest gates the
 * real airr-onboard labels mark (16 px); smaller ones are left unlabelled, as there.
 */
const MIN_LABEL_PX = 80;

export interface DatasetOptions {
  out: string;
  count: number;
  seed: number;
  width: number;
  height: number;
  channels: 1 | 3;
  /** A new hall, course and gate print every this many images. */
  sceneEvery: number;
  /** The lens; the default rig's front-left camera scaled to width × height when absent. */
  calibration?: CameraCalibration;
  onImage?: (index: number, gates: number) => void;
}

export interface DatasetSummary {
  out: string;
  images: number;
  rows: number;
  imagesWithoutGate: number;
  scenes: number;
}

/** The default rig's front-left lens at another size. */
export function defaultDatasetCalibration(width: number, height: number): CameraCalibration {
  const rig = defaultRigs[0]!;
  const full = new CameraModel({ width: rig.width, height: rig.height, intrinsics: rig.left.intrinsics, distortion: rig.left.distortion });
  return scaledCalibration(full, width, height);
}

export function generateDataset(opts: DatasetOptions): DatasetSummary {
  const model = new CameraModel(opts.calibration ?? defaultDatasetCalibration(opts.width, opts.height));
  const lens = new LensTable(model);
  mkdirSync(opts.out, { recursive: true });
  const rows: string[] = [];
  let renderer: Renderer | null = null;
  let sceneIndex = -1;
  let empty = 0;
  let scenes = 0;
  for (let i = 0; i < opts.count; i++) {
    const si = Math.floor(i / opts.sceneEvery);
    if (si !== sceneIndex) {
      sceneIndex = si;
      const scene: Scene = buildScene({ seed: mix(opts.seed, 0x5ce4e, si) });
      renderer = new Renderer(scene, lens, opts.channels);
      scenes++;
    }
    const r = renderer!;
    const rng = new Prng(mix(opts.seed, 0x1a6e, i));
    // Redraw the pose a few times if no gate is visible: every real frame shows at least one gate.
    let out = null;
    let visible: ReturnType<typeof gateLabels> = [];
    for (let attempt = 0; attempt < 12; attempt++) {
      const pose = samplePose(r.scene, rng);
      out = r.render(pose, randomLook(rng));
      visible = gateLabels(r.scene, model, pose, out.gateIds, { minPixels: MIN_LABEL_PX }).filter((l) => l.visible);
      if (visible.length > 0) break;
    }
    const file = `img_${i}.png`;
    writeFileSync(join(opts.out, file), encodePng(out!.image, model.width, model.height, opts.channels));
    writeFileSync(join(opts.out, `mask_${i}.png`), encodePng(maskFromGateIds(out!.gateIds), model.width, model.height, 1));
    if (visible.length === 0) empty++;
    // Nearest gate first, as the eye reads the real labels (biggest first).
    visible.sort((a, b) => b.visiblePx - a.visiblePx);
    for (const l of visible) rows.push(cornersCsvRow(file, l));
    opts.onImage?.(i, visible.length);
  }
  writeFileSync(join(opts.out, 'corners.csv'), rows.length ? rows.join('\n') + '\n' : '');
  return { out: opts.out, images: opts.count, rows: rows.length, imagesWithoutGate: empty, scenes };
}

function mix(seed: number, salt: number, i: number): number {
  let h = Math.imul(seed ^ salt, 0x9e3779b1) ^ Math.imul(i + 1, 0x85ebca77);
  h ^= h >>> 16;
  return Math.imul(h, 0xc2b2ae3d) >>> 0;
}
