import type { Quat, Vec3 } from '../core/messages.js';
import type { QuadState } from './quadrotor.js';
import { qintegrate } from './vec.js';

/**
 * What the simulated flight controller's estimator reports, as opposed to the truth: white noise on position,
 * velocity and attitude, a latency (the estimate describes the vehicle as it was `latencyS` ago), and optionally
 * odometry drift: a random walk of the reported position, as visual-inertial odometry drifts away from the world
 * while staying smooth. All randomness comes from a seeded PRNG, so a seed replays the same noise exactly.
 */
export interface SensorParams {
  /** Position noise, standard deviation per axis (m). */
  posNoiseM: number;
  /** Velocity noise, standard deviation per axis (m/s). */
  velNoiseMps: number;
  /** Attitude noise, standard deviation of a small rotation per axis (rad). */
  attNoiseRad: number;
  /** Delay between the truth and its report (s). */
  latencyS: number;
  /**
   * Drift random walk intensity (m/√s per axis): after t seconds the drift has standard deviation
   * driftM_per_sqrtS·√t. 0 disables it. 0.05 m/√s ≈ 0.4 m after a minute: a decent VIO.
   */
  driftMPerSqrtS: number;
  seed: number;
}

/** Quiet defaults: a good estimator (PX4 with an external vision system), no drift. */
export const DEFAULT_SENSOR_PARAMS: Readonly<SensorParams> = {
  posNoiseM: 0.01,
  velNoiseMps: 0.02,
  attNoiseRad: 0.002,
  latencyS: 0.01,
  driftMPerSqrtS: 0,
  seed: 1,
};

/** Time constant (s) of the low-pass that makes the drift smooth. */
const DRIFT_SMOOTHING_S = 3;

/** The drift intensity `--drift` switches on. */
export const VIO_DRIFT_M_PER_SQRT_S = 0.05;

/** mulberry32: a tiny, fast, well-mixed 32-bit PRNG; enough for simulation noise, not for cryptography. */
export class Prng {
  private s: number;
  private spare: number | null = null;

  constructor(seed: number) {
    this.s = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Standard normal (Box–Muller, the second value kept for the next call). */
  gauss(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    const u = Math.max(this.next(), 1e-300);
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
}

export interface EstimatedState {
  /** When the vehicle was in the reported state (µs, simulation clock). */
  tSampleUs: number;
  p_ned_m: Vec3;
  v_ned_mps: Vec3;
  q_ned_body: Quat;
  w_body_radps: Vec3;
  /** The drift included in p_ned_m (m), for tests and logs; a real estimator cannot know it. */
  drift_ned_m: Vec3;
}

interface Sample {
  tUs: number;
  state: QuadState;
}

/**
 * Feed it the truth after each physics step (`record`), ask it what the estimator says now (`estimate`). Keeps
 * only as much history as the latency needs.
 */
export class OdometrySensor {
  private readonly rng: Prng;
  private readonly history: Sample[] = [];
  private driftNed: Vec3 = [0, 0, 0];
  private walk: Vec3 = [0, 0, 0];
  private lastDriftUs: number | null = null;

  constructor(readonly params: SensorParams = DEFAULT_SENSOR_PARAMS) {
    this.rng = new Prng(params.seed);
  }

  record(tUs: number, truth: QuadState): void {
    this.history.push({ tUs, state: truth });
    const keepFromUs = tUs - this.params.latencyS * 1e6;
    // Keep the newest sample at or before the latency horizon, drop older ones.
    while (this.history.length > 1 && this.history[1]!.tUs <= keepFromUs) this.history.shift();
    if (this.lastDriftUs !== null && this.params.driftMPerSqrtS > 0 && tUs > this.lastDriftUs) {
      const sd = this.params.driftMPerSqrtS * Math.sqrt((tUs - this.lastDriftUs) / 1e6);
      this.walk = [this.walk[0] + sd * this.rng.gauss(), this.walk[1] + sd * this.rng.gauss(), this.walk[2] + sd * this.rng.gauss()];
      // VIO drift is smooth (it integrates a slowly changing bias), so the walk is low-passed before it is applied;
      // over minutes it keeps the walk's √t growth.
      const k = 1 - Math.exp(-(tUs - this.lastDriftUs) / 1e6 / DRIFT_SMOOTHING_S);
      this.driftNed = [0, 1, 2].map((i) => this.driftNed[i]! + (this.walk[i]! - this.driftNed[i]!) * k) as Vec3;
    }
    this.lastDriftUs = tUs;
  }

  /** The drift so far (m, NED). */
  drift(): Vec3 {
    return [...this.driftNed];
  }

  /** The estimate available at tUs, or null before the first recorded state. */
  estimate(tUs: number): EstimatedState | null {
    const horizon = tUs - this.params.latencyS * 1e6;
    let sample: Sample | undefined;
    for (const h of this.history) {
      if (h.tUs <= horizon) sample = h;
      else break;
    }
    sample ??= this.history[0];
    if (!sample) return null;
    const s = sample.state;
    const p = this.params;
    const n = (sd: number): number => (sd > 0 ? sd * this.rng.gauss() : 0);
    const attErr: Vec3 = [n(p.attNoiseRad), n(p.attNoiseRad), n(p.attNoiseRad)];
    return {
      tSampleUs: sample.tUs,
      p_ned_m: [
        s.p_ned_m[0] + this.driftNed[0] + n(p.posNoiseM),
        s.p_ned_m[1] + this.driftNed[1] + n(p.posNoiseM),
        s.p_ned_m[2] + this.driftNed[2] + n(p.posNoiseM),
      ],
      v_ned_mps: [s.v_ned_mps[0] + n(p.velNoiseMps), s.v_ned_mps[1] + n(p.velNoiseMps), s.v_ned_mps[2] + n(p.velNoiseMps)],
      q_ned_body: qintegrate(s.q_ned_body, attErr, 1),
      w_body_radps: [...s.w_body_radps],
      drift_ned_m: [...this.driftNed],
    };
  }
}
