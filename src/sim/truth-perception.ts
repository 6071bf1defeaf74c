import type { GateObservation, PerceptionGates, Quat, Vec3 } from '../core/messages.js';
import type { QuadState } from './quadrotor.js';
import { Prng } from './sensors.js';
import { qconj, qfromColumns, qmul, qrotate } from './vec.js';
import type { World } from './world.js';

/** A camera rig's viewing direction on the body and its field of view: enough to say what it can see. */
export interface RigView {
  name: string;
  yawDeg: number;
  /** Up is positive, as in the rig configuration. */
  pitchDeg: number;
  hfovDeg: number;
  vfovDeg: number;
}

/** The four rigs of config/rigs/jetson-csi.json: 640×480, fx 287 / fy 383 px → about 96° × 64°. */
export const DEFAULT_RIG_VIEWS: RigView[] = [
  { name: 'front', yawDeg: 0, pitchDeg: 20, hfovDeg: 96, vfovDeg: 64 },
  { name: 'left', yawDeg: -90, pitchDeg: 0, hfovDeg: 96, vfovDeg: 64 },
  { name: 'right', yawDeg: 90, pitchDeg: 0, hfovDeg: 96, vfovDeg: 64 },
  { name: 'back', yawDeg: 180, pitchDeg: 0, hfovDeg: 96, vfovDeg: 64 },
];

export interface TruthPerceptionParams {
  rigs: RigView[];
  /** Gates further than this are too small to detect (m). */
  maxRangeM: number;
  minRangeM: number;
  /** A gate seen more edge-on than this is not detected (deg between line of sight and its normal). */
  maxObliqueDeg: number;
  /** 1σ position noise per body axis: base + fraction of the range (stereo + PnP at these resolutions). */
  sigmaBaseM: number;
  sigmaPerM: number;
  /** Probability that a detection is a false one somewhere in view (outliers the gate map must reject). */
  outlierRate: number;
  /** Detection latency: capture to publication (µs). */
  latencyUs: number;
}

export const defaultTruthPerceptionParams: TruthPerceptionParams = {
  rigs: DEFAULT_RIG_VIEWS,
  maxRangeM: 25,
  minRangeM: 0.8,
  maxObliqueDeg: 75,
  sigmaBaseM: 0.03,
  sigmaPerM: 0.012,
  outlierRate: 0.01,
  latencyUs: 25_000,
};

/**
 * `--perception truth`: what the detector would report, computed from the true geometry instead of images. Each
 * gate whose centre lies in a rig's field of view, within range and not seen edge-on, becomes one observation in the
 * body frame at the capture time, with range-dependent Gaussian noise and occasional outliers (seeded). It is the
 * stand-in for the rendered cameras and the detector while developing, and the test's fast path.
 */
export class TruthPerception {
  private readonly rng: Prng;
  private seq = 0;

  constructor(
    private readonly world: World,
    seed: number,
    private readonly params: TruthPerceptionParams = defaultTruthPerceptionParams,
  ) {
    this.rng = new Prng(seed * 104729 + 3);
  }

  observe(tSampleUs: number, truth: QuadState): PerceptionGates {
    const p = this.params;
    const qInv = qconj(truth.q_ned_body);
    const gates: GateObservation[] = [];
    for (const g of this.world.gates) {
      const d_ned: Vec3 = [g.p_ned_m[0] - truth.p_ned_m[0], g.p_ned_m[1] - truth.p_ned_m[1], g.p_ned_m[2] - truth.p_ned_m[2]];
      const range = Math.hypot(...d_ned);
      if (range < p.minRangeM || range > p.maxRangeM) continue;
      const cosOblique = Math.abs(d_ned[0] * g.n_ned[0] + d_ned[1] * g.n_ned[1] + d_ned[2] * g.n_ned[2]) / range;
      if (cosOblique < Math.cos((p.maxObliqueDeg * Math.PI) / 180)) continue;
      const b = qrotate(qInv, d_ned);
      const rig = p.rigs.find((r) => inView(r, b));
      if (!rig) continue;
      const sigma = p.sigmaBaseM + p.sigmaPerM * range;
      const outlier = this.rng.next() < p.outlierRate;
      const noise = (s: number) => s * this.rng.gauss();
      const p_body: Vec3 = outlier
        ? [b[0] + noise(3), b[1] + noise(3), b[2] + noise(1)]
        : [b[0] + noise(sigma), b[1] + noise(sigma), b[2] + noise(sigma)];
      // Gate frame: z its normal pointing away from the camera, y down, x = y × z.
      const away = d_ned[0] * g.n_ned[0] + d_ned[1] * g.n_ned[1] >= 0 ? g.n_ned : ([-g.n_ned[0], -g.n_ned[1], 0] as Vec3);
      const y: Vec3 = [0, 0, 1];
      const x: Vec3 = [y[1] * away[2] - y[2] * away[1], y[2] * away[0] - y[0] * away[2], y[0] * away[1] - y[1] * away[0]];
      const q_ned_gate = qfromColumns(x, y, away);
      const q_body_gate: Quat = qmul(qInv, q_ned_gate);
      gates.push({
        p_body_m: p_body,
        q_body_gate,
        sigma_p_body_m: [sigma, sigma, sigma],
        sigmaRot_rad: 0.05,
        range_m: range,
        score: 0.9,
        rig: rig.name,
        seenBy: ['left', 'right'],
        method: 'stereo+pnp',
        cornersSeen: [true, true, true, true],
        corners_px: [],
      });
    }
    return {
      tUs: tSampleUs + p.latencyUs,
      tSampleUs,
      framesetSeq: this.seq++,
      gates,
      imagesUsed: 0,
      rejected: [],
      provider: 'truth',
      timings: { queueMs: 0, preprocessMs: 0, inferenceMs: 0, decodeMs: 0, geometryMs: 0, endToEndMs: p.latencyUs / 1000 },
    };
  }
}

/** Whether a body-frame direction is inside a rig's field of view (with a margin: the whole gate should fit). */
function inView(r: RigView, b: Vec3): boolean {
  const yaw = (r.yawDeg * Math.PI) / 180;
  const pitch = (r.pitchDeg * Math.PI) / 180;
  // Camera axes in body FRD: forward f, right x, down y.
  const f: Vec3 = [Math.cos(pitch) * Math.cos(yaw), Math.cos(pitch) * Math.sin(yaw), -Math.sin(pitch)];
  const x: Vec3 = [-Math.sin(yaw), Math.cos(yaw), 0];
  const y: Vec3 = [f[1] * x[2] - f[2] * x[1], f[2] * x[0] - f[0] * x[2], f[0] * x[1] - f[1] * x[0]];
  const zc = b[0] * f[0] + b[1] * f[1] + b[2] * f[2];
  if (zc <= 0.3) return false;
  const xc = (b[0] * x[0] + b[1] * x[1] + b[2] * x[2]) / zc;
  const yc = (b[0] * y[0] + b[1] * y[1] + b[2] * y[2]) / zc;
  const margin = 0.85;
  return Math.abs(xc) < Math.tan(((r.hfovDeg / 2) * Math.PI) / 180) * margin && Math.abs(yc) < Math.tan(((r.vfovDeg / 2) * Math.PI) / 180) * margin;
}
