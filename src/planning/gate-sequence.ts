import type { Track } from './track.js';
import { gateNormal } from './track.js';

/**
 * The turn (rad, 0..π) the vehicle makes after passing track entry `k`: between that gate's direction of flight and
 * the direction towards the next gate (the first gate again on a multi-lap track). The last planned gate's speed is
 * capped by it, since the plan does not reach past it yet. Past the final gate of the race there is no turn to make
 * but a stop, which the race logic handles: 0.
 */
export function exitTurn(track: Pick<Track, 'gates' | 'laps'>, k: number, lap = 0): number {
  const n = track.gates.length;
  const last = lap >= track.laps - 1 && k >= n - 1;
  if (k < 0 || last) return 0;
  const g = track.gates[k % n]!;
  const h = track.gates[(k + 1) % n]!;
  const dn = gateNormal(g);
  const d = [h.p_ned_m[0] - g.p_ned_m[0], h.p_ned_m[1] - g.p_ned_m[1]];
  const len = Math.hypot(d[0]!, d[1]!);
  if (len < 1e-6) return Math.PI;
  const cos = (dn[0] * d[0]! + dn[1] * d[1]!) / len;
  return Math.acos(Math.max(-1, Math.min(1, cos)));
}
