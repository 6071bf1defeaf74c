import { TopicBus } from '../core/bus.js';
import { ManualClock } from '../core/clock.js';
import { configWith } from '../core/config/load.js';
import type { Config } from '../core/config/schema.js';
import { allRigCameras } from '../camera/rig.js';
import { createLogger, type Logger } from '../core/logger.js';
import type { Quat, RaceEvent, Topics, Vec3 } from '../core/messages.js';
import { estimationParamsFor, RacePipeline } from '../cli/pipeline.js';
import { FlightLink } from '../flight/flight-link.js';
import { createMemoryPair } from '../flight/transport/memory.js';
import { assertTrackFlyable } from '../planning/feasibility.js';
import { defaultLimits, type VehicleLimits } from '../planning/limits.js';
import type { PlanningStage } from '../planning/planning-stage.js';
import { physicalGateIndices, type Track } from '../planning/track.js';
import { sampleTrajectory, trajectoryEndUs } from '../planning/trajectory.js';
import { Px4Sim } from './px4-sim.js';
import { VIO_DRIFT_M_PER_SQRT_S } from './sensors.js';
import { RenderedPerception, type RenderedPerceptionStats } from './rendered-perception.js';
import { TruthPerception } from './truth-perception.js';
import { buildWorld, CollisionMonitor, type World } from './world.js';

export interface RaceSimOptions {
  track: Track;
  /** Where the track came from, for messages. */
  trackSource?: string;
  seed?: number;
  drift?: boolean;
  perception?: 'truth' | 'detector';
  limits?: VehicleLimits;
  /** Give up after this much simulated time (s). */
  maxSimS?: number;
  /** Pace simulated time to the wall clock. */
  realtime?: boolean;
  /** Progress lines while it flies. */
  onProgress?: (line: string) => void;
  /** Extra subscribers (a recorder) see every topic. */
  bus?: TopicBus<Topics>;
  /** Camera rigs and the perception section for `detector` (default: the built-in configuration). */
  config?: Config;
  /** Render worker threads for `detector` (default: one per core). */
  renderWorkers?: number;
  log?: Logger;
}

export interface RaceSummary {
  track: string;
  seed: number;
  perception: 'truth' | 'detector';
  drift: boolean;
  gatesPassed: number;
  gatesTotal: number;
  /** From the end of take-off (racing starts) to the last gate, null when the race was not finished (s). */
  lapTimeS: number | null;
  /** Flown (true) path length over the racing time (m/s). */
  meanSpeedMps: number;
  maxSpeedMps: number;
  /** Smallest clearance between the vehicle's centre and a gate opening's inner edge over all passes (m). */
  closestPassM: number | null;
  crashed: boolean;
  endReason: string;
  simTimeS: number;
  wallTimeS: number;
  /** Ideal-tracking lap of the same planner, for comparison (s). */
  idealLapS: number;
  planMsP99: number;
  /** Drift at the end: what the odometry had, and the gate map's error in estimating it (m). */
  /** Largest distance between the reference and the odometry while racing (m): how well the autopilot tracks. */
  trackingErrorMaxM: number;
  /** Largest error of the gate map's estimate of the target gate (odometry frame) while racing (m). */
  gateErrorMaxM: number;
  /**
   * Per gate flown to, the map's error for it at the last instant it was the target (as it was passed, or when the
   * flight ended): across the gate (in its plane: what puts the path into the frame) and along its normal (m).
   */
  gateErrorAtPass: { gate: string; acrossM: number; alongM: number }[];
  driftM: number;
  driftErrorM: number;
  gateMapAccepted: number;
  gateMapRejected: number;
  /** With `detector`: what the rendered cameras and the detector did; null with `truth`. */
  detector: RenderedPerceptionStats | null;
}

export interface FlownSample {
  tUs: number;
  /** True position (m, NED). */
  p_ned_m: Vec3;
  speedMps: number;
}

export interface RaceSimResult {
  summary: RaceSummary;
  world: World;
  track: Track;
  flown: FlownSample[];
  /** The planned reference, sampled and moved into the world frame by the final drift estimate. */
  planned: FlownSample[];
  events: RaceEvent[];
}

const PHYSICS_TICK_US = 4000;

/**
 * The simulated autopilot's racing tune, as a racing team would set PX4's parameters: MC_ROLL_P/MC_PITCH_P 12
 * (PX4's maximum; default 6.5), MPC_XY_P 2, MPC_XY_VEL_P_ACC 4, MPC_XY_VEL_D_ACC 0. Flying the ideal AlphaPilot lap
 * open-loop through the PX4 cascade, the largest tracking error was 1.97 m with the defaults and 0.55 m with this tune
 * (the attitude gain is what matters: the defaults tilt the thrust too slowly for racing).
 */
export const RACING_CONTROL_TUNE = { kpPos: [2, 2, 1] as Vec3, kpVel: [4, 4, 4] as Vec3, kdVel: [0, 0, 0] as Vec3, kpAtt: [12, 12, 2.8] as Vec3 };
const CAMERA_PERIOD_US = 33_333;
/** Capture to publication of the detector's result, simulated (the Jetson's measured figure belongs here). */
const DETECTOR_LATENCY_US = 25_000;


/**
 * The whole race in simulated time, in lockstep on one ManualClock: the simulated PX4 on one end of a synchronous
 * memory link, the daemon's FlightLink on the other; at the camera rate perception sees the world from the TRUE
 * pose; estimation → race logic and planning → the flight link's setpoints. Collisions are judged on the true path.
 */
export async function runRaceSim(o: RaceSimOptions): Promise<RaceSimResult> {
  const track = o.track;
  const seed = o.seed ?? 1;
  const drift = o.drift ?? true;
  const perceptionKind = o.perception ?? 'truth';
  const limits = o.limits ?? defaultLimits;
  const say = o.onProgress ?? (() => undefined);
  const ideal = assertTrackFlyable(track, limits, o.trackSource ?? track.name);
  const wall0 = performance.now();
  const world = buildWorld(track, seed);
  const cfg = o.config ?? configWith({});
  const rendered =
    perceptionKind === 'detector'
      ? await RenderedPerception.start({
          world, track, seed, cameras: allRigCameras(cfg.camera.rigs), perception: cfg.perception, scale: 0.5,
          latencyUs: DETECTOR_LATENCY_US, bus: o.bus, log: o.log ?? createLogger({ level: 'warn', format: 'json', stream: process.stderr }),
          ...(o.renderWorkers !== undefined ? { workers: o.renderWorkers } : {}),
        })
      : null;
  try {
    return await fly(o, { track, seed, drift, perceptionKind, limits, say, ideal, wall0, world, rendered });
  } finally {
    await rendered?.close();
  }
}

interface FlySetup {
  track: Track;
  seed: number;
  drift: boolean;
  perceptionKind: 'truth' | 'detector';
  limits: VehicleLimits;
  say: (line: string) => void;
  ideal: { lapS: number };
  wall0: number;
  world: World;
  rendered: RenderedPerception | null;
}

async function fly(o: RaceSimOptions, { track, seed, drift, perceptionKind, limits, say, ideal, wall0, world, rendered }: FlySetup): Promise<RaceSimResult> {
  const clock = new ManualClock('sim', 0);
  const bus = o.bus ?? new TopicBus<Topics>();
  const pair = createMemoryPair({ delivery: 'sync', names: ['sim:px4', 'sim:daemon'] });
  const startYaw = (track.start.yaw_deg * Math.PI) / 180;
  const px4 = new Px4Sim({
    transport: pair.a,
    clock,
    start_ned_m: [...track.start.p_ned_m],
    startYaw,
    tickUs: PHYSICS_TICK_US,
    sensors: { driftMPerSqrtS: drift ? VIO_DRIFT_M_PER_SQRT_S : 0, seed },
    quad: { thrustToWeight: limits.thrustToWeight },
    control: RACING_CONTROL_TUNE,
  });
  const config = configWith({ flight: { transport: { kind: 'udp', peerHost: '127.0.0.1', peerPort: 14580 }, allowArm: true, allowOffboard: true } }).flight;
  const est = estimationParamsFor(rendered ? 'detector' : 'truth');
  const pipeline = new RacePipeline({ bus, clock, track, limits, gateMap: est.gateMap, sightings: est.sightings });
  const { estimation, planning } = pipeline;
  const link = new FlightLink({ transport: pair.b, clock, bus, config, source: planning });
  const events: RaceEvent[] = [];
  bus.subscribe('race/event', (e) => {
    events.push(e);
    say(`${(e.tUs / 1e6).toFixed(2).padStart(6)} s  ${e.message}`);
  });
  if (rendered) bus.subscribe('fc/vehicle_state', (v) => rendered.addVehicle(v));
  const truthPerception = rendered ? null : new TruthPerception(world, seed);
  await px4.start();
  await link.start();
  link.requestStart();
  pipeline.start();
  // Lockstep: a rendered frame is captured at its tick, and the clock moves on only once its result is in.
  let frameDue: { tUs: number; p_ned_m: Vec3; q_ned_body: Quat } | null = null;
  clock.every(CAMERA_PERIOD_US, (t) => {
    const truth = px4.vehicle.truth;
    if (truthPerception) {
      const msg = truthPerception.observe(t, truth);
      clock.at(msg.tUs, () => bus.publish('perception/gates', msg));
    } else frameDue = { tUs: t, p_ned_m: [...truth.p_ned_m], q_ned_body: [...truth.q_ned_body] };
  });

  const monitor = new CollisionMonitor(world);
  const flown: FlownSample[] = [];
  const maxUs = (o.maxSimS ?? 90) * 1e6;
  let prevP: Vec3 = [...px4.vehicle.truth.p_ned_m];
  let racingSinceUs: number | null = null;
  let finishUs: number | null = null;
  let pathM = 0;
  let trackErr = 0;
  let gateErr = 0;
  const errAtPass: { k: number; passed: number; e: Vec3 }[] = [];
  const physical = physicalGateIndices(track);
  let maxSpeed = 0;
  let endReason = '';
  let endAtUs: number | null = null;
  let problemSinceUs: number | null = null;
  let nextStatusUs = 2_000_000;
  for (let t = PHYSICS_TICK_US; ; t += PHYSICS_TICK_US) {
    clock.advanceTo(t);
    // Promise continuations of the flight link's commands (arm, mode) run between steps, as on an event loop.
    await new Promise<void>((r) => setImmediate(r));
    if (rendered && frameDue) {
      const f: { tUs: number; p_ned_m: Vec3; q_ned_body: Quat } = frameDue;
      frameDue = null;
      const msg = await rendered.observe(f.tUs, f.p_ned_m, f.q_ned_body);
      clock.at(msg.tUs, () => bus.publish('perception/gates', msg));
    }
    if (o.realtime) {
      const ahead = t / 1000 - (performance.now() - wall0);
      if (ahead > 2) await new Promise((r) => setTimeout(r, ahead));
    }
    const truth = px4.vehicle.truth;
    const p: Vec3 = [...truth.p_ned_m];
    const speed = Math.hypot(...truth.v_ned_mps);
    const phase = planning.race.phase;
    if (phase === 'racing') {
      racingSinceUs ??= t;
      const ref = planning.sample(t);
      const odo = link.vehicle;
      if (ref && odo) trackErr = Math.max(trackErr, Math.hypot(ref.p_ned_m[0] - odo.p_ned_m[0], ref.p_ned_m[1] - odo.p_ned_m[1], ref.p_ned_m[2] - odo.p_ned_m[2]));
      const k = planning.race.targetGate;
      const wg = world.gates[physical[k]!]!;
      const est = planning.gateInOdom(k);
      const d = px4.sensor.drift();
      const e: Vec3 = [est[0] - wg.p_ned_m[0] - d[0], est[1] - wg.p_ned_m[1] - d[1], est[2] - wg.p_ned_m[2] - d[2]];
      gateErr = Math.max(gateErr, Math.hypot(...e));
      // One entry per gate flown to: a new one when the target changes or a pass was counted (a one-gate lap).
      const passed = planning.race.gatesPassed;
      const lastErr = errAtPass.at(-1);
      if (lastErr?.k !== k || lastErr.passed !== passed) errAtPass.push({ k, passed, e });
      else lastErr.e = e;
      pathM += Math.hypot(p[0] - prevP[0], p[1] - prevP[1], p[2] - prevP[2]);
      maxSpeed = Math.max(maxSpeed, speed);
    }
    if (phase === 'finished' && finishUs === null) finishUs = planning.race.finishUs ?? t;
    if (flown.length === 0 || t - flown.at(-1)!.tUs >= 20_000) flown.push({ tUs: t, p_ned_m: p, speedMps: speed });
    const crash = monitor.step(prevP, p, racingSinceUs !== null && phase !== 'landing' && phase !== 'landed');
    prevP = p;
    if (crash) {
      endReason = `crash: ${crash}`;
      say(`${(t / 1e6).toFixed(2).padStart(6)} s  CRASH: ${crash}`);
      break;
    }
    if (t >= nextStatusUs) {
      nextStatusUs += 2_000_000;
      const d = px4.sensor.drift();
      const est = estimation.map.drift();
      const det = rendered ? `  detector ${rendered.stats.gates} gates in ${rendered.stats.framesets} framesets` : '';
      say(`${(t / 1e6).toFixed(2).padStart(6)} s  ${phase.padEnd(13)} gate ${planning.race.targetGate + 1}/${track.gates.length}  ${speed.toFixed(1).padStart(5)} m/s  drift ${Math.hypot(...d).toFixed(2)} m (est. error ${Math.hypot(d[0] - est[0], d[1] - est[1], d[2] - est[2]).toFixed(2)} m)${det}`);
    }
    if (endAtUs === null) {
      if (phase === 'finished') [endAtUs, endReason] = [t + 2_000_000, 'finished: all gates passed'];
      else if (phase === 'failsafe_hold' || phase === 'aborted') [endAtUs, endReason] = [t + 1_000_000, `race stopped: ${events.filter((e) => e.kind === 'phase').at(-1)?.message ?? phase}`];
      else if (planning.planningProblem) {
        // A moment without a plan (the link brakes meanwhile) is survivable; a second of it ends the flight.
        problemSinceUs ??= t;
        if (t - problemSinceUs >= 1_000_000) [endAtUs, endReason] = [t, `planning: ${planning.planningProblem}`];
      } else if (link.controlState === 'failed') [endAtUs, endReason] = [t, 'the flight link failed to take control'];
      if (!planning.planningProblem) problemSinceUs = null;
    }
    if (endAtUs !== null && t >= endAtUs) break;
    if (t >= maxUs) {
      endReason = `timeout: ${o.maxSimS ?? 90} s of simulated time`;
      break;
    }
  }
  pipeline.close();
  await link.close();
  await px4.stop();

  const mapDrift = estimation.map.drift();
  const trueDrift = px4.sensor.drift();
  const lapTimeS = finishUs !== null && racingSinceUs !== null ? (finishUs - racingSinceUs) / 1e6 : null;
  const racingEnd = finishUs ?? flown.at(-1)!.tUs;
  const racingS = racingSinceUs !== null ? (racingEnd - racingSinceUs) / 1e6 : 0;
  const sortedPlan = [...planning.planMs].sort((a, b) => a - b);
  const summary: RaceSummary = {
    track: track.name,
    seed,
    perception: perceptionKind,
    drift,
    gatesPassed: planning.race.gatesPassed,
    gatesTotal: track.gates.length * track.laps,
    lapTimeS: lapTimeS === null ? null : round(lapTimeS, 2),
    meanSpeedMps: racingS > 0 ? round(pathM / racingS, 2) : 0,
    maxSpeedMps: round(maxSpeed, 2),
    closestPassM: monitor.closestPassM === null ? null : round(monitor.closestPassM, 3),
    crashed: monitor.crash !== null,
    endReason,
    simTimeS: round(clock.nowUs() / 1e6, 2),
    wallTimeS: round((performance.now() - wall0) / 1000, 2),
    idealLapS: round(ideal.lapS, 2),
    planMsP99: sortedPlan.length ? round(sortedPlan[Math.min(sortedPlan.length - 1, Math.floor(0.99 * sortedPlan.length))]!, 2) : 0,
    trackingErrorMaxM: round(trackErr, 3),
    gateErrorMaxM: round(gateErr, 3),
    gateErrorAtPass: errAtPass.map(({ k, e }) => {
      const g = track.gates[k]!;
      const yaw = (g.yaw_deg * Math.PI) / 180;
      const along = e[0] * Math.cos(yaw) + e[1] * Math.sin(yaw);
      return { gate: g.id, acrossM: round(Math.sqrt(Math.max(0, e[0] ** 2 + e[1] ** 2 + e[2] ** 2 - along ** 2)), 2), alongM: round(along, 2) };
    }),
    driftM: round(Math.hypot(...trueDrift), 3),
    driftErrorM: round(Math.hypot(trueDrift[0] - mapDrift[0], trueDrift[1] - mapDrift[1], trueDrift[2] - mapDrift[2]), 3),
    gateMapAccepted: estimation.snapshot(0).accepted,
    gateMapRejected: estimation.snapshot(0).rejected,
    detector: rendered ? { ...rendered.stats, renderMs: Math.round(rendered.stats.renderMs), perceptionMs: Math.round(rendered.stats.perceptionMs) } : null,
  };
  return { summary, world, track, flown, planned: plannedPath(planning, mapDrift), events };
}

/** Every trajectory the planner published, each sampled until the next one took over, in the world frame. */
function plannedPath(planning: PlanningStage, drift: Vec3): FlownSample[] {
  const out: FlownSample[] = [];
  const plans = planning.history;
  plans.forEach((traj, i) => {
    const until = Math.min(trajectoryEndUs(traj), plans[i + 1]?.tUs ?? Infinity);
    for (let t = traj.tUs; t < until; t += 20_000) {
      const s = sampleTrajectory(traj, t)!;
      out.push({ tUs: t, p_ned_m: [s.p_ned_m[0] - drift[0], s.p_ned_m[1] - drift[1], s.p_ned_m[2] - drift[2]], speedMps: Math.hypot(...s.v_ned_mps) });
    }
  });
  return out;
}

function round(x: number, digits: number): number {
  const k = 10 ** digits;
  return Math.round(x * k) / k;
}
