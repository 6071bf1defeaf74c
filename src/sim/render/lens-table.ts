/**
 * Per-pixel rays of one camera, computed once from its calibration so that lens distortion in the rendered image is
 * exactly the camera model's (the renderer never approximates the lens: it shoots the ray the model says each pixel
 * sees). Pixels beyond the lens' fold (no ray) stay black, as the corners of a strong barrel lens do.
 *
 * Rays are grouped into square tiles with a bounding cone each, so a frame tests each scene rectangle against a few
 * hundred cones instead of every pixel.
 */
import type { CameraModel } from '../../camera/camera-model.js';

export const TILE = 16;

export class LensTable {
  readonly width: number;
  readonly height: number;
  /** Unit rays in the camera frame, xyz per pixel. */
  readonly rays: Float32Array;
  /** 1 where the pixel has a ray. */
  readonly valid: Uint8Array;
  /** Angular size of the pixel (rad), for texture level choice. */
  readonly pixAngle: Float32Array;
  /** cos⁴-style falloff of wide lenses (relative illumination), 1 on axis. */
  readonly vignette: Float32Array;
  readonly tilesX: number;
  readonly tilesY: number;
  /** Per tile: cone axis xyz and half-angle. */
  readonly tileAxis: Float64Array;
  readonly tileHalf: Float64Array;
  readonly tileCos: Float64Array;
  readonly tileSin: Float64Array;
  /** Half-angle about the optical axis containing every ray: scene parts outside it skip the per-tile tests. */
  readonly fovHalf: number;

  constructor(readonly model: CameraModel) {
    const w = (this.width = model.width);
    const h = (this.height = model.height);
    const n = w * h;
    this.rays = new Float32Array(n * 3);
    this.valid = new Uint8Array(n);
    this.pixAngle = new Float32Array(n);
    this.vignette = new Float32Array(n);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const r = model.unproject([x, y]);
        if (!r) continue;
        const i = y * w + x;
        this.rays[3 * i] = r[0];
        this.rays[3 * i + 1] = r[1];
        this.rays[3 * i + 2] = r[2];
        this.valid[i] = 1;
        const c = Math.max(0, r[2]);
        this.vignette[i] = 0.35 + 0.65 * c * c;
      }
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const i = y * w + x;
        if (!this.valid[i]) continue;
        const j = x + 1 < w && this.valid[i + 1] ? i + 1 : x > 0 && this.valid[i - 1] ? i - 1 : -1;
        const r = this.rays;
        this.pixAngle[i] = j < 0 ? 0.01 : Math.hypot(r[3 * i]! - r[3 * j]!, r[3 * i + 1]! - r[3 * j + 1]!, r[3 * i + 2]! - r[3 * j + 2]!);
      }
    let minZ = 1;
    for (let i = 0; i < n; i++) if (this.valid[i]) minZ = Math.min(minZ, this.rays[3 * i + 2]!);
    this.fovHalf = Math.acos(Math.max(-1, minZ)) + 1e-4;
    this.tilesX = Math.ceil(w / TILE);
    this.tilesY = Math.ceil(h / TILE);
    const nt = this.tilesX * this.tilesY;
    this.tileAxis = new Float64Array(nt * 3);
    this.tileHalf = new Float64Array(nt);
    this.tileCos = new Float64Array(nt);
    this.tileSin = new Float64Array(nt);
    for (let ty = 0; ty < this.tilesY; ty++)
      for (let tx = 0; tx < this.tilesX; tx++) {
        const t = ty * this.tilesX + tx;
        let ax = 0, ay = 0, az = 0;
        const x1 = Math.min(w, (tx + 1) * TILE), y1 = Math.min(h, (ty + 1) * TILE);
        for (let y = ty * TILE; y < y1; y++)
          for (let x = tx * TILE; x < x1; x++) {
            const i = y * w + x;
            ax += this.rays[3 * i]!;
            ay += this.rays[3 * i + 1]!;
            az += this.rays[3 * i + 2]!;
          }
        const len = Math.hypot(ax, ay, az);
        if (len === 0) {
          this.tileHalf[t] = -1; // no valid pixel: nothing to test
          continue;
        }
        ax /= len; ay /= len; az /= len;
        let minCos = 1;
        for (let y = ty * TILE; y < y1; y++)
          for (let x = tx * TILE; x < x1; x++) {
            const i = y * w + x;
            if (!this.valid[i]) continue;
            minCos = Math.min(minCos, ax * this.rays[3 * i]! + ay * this.rays[3 * i + 1]! + az * this.rays[3 * i + 2]!);
          }
        this.tileAxis[3 * t] = ax;
        this.tileAxis[3 * t + 1] = ay;
        this.tileAxis[3 * t + 2] = az;
        // A hair of margin for float32 rays.
        this.tileHalf[t] = Math.acos(Math.max(-1, Math.min(1, minCos))) + 1e-4;
        this.tileCos[t] = Math.cos(this.tileHalf[t]!);
        this.tileSin[t] = Math.sin(this.tileHalf[t]!);
      }
  }
}

