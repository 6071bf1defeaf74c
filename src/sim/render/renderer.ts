/**
 * Renders what a camera sees from a pose in the scene, with the camera's own lens distortion, plus the gate-frame
 * mask. One Renderer per camera (it holds that camera's ray table); render() allocates nothing per pixel and is
 * typed-array loops only, so eight small images fit a 30 Hz budget on two cores (see bench.ts).
 *
 * Per pixel: the camera-frame ray rotated into the world, the hall box (floor, ceiling, walls) exited first, then the
 * scene rectangles whose bounding sphere touches the pixel's tile cone. The nearest hit's texture is sampled at the
 * mip level its footprint calls for, dimmed by haze and lens falloff, then exposed through a tone curve.
 */
import { CameraModel } from '../../camera/camera-model.js';
import type { Vec3 } from '../../core/messages.js';
import { LensTable, TILE } from './lens-table.js';
import { applyMotionBlur, addNoise } from './effects.js';
import type { Look } from './look.js';
import type { CameraPose } from './math3.js';
import type { Scene } from './scene.js';
import type { MipLevel } from './texture.js';

export interface RenderOutput {
  width: number;
  height: number;
  channels: 1 | 3;
  /** Row-major, interleaved when RGB. */
  image: Uint8Array;
  /** Per pixel: 0, or 1 + the index of the gate whose frame is the nearest surface there. */
  gateIds: Uint8Array;
}

const Q = 19; // floats per quad in the per-frame table
const TONE_N = 4096;
const TONE_MAX = 4; // linear values above this clip

export class Renderer {
  readonly lens: LensTable;
  private readonly nq: number;
  private readonly qf: Float64Array;
  private readonly qLevels: MipLevel[][];
  private readonly tileList: Int32Array;
  private readonly tileCount: Int32Array;
  private readonly linear: Float32Array;
  private readonly tone = new Uint8Array(TONE_N);
  private readonly haze = new Float32Array(1024);
  /** Per quad: 1 + its gate index, or 0 (what the gate-id image stores). */
  private readonly quadGate: Uint8Array;

  constructor(
    readonly scene: Scene,
    model: CameraModel | LensTable,
    readonly channels: 1 | 3 = 1,
  ) {
    if (scene.gates.length > 254) throw new RangeError(`a scene can hold at most 254 gates for the mask, has ${scene.gates.length}`);
    this.lens = model instanceof LensTable ? model : new LensTable(model);
    this.nq = scene.quads.length;
    this.qf = new Float64Array(this.nq * Q);
    this.qLevels = scene.quads.map((q) => q.tex.levels);
    this.quadGate = Uint8Array.from(scene.quads, (q) => q.gate + 1);
    const nt = this.lens.tilesX * this.lens.tilesY;
    this.tileList = new Int32Array(nt * Math.max(1, this.nq));
    this.tileCount = new Int32Array(nt);
    this.linear = new Float32Array(this.lens.width * this.lens.height * 3);
  }

  render(pose: CameraPose, look: Look, out?: RenderOutput): RenderOutput {
    const { width: w, height: h } = this.lens;
    const ch = this.channels;
    const o = out ?? { width: w, height: h, channels: ch, image: new Uint8Array(w * h * ch), gateIds: new Uint8Array(w * h) };
    this.prepareFrame(pose, look);
    this.trace(pose);
    this.expose(o, look);
    if (look.blurPx >= 0.5) applyMotionBlur(o.image, w, h, ch, look.blurPx, look.blurAngle);
    if (look.noiseSigma > 0) addNoise(o.image, look.noiseSigma, look.noiseSeed);
    return o;
  }

  /** Per-frame quad constants, and which quads each tile must test. */
  private prepareFrame(pose: CameraPose, look: Look): void {
    const [ox, oy, oz] = pose.p_ned_m;
    const R = pose.R_ned_cam;
    const qf = this.qf;
    const lens = this.lens;
    const nt = lens.tilesX * lens.tilesY;
    this.tileCount.fill(0);
    for (let k = 0; k < this.nq; k++) {
      const q = this.scene.quads[k]!;
      const dx = q.c[0] - ox, dy = q.c[1] - oy, dz = q.c[2] - oz;
      const b = k * Q;
      qf[b] = q.n[0]; qf[b + 1] = q.n[1]; qf[b + 2] = q.n[2];
      qf[b + 3] = q.a[0]; qf[b + 4] = q.a[1]; qf[b + 5] = q.a[2];
      qf[b + 6] = q.b[0]; qf[b + 7] = q.b[1]; qf[b + 8] = q.b[2];
      qf[b + 9] = q.n[0] * dx + q.n[1] * dy + q.n[2] * dz; // n·(c − o)
      qf[b + 10] = -(q.a[0] * dx + q.a[1] * dy + q.a[2] * dz); // a·(o − c)
      qf[b + 11] = -(q.b[0] * dx + q.b[1] * dy + q.b[2] * dz);
      qf[b + 12] = q.ha; qf[b + 13] = q.hb; qf[b + 14] = q.holeA; qf[b + 15] = q.holeB;
      qf[b + 16] = q.ku; qf[b + 17] = q.kv; qf[b + 18] = q.gain;
      // Bounding sphere in the camera frame against each tile's cone.
      const cx = R[0] * dx + R[3] * dy + R[6] * dz;
      const cy = R[1] * dx + R[4] * dy + R[7] * dz;
      const cz = R[2] * dx + R[5] * dy + R[8] * dz;
      const dist = Math.hypot(cx, cy, cz);
      const rad = Math.hypot(q.ha, q.hb) * 1.0001;
      const inside = dist <= rad;
      // Touches the cone when the angle to the centre is below half-angle + the sphere's angular radius β:
      // cos α ≥ cos(half + β) = cos half·cos β − sin half·sin β (no trigonometry per tile).
      const beta = inside ? Math.PI : Math.asin(rad / dist);
      const sinB = inside ? 0 : rad / dist, cosB = inside ? -1 : Math.sqrt(1 - sinB * sinB);
      if (!inside && lens.fovHalf + beta < Math.PI && cz / dist < Math.cos(lens.fovHalf + beta)) continue; // out of view
      const { tileHalf, tileCos, tileSin, tileAxis } = lens;
      const tileList = this.tileList, tileCount = this.tileCount, nq = this.nq;
      for (let t = 0; t < nt; t++) {
        const half = tileHalf[t]!;
        if (half < 0) continue;
        let hit = inside || half + beta >= Math.PI;
        if (!hit) {
          const cosA = (tileAxis[3 * t]! * cx + tileAxis[3 * t + 1]! * cy + tileAxis[3 * t + 2]! * cz) / dist;
          hit = cosA >= tileCos[t]! * cosB - tileSin[t]! * sinB;
        }
        if (hit) tileList[t * nq + tileCount[t]!++] = k;
      }
    }
    // Haze by distance, tabulated at 1/8 m.
    const hd = this.scene.hazeDist_m * look.hazeScale;
    for (let i = 0; i < this.haze.length; i++) this.haze[i] = Math.exp(-(i / 8) / hd);
  }

  private trace(pose: CameraPose): void {
    const lens = this.lens;
    const { width: w, height: h, rays, valid, pixAngle, vignette } = lens;
    const R = pose.R_ned_cam;
    const r0 = R[0], r1 = R[1], r2 = R[2], r3 = R[3], r4 = R[4], r5 = R[5], r6 = R[6], r7 = R[7], r8 = R[8];
    const [ox, oy, oz] = pose.p_ned_m as Vec3;
    const hall = this.scene.hall;
    const hx0 = hall.x0, hx1 = hall.x1, hy0 = hall.y0, hy1 = hall.y1, hz0 = -hall.height;
    const hk = hall.k;
    const floorL = hall.floor.levels, ceilL = hall.ceiling.levels, walls = hall.walls.map((t) => t.levels);
    const floorGain = hall.floorGain, ceilingGain = hall.ceilingGain, wallGain = hall.wallGain;
    const quadGate = this.quadGate;
    const qf = this.qf, nq = this.nq, tileList = this.tileList, tileCount = this.tileCount, qLevels = this.qLevels;
    const haze = this.haze, hazeN = haze.length - 1;
    const [hr, hg, hb] = this.scene.hazeRgb;
    const lin = this.linear;
    const gateIds = this.gateIdsScratch ?? (this.gateIdsScratch = new Uint8Array(w * h));
    const tx = lens.tilesX;
    for (let y = 0; y < h; y++) {
      const tyBase = ((y / TILE) | 0) * tx;
      for (let x = 0; x < w; x++) {
        const i = y * w + x;
        gateIds[i] = 0;
        if (!valid[i]) {
          lin[3 * i] = 0; lin[3 * i + 1] = 0; lin[3 * i + 2] = 0;
          continue;
        }
        const cx = rays[3 * i]!, cy = rays[3 * i + 1]!, cz = rays[3 * i + 2]!;
        const dx = r0 * cx + r1 * cy + r2 * cz;
        const dy = r3 * cx + r4 * cy + r5 * cz;
        const dz = r6 * cx + r7 * cy + r8 * cz;
        // Hall: the nearest exit of the box along the ray.
        const tX = dx > 0 ? (hx1 - ox) / dx : dx < 0 ? (hx0 - ox) / dx : Infinity;
        const tY = dy > 0 ? (hy1 - oy) / dy : dy < 0 ? (hy0 - oy) / dy : Infinity;
        const tZ = dz > 0 ? -oz / dz : dz < 0 ? (hz0 - oz) / dz : Infinity;
        let best = tX, face = 0;
        if (tY < best) { best = tY; face = 1; }
        if (tZ < best) { best = tZ; face = 2; }
        let bestQ = -1, bs = 0, bt = 0, bcos = 1;
        const t = tyBase + ((x / TILE) | 0);
        const cnt = tileCount[t]!;
        const base = t * nq;
        for (let m = 0; m < cnt; m++) {
          const k = tileList[base + m]!;
          const b = k * Q;
          const den = qf[b]! * dx + qf[b + 1]! * dy + qf[b + 2]! * dz;
          if (den > -1e-9 && den < 1e-9) continue;
          const tq = qf[b + 9]! / den;
          if (tq <= 0.05 || tq >= best) continue;
          const s = qf[b + 10]! + tq * (qf[b + 3]! * dx + qf[b + 4]! * dy + qf[b + 5]! * dz);
          const ha = qf[b + 12]!;
          if (s < -ha || s > ha) continue;
          const u = qf[b + 11]! + tq * (qf[b + 6]! * dx + qf[b + 7]! * dy + qf[b + 8]! * dz);
          const hb2 = qf[b + 13]!;
          if (u < -hb2 || u > hb2) continue;
          const holeA = qf[b + 14]!;
          if (holeA > 0 && s > -holeA && s < holeA && u > -qf[b + 15]! && u < qf[b + 15]!) continue;
          best = tq; bestQ = k; bs = s + ha; bt = u + hb2; bcos = den < 0 ? -den : den;
        }
        let lv: MipLevel[], tu: number, tv: number, gain: number;
        if (bestQ >= 0) {
          const b = bestQ * Q;
          lv = qLevels[bestQ]!;
          tu = bs * qf[b + 16]!; tv = bt * qf[b + 17]!;
          gain = qf[b + 18]!;
          gateIds[i] = quadGate[bestQ]!;
        } else {
          const px = ox + best * dx, py = oy + best * dy, pz = oz + best * dz;
          if (face === 2) {
            tu = (px - hx0) * hk; tv = (py - hy0) * hk;
            if (dz > 0) { lv = floorL; gain = floorGain; bcos = dz; }
            else { lv = ceilL; gain = ceilingGain; bcos = -dz; }
          } else if (face === 0) {
            tu = (py - hy0) * hk; tv = (pz - hz0) * hk;
            lv = dx < 0 ? walls[0]! : walls[1]!; gain = wallGain; bcos = dx < 0 ? -dx : dx;
          } else {
            tu = (px - hx0) * hk; tv = (pz - hz0) * hk;
            lv = dy < 0 ? walls[2]! : walls[3]!; gain = wallGain; bcos = dy < 0 ? -dy : dy;
          }
        }
        // Texel footprint → mip level (grazing views get a coarser level, as anisotropy would blur them anyway).
        let fp = (best * pixAngle[i]! * (bestQ >= 0 ? qf[bestQ * Q + 16]! : hk)) / (bcos < 0.2 ? 0.2 : bcos);
        let l = 0;
        while (fp > 1.5 && l < lv.length - 1) { fp *= 0.5; l++; }
        const lev = lv[l]!;
        let iu = (tu / (1 << l)) | 0, iv = (tv / (1 << l)) | 0;
        if (iu < 0) iu = 0; else if (iu >= lev.w) iu = lev.w - 1;
        if (iv < 0) iv = 0; else if (iv >= lev.h) iv = lev.h - 1;
        const ti = (iv * lev.w + iu) * 3;
        const hzi = best * 8;
        const f = haze[hzi < hazeN ? hzi | 0 : hazeN]!;
        const k = (gain * f * vignette[i]!) / 255;
        const hzk = ((1 - f) * vignette[i]!) / 255;
        lin[3 * i] = lev.data[ti]! * k + hr * hzk;
        lin[3 * i + 1] = lev.data[ti + 1]! * k + hg * hzk;
        lin[3 * i + 2] = lev.data[ti + 2]! * k + hb * hzk;
      }
    }
  }

  private gateIdsScratch: Uint8Array | null = null;
  private toneGamma = NaN;

  private buildTone(gamma: number): void {
    for (let i = 0; i < TONE_N; i++) {
      const v = Math.pow((i / (TONE_N - 1)) * TONE_MAX, gamma);
      this.tone[i] = Math.max(0, Math.min(255, Math.round(255 * v)));
    }
    this.toneGamma = gamma;
  }

  private expose(o: RenderOutput, look: Look): void {
    const n = this.lens.width * this.lens.height;
    if (this.toneGamma !== look.gamma) this.buildTone(look.gamma);
    const lin = this.linear, tone = this.tone, img = o.image;
    const s = ((TONE_N - 1) / TONE_MAX) * look.exposure;
    const kr = s * look.tint[0], kg = s * look.tint[1], kb = s * look.tint[2];
    const top = TONE_N - 1;
    if (o.channels === 3) {
      for (let i = 0; i < n; i++) {
        const r = lin[3 * i]! * kr, g = lin[3 * i + 1]! * kg, b = lin[3 * i + 2]! * kb;
        img[3 * i] = tone[r < top ? r | 0 : top]!;
        img[3 * i + 1] = tone[g < top ? g | 0 : top]!;
        img[3 * i + 2] = tone[b < top ? b | 0 : top]!;
      }
    } else {
      for (let i = 0; i < n; i++) {
        const v = 0.299 * lin[3 * i]! * kr + 0.587 * lin[3 * i + 1]! * kg + 0.114 * lin[3 * i + 2]! * kb;
        img[i] = tone[v < top ? v | 0 : top]!;
      }
    }
    o.gateIds.set(this.gateIdsScratch!);
  }
}

/** The gate-frame mask as the real dataset stores it: 255 on any gate's frame, 0 elsewhere. */
export function maskFromGateIds(gateIds: Uint8Array): Uint8Array {
  const m = new Uint8Array(gateIds.length);
  for (let i = 0; i < m.length; i++) m[i] = gateIds[i] ? 255 : 0;
  return m;
}
