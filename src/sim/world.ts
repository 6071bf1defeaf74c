import type { Vec3 } from '../core/messages.js';
import { gateNormal, physicalGateIndices, type Track } from '../planning/track.js';
import { Prng } from './sensors.js';

/** A physical gate where it really is: the track's position moved by its stated uncertainty (seeded). */
export interface WorldGate {
  physical: number;
  id: string;
  p_ned_m: Vec3;
  /** Normal of the gate's plane (its first entry's direction of flight). */
  n_ned: Vec3;
  innerSizeM: number;
  outerSizeM: number;
}

export interface World {
  gates: WorldGate[];
  hall: { min_ned_m: Vec3; max_ned_m: Vec3 };
}

/**
 * The world the simulated race is flown in. Organisers' maps are approximate: each gate stands where the track
 * says plus a seeded offset of its stated 1σ uncertainty (vertical a third of it, clamped to 2σ), which is what the
 * gate map has to find. Gates flown twice (`sameAs`) are one gate.
 */
export function buildWorld(track: Track, seed: number): World {
  const rng = new Prng(seed * 7919 + 17);
  const physical = physicalGateIndices(track);
  const gates: WorldGate[] = [];
  track.gates.forEach((g, i) => {
    if (physical[i]! < gates.length) return;
    const s = g.uncertaintyM;
    const off = (k: number) => Math.max(-2 * s, Math.min(2 * s, s * k * rng.gauss()));
    gates.push({
      physical: physical[i]!,
      id: g.id,
      p_ned_m: [g.p_ned_m[0] + off(1), g.p_ned_m[1] + off(1), g.p_ned_m[2] + off(1 / 3)],
      n_ned: gateNormal(g),
      innerSizeM: g.innerSizeM,
      outerSizeM: g.outerSizeM,
    });
  });
  return { gates, hall: { min_ned_m: [...track.hall.min_ned_m], max_ned_m: [...track.hall.max_ned_m] } };
}

/**
 * Collision checks on the true path, one step (a→b) at a time: the floor, walls and ceiling of the hall, and each
 * gate's frame (a crossing of a gate's plane within its outer square but not clear of the inner opening by the
 * vehicle's radius). Also the closest any pass came to a frame (clearance from the vehicle's centre to the inner edge).
 */
export class CollisionMonitor {
  crash: string | null = null;
  /** Smallest clearance of a pass through an opening (m), null before the first pass. */
  closestPassM: number | null = null;

  constructor(
    private readonly world: World,
    readonly radiusM = 0.2,
  ) {}

  /** `airborne`: the floor counts only once the race has taken off and before it lands. */
  step(a: Vec3, b: Vec3, airborne: boolean): string | null {
    if (this.crash) return this.crash;
    const { min_ned_m: lo, max_ned_m: hi } = this.world.hall;
    const r = this.radiusM;
    const names = ['north/south wall', 'east/west wall'];
    for (let k = 0; k < 2; k++) if (b[k]! - r < lo[k]! || b[k]! + r > hi[k]!) return (this.crash = `hit the ${names[k]} at [${fmt(b)}]`);
    if (b[2] - r < lo[2]) return (this.crash = `hit the ceiling at [${fmt(b)}]`);
    if (airborne && b[2] > hi[2] - 0.05) return (this.crash = `hit the floor at [${fmt(b)}]`);
    for (const g of this.world.gates) {
      const n = g.n_ned;
      const da = (a[0] - g.p_ned_m[0]) * n[0] + (a[1] - g.p_ned_m[1]) * n[1] + (a[2] - g.p_ned_m[2]) * n[2];
      const db = (b[0] - g.p_ned_m[0]) * n[0] + (b[1] - g.p_ned_m[1]) * n[1] + (b[2] - g.p_ned_m[2]) * n[2];
      if ((da < 0) === (db < 0) || da === db) continue;
      const f = da / (da - db);
      const off: Vec3 = [a[0] + f * (b[0] - a[0]) - g.p_ned_m[0], a[1] + f * (b[1] - a[1]) - g.p_ned_m[1], a[2] + f * (b[2] - a[2]) - g.p_ned_m[2]];
      const m = Math.max(Math.abs(-n[1] * off[0] + n[0] * off[1]), Math.abs(off[2]));
      if (m > g.outerSizeM / 2 + r) continue; // beside the gate
      const clearance = g.innerSizeM / 2 - m;
      if (clearance < r) return (this.crash = `hit the frame of gate ${g.id} (${(m - g.innerSizeM / 2 + r).toFixed(2)} m into it)`);
      this.closestPassM = this.closestPassM === null ? clearance : Math.min(this.closestPassM, clearance);
    }
    return null;
  }
}

function fmt(p: Vec3): string {
  return p.map((x) => x.toFixed(1)).join(', ');
}
