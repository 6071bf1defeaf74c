import type { ControlState, RaceEvent, Vec3 } from '../core/messages.js';

/** The race's own state machine, beside the flight layer's control state (which it reads). */
export type RacePhase =
  | 'waiting_start' // on the ground, no start given
  | 'takeoff' // climbing to the start hover point
  | 'racing' // gate by gate
  | 'finished' // all laps flown: decelerating to a hover
  | 'failsafe_hold' // blind or lost: hovering where it is
  | 'landing'
  | 'landed'
  | 'aborted'; // a pilot took over or the link was lost: the daemon commands nothing more

export interface RaceGate {
  /** Centre of the opening in the odometry frame (from the gate map, so drift-corrected). */
  p_odom_ned_m: Vec3;
  n_ned: Vec3;
  innerSizeM: number;
}

export interface RaceInput {
  tUs: number;
  started: boolean;
  control: ControlState;
  p_odom_ned_m: Vec3;
  v_ned_mps: Vec3;
  /** Time of the last accepted gate sighting, null before any. */
  lastSightingUs: number | null;
}

export interface RaceParams {
  laps: number;
  gateCount: number;
  takeoffAltitudeM: number;
  /** Racing with no gate seen for this long is flying blind on drifting odometry: hold. */
  blindTimeoutS: number;
  /** Hover this long in a failsafe or after the finish, then land. */
  holdBeforeLandS: number;
  /** Extra tolerance around the opening when judging a pass (m); the planner aims at the centre. */
  passToleranceM: number;
}

export interface RaceState {
  phase: RacePhase;
  /** Index into the track's gate list of the gate flown to next. */
  targetGate: number;
  lap: number;
  gatesPassed: number;
  phaseSinceUs: number;
  /** Where to hover in takeoff, finish and holds (odometry frame). */
  holdPoint: Vec3 | null;
  startUs: number | null;
  finishUs: number | null;
  lastP: Vec3 | null;
  /** Signed distance (m) of the last position from the target gate's plane, as the gate was estimated then. */
  lastSide: number | null;
}

export type { RaceEvent };

export function initialRaceState(tUs: number): RaceState {
  return { phase: 'waiting_start', targetGate: 0, lap: 0, gatesPassed: 0, phaseSinceUs: tUs, holdPoint: null, startUs: null, finishUs: null, lastP: null, lastSide: null };
}

/**
 * One step of the race logic: pure, from the previous state, this instant's inputs and the target gate's current
 * estimate. Gate passes are judged geometrically: the vehicle's path crossed the gate plane, forwards, inside the
 * opening (plus tolerance). A crossing outside the opening is a miss: the race holds rather than flying on with a
 * wrong gate count.
 */
export function stepRace(prev: RaceState, input: RaceInput, gate: RaceGate | null, params: RaceParams): { state: RaceState; events: RaceEvent[] } {
  const events: RaceEvent[] = [];
  let s: RaceState = { ...prev, lastP: input.p_odom_ned_m, lastSide: gate ? sideOf(input.p_odom_ned_m, gate) : null };
  const to = (phase: RacePhase, why: string, extra: Partial<RaceState> = {}) => {
    s = { ...s, ...extra, phase, phaseSinceUs: input.tUs };
    events.push({ tUs: input.tUs, kind: 'phase', message: `${phase}: ${why}` });
  };
  const inPhaseS = (input.tUs - prev.phaseSinceUs) / 1e6;

  // Whatever the phase, a pilot who takes over or a lost link ends the daemon's part of the flight.
  if (prev.phase !== 'aborted' && prev.phase !== 'waiting_start' && prev.phase !== 'landed') {
    if (input.control === 'pilot_override') {
      to('aborted', 'a pilot took over; the vehicle is theirs');
      return { state: s, events };
    }
    if (input.control === 'link_lost') {
      to('aborted', 'flight-controller link lost; the autopilot\'s own failsafe flies now');
      return { state: s, events };
    }
  }

  switch (prev.phase) {
    case 'waiting_start':
      if (input.started) {
        const p = input.p_odom_ned_m;
        to('takeoff', `start given; climbing to ${params.takeoffAltitudeM} m`, { holdPoint: [p[0], p[1], p[2] - params.takeoffAltitudeM], startUs: input.tUs });
      }
      break;
    case 'takeoff': {
      const hp = prev.holdPoint!;
      const close = dist(input.p_odom_ned_m, hp) < 0.3 && norm(input.v_ned_mps) < 0.5;
      if (close && input.control === 'in_control') to('racing', `at the start hover; flying to gate ${prev.targetGate + 1}`, { holdPoint: null });
      break;
    }
    case 'racing': {
      if (gate && prev.lastP) {
        const crossing = planeCrossing(prev.lastP, input.p_odom_ned_m, gate, prev.lastSide);
        if (crossing !== null) {
          if (crossing <= gate.innerSizeM / 2 + params.passToleranceM) {
            const passed = prev.gatesPassed + 1;
            let target = prev.targetGate + 1;
            let lap = prev.lap;
            events.push({ tUs: input.tUs, kind: 'gate_passed', message: `gate ${prev.targetGate + 1} passed, ${crossing.toFixed(2)} m from its centre` });
            if (target >= params.gateCount) {
              target = 0;
              lap++;
              events.push({ tUs: input.tUs, kind: 'lap', message: `lap ${lap} of ${params.laps} done` });
            }
            s = { ...s, gatesPassed: passed, targetGate: target, lap, lastSide: null };
            if (lap >= params.laps) {
              to('finished', 'all laps flown', { finishUs: input.tUs, holdPoint: stoppingPoint(input.p_odom_ned_m, input.v_ned_mps) });
              break;
            }
          } else {
            events.push({ tUs: input.tUs, kind: 'gate_missed', message: `gate ${prev.targetGate + 1} missed: crossed its plane ${crossing.toFixed(2)} m from the centre` });
            to('failsafe_hold', 'gate missed', { holdPoint: stoppingPoint(input.p_odom_ned_m, input.v_ned_mps) });
            break;
          }
        }
      }
      const blindS = (input.tUs - (input.lastSightingUs ?? prev.phaseSinceUs)) / 1e6;
      if (blindS > params.blindTimeoutS) {
        to('failsafe_hold', `no gate seen for ${blindS.toFixed(1)} s`, { holdPoint: stoppingPoint(input.p_odom_ned_m, input.v_ned_mps) });
      }
      break;
    }
    case 'finished':
    case 'failsafe_hold':
      if (inPhaseS > params.holdBeforeLandS) to('landing', prev.phase === 'finished' ? 'race over' : 'failsafe: landing where it holds');
      break;
    case 'landing':
      if (input.control === 'done' || input.control === 'idle') to('landed', 'on the ground');
      break;
    case 'landed':
    case 'aborted':
      break;
  }
  return { state: s, events };
}

/**
 * Distance from the gate centre at which the segment a→b crosses the gate plane forwards, or null when it does not
 * cross it (or crosses backwards).
 */
export function planeCrossing(a: Vec3, b: Vec3, gate: RaceGate, prevSide: number | null = null): number | null {
  const g = gate.p_odom_ned_m;
  const n = gate.n_ned;
  let da = (a[0] - g[0]) * n[0] + (a[1] - g[1]) * n[1] + (a[2] - g[2]) * n[2];
  const db = (b[0] - g[0]) * n[0] + (b[1] - g[1]) * n[1] + (b[2] - g[2]) * n[2];
  // The gate estimate moves between steps: a vehicle that was before the plane at the last step (as the gate was
  // estimated then) and is past it now has crossed it, even if the moved plane now lies behind both points.
  if (!(da < 0) && prevSide !== null && prevSide < 0 && db >= 0 && da - db < 0) da = Math.min(-1e-9, prevSide);
  if (!(da < 0 && db >= 0)) return null;
  const f = Math.min(1, da / (da - db));
  const c: Vec3 = [a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1]), a[2] + f * (b[2] - a[2])];
  // A square opening: the larger of the horizontal and vertical offsets in the gate plane decides.
  const off: Vec3 = [c[0] - g[0], c[1] - g[1], c[2] - g[2]];
  const lateral = Math.abs(-n[1] * off[0] + n[0] * off[1]);
  const vertical = Math.abs(off[2]);
  return Math.max(lateral, vertical);
}

function sideOf(p: Vec3, gate: RaceGate): number {
  const g = gate.p_odom_ned_m;
  const n = gate.n_ned;
  return (p[0] - g[0]) * n[0] + (p[1] - g[1]) * n[1] + (p[2] - g[2]) * n[2];
}

/** Where a vehicle braking at a comfortable 5 m/s² comes to rest: the hold point after a finish or a failsafe. */
function stoppingPoint(p: Vec3, v: Vec3): Vec3 {
  const k = 1 / (2 * 5);
  const speed = norm(v);
  return [p[0] + v[0] * speed * k, p[1] + v[1] * speed * k, p[2] + v[2] * speed * k];
}

function norm(v: Vec3): number {
  return Math.hypot(v[0], v[1], v[2]);
}

function dist(a: Vec3, b: Vec3): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
}
