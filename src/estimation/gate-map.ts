import type { GateMapState, Quat, Vec3 } from '../core/messages.js';
import type { MappedGate } from '../core/messages.js';
import { gateNormal, type Track } from '../planning/track.js';
import { LinearKalman } from './kalman.js';
import { quatRotate } from '../core/vec3.js';

/** A gate seen by perception, already in the odometry (flight controller's local NED) frame. */
export interface GateSighting {
  tUs: number;
  p_odom_ned_m: Vec3;
  /** 1-sigma position uncertainty of the sighting (m): grows with distance, shrinks when stereo agrees. */
  sigmaM: number;
  /**
   * When the sighting comes from a camera: its line of sight and its uncertainty across and along it, which replace
   * sigmaM's sphere. A camera places a gate's direction far better than its range (the range rests on the gate's
   * apparent size or a short baseline), so a far sighting still pins the gate across the line of sight: the part that
   * decides whether the vehicle flies through the opening.
   */
  los?: { u_ned: Vec3; sigmaLateralM: number; sigmaRangeM: number };
}

/** R = σ_lat²·(I − uuᵀ) + σ_range²·uuᵀ for a line of sight u (any length, non-zero). */
export function lineOfSightCov(los: Vec3, sigmaLateralM: number, sigmaRangeM: number): number[] {
  const n = Math.hypot(los[0], los[1], los[2]);
  const u = los.map((v) => v / n);
  const a = sigmaLateralM ** 2;
  const b = sigmaRangeM ** 2;
  const R: number[] = [];
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) R.push((i === j ? a : 0) + (b - a) * u[i]! * u[j]!);
  return R;
}

/** The map's published form is declared once in core/messages.ts (`estimation/gate_map`). */
export type { GateMapState, MappedGate };

export interface GateMapParams {
  /** How fast the odometry may drift: random-walk standard deviation per sqrt(second) (m/√s). */
  driftRateMps: number;
  /** Prior uncertainty of the drift at the start (m). */
  initialDriftSigmaM: number;
  /** Chi-square gate for 3 degrees of freedom: 11.34 keeps 99% of true sightings. */
  gateChi2: number;
  /** Floor under a track's stated uncertainty: the organisers' map is never exact (m). */
  minGateSigmaM: number;
  /**
   * When the race says which gate comes next: associate sightings only with it and the next `associateAhead - 1`
   * track entries (null: with any gate). A detector that places far and side-on gates metres off otherwise drags
   * gates the vehicle is not flying to, and through the shared drift, the one it is.
   */
  associateAhead: number | null;
  /**
   * A gate seen this far off its face (deg, between the line of sight and the gate's normal from the track) is not
   * associated with it; below that, the range uncertainty grows as 1/cos of the angle. Side-on, the opening is a
   * narrow sliver whose width the detector misjudges: measured in racepilot sim (seeds 2 and 5), sightings more than
   * 60° off the face were placed 2.7–3.2 m short along the line of sight (median), against 0.0–0.4 m within 30°.
   */
  maxObliqueDeg: number;
}

export const defaultGateMapParams: GateMapParams = {
  driftRateMps: 0.1, initialDriftSigmaM: 0.2, gateChi2: 11.34, minGateSigmaM: 0.05, associateAhead: null, maxObliqueDeg: 60,
};

/**
 * The gate map: one Kalman filter over the odometry drift d and every physical gate's world position g_i, observed
 * as z = g_i + d. Joint estimation is what makes drift observable: gates the track places precisely pin d, gates
 * placed loosely are refined, and a gate seen again after a lap corrects the drift accumulated in between.
 * Association: each sighting goes to the gate with the smallest Mahalanobis distance, preferring the gate the race
 * expects next when both fit; sightings that fit no gate are rejected as outliers and counted.
 */
export class GateMap {
  private readonly kf: LinearKalman;
  private readonly physicalOf: number[];
  private readonly ids: string[][];
  private lastUs: number | null = null;
  private accepted = 0;
  private rejected = 0;
  private readonly sightings: number[];
  /** Normal of each physical gate's plane, from the track (the organisers' yaw is trusted; positions are not). */
  private readonly normals: Vec3[] = [];

  constructor(
    track: Track,
    private readonly params: GateMapParams = defaultGateMapParams,
  ) {
    const firstIndexOf = new Map<string, number>();
    this.physicalOf = [];
    this.ids = [];
    const x0: number[] = [0, 0, 0];
    const P0: number[] = [params.initialDriftSigmaM ** 2, params.initialDriftSigmaM ** 2, params.initialDriftSigmaM ** 2];
    for (const g of track.gates) {
      const twin = g.sameAs !== undefined ? firstIndexOf.get(g.sameAs) : undefined;
      if (twin !== undefined) {
        this.physicalOf.push(twin);
        this.ids[twin]!.push(g.id);
        continue;
      }
      const k = this.ids.length;
      firstIndexOf.set(g.id, k);
      this.physicalOf.push(k);
      this.ids.push([g.id]);
      this.normals.push(gateNormal(g));
      x0.push(...g.p_ned_m);
      const s2 = Math.max(g.uncertaintyM, params.minGateSigmaM) ** 2;
      P0.push(s2, s2, s2);
    }
    this.kf = new LinearKalman(x0, P0);
    this.sightings = new Array<number>(this.ids.length).fill(0);
  }

  /** Physical gate index of a track entry. */
  physicalIndex(trackIndex: number): number {
    return this.physicalOf[trackIndex]!;
  }

  /** Lets time pass: the drift's uncertainty grows as a random walk. */
  predict(tUs: number): void {
    if (this.lastUs !== null && tUs > this.lastUs) {
      const dt = (tUs - this.lastUs) / 1e6;
      this.kf.addProcessNoise([0, 1, 2], this.params.driftRateMps ** 2 * dt);
    }
    if (this.lastUs === null || tUs > this.lastUs) this.lastUs = tUs;
  }

  /**
   * Fuses one sighting. `expectedTrackIndex` is the gate the race flies to next (or null); `gatesLeft` how many the
   * race still has to fly, so that `associateAhead` does not reach past its last gate (flying to the last gate of
   * the last lap, the first gate's sightings moved the shared drift and with it the last gate: seen in racepilot sim,
   * seed 5). Returns the physical gate it was associated with, or null when rejected as an outlier.
   */
  observe(s: GateSighting, expectedTrackIndex: number | null, gatesLeft = Infinity): number | null {
    this.predict(s.tUs);
    const sphere = [s.sigmaM ** 2, 0, 0, 0, s.sigmaM ** 2, 0, 0, 0, s.sigmaM ** 2];
    const cosMax = Math.cos((this.params.maxObliqueDeg * Math.PI) / 180);
    /** The sighting's covariance as a sighting of gate k, or null when it sees gate k too side-on to place it. */
    const Rfor = (k: number): number[] | null => {
      if (!s.los) return sphere;
      const n = this.normals[k]!;
      const u = s.los.u_ned;
      const c = Math.abs(u[0] * n[0] + u[1] * n[1] + u[2] * n[2]) / Math.hypot(u[0], u[1], u[2]);
      if (c < cosMax) return null;
      return lineOfSightCov(u, s.los.sigmaLateralM, s.los.sigmaRangeM / c);
    };
    const expected = expectedTrackIndex === null ? null : this.physicalOf[expectedTrackIndex] ?? null;
    const ahead = this.params.associateAhead;
    const allowed =
      ahead === null || expectedTrackIndex === null
        ? null
        : new Set(Array.from({ length: Math.max(1, Math.min(ahead, gatesLeft)) }, (_, i) => this.physicalOf[(expectedTrackIndex + i) % this.physicalOf.length]!));
    let best: { k: number; d2: number; R: number[] } | null = null;
    for (let k = 0; k < this.ids.length; k++) {
      if (allowed && !allowed.has(k)) continue;
      const R = Rfor(k);
      if (!R) continue;
      const { y, S } = this.kf.innovation([0, 3 + 3 * k], s.p_odom_ned_m, R);
      const d2 = LinearKalman.mahalanobis2(y, S);
      if (d2 > this.params.gateChi2) continue;
      // The expected gate wins ties within a factor of two: overlapping gates are told apart by the race order.
      const score = k === expected ? d2 / 2 : d2;
      if (!best || score < best.d2) best = { k, d2: score, R };
    }
    if (!best) {
      this.rejected++;
      return null;
    }
    this.kf.update([0, 3 + 3 * best.k], s.p_odom_ned_m, best.R);
    this.sightings[best.k]!++;
    this.accepted++;
    return best.k;
  }

  /** Where a track entry's gate is in the odometry frame now. */
  gateInOdom(trackIndex: number): Vec3 {
    const b = 3 + 3 * this.physicalOf[trackIndex]!;
    const x = this.kf.x;
    return [x[b]! + x[0]!, x[b + 1]! + x[1]!, x[b + 2]! + x[2]!];
  }

  drift(): Vec3 {
    return [this.kf.x[0]!, this.kf.x[1]!, this.kf.x[2]!];
  }

  snapshot(tUs: number): GateMapState {
    const x = this.kf.x;
    const d = this.drift();
    return {
      tUs,
      drift_ned_m: d,
      driftSigmaM: this.kf.sigma(0),
      gates: this.ids.map((ids, k) => {
        const b = 3 + 3 * k;
        const w: Vec3 = [x[b]!, x[b + 1]!, x[b + 2]!];
        return { physical: k, ids, p_world_ned_m: w, p_odom_ned_m: [w[0] + d[0], w[1] + d[1], w[2] + d[2]], sigmaM: this.kf.sigma(b), sightings: this.sightings[k]! };
      }),
      accepted: this.accepted,
      rejected: this.rejected,
    };
  }
}

/** A body-frame gate position into the odometry frame through the vehicle's reported pose. */
export function bodyToOdom(p_body_m: Vec3, p_odom_ned_m: Vec3, q_ned_body: Quat): Vec3 {
  const r = quatRotate(q_ned_body, p_body_m);
  return [p_odom_ned_m[0] + r[0], p_odom_ned_m[1] + r[1], p_odom_ned_m[2] + r[2]];
}

