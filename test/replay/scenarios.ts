import { fileURLToPath } from 'node:url';
import { TopicBus } from '../../src/core/bus.js';
import { ManualClock } from '../../src/core/clock.js';
import { configWith } from '../../src/core/config/load.js';
import type { Topics } from '../../src/core/messages.js';
import { EstimationStage } from '../../src/estimation/estimation-stage.js';
import { FlightLink } from '../../src/flight/flight-link.js';
import { createMemoryPair } from '../../src/flight/transport/memory.js';
import { defaultLimits } from '../../src/planning/limits.js';
import { PlanningStage } from '../../src/planning/planning-stage.js';
import { loadTrack, type Track } from '../../src/planning/track.js';
import { startRecording } from '../../src/recording/recorder.js';
import { Px4Sim } from '../../src/sim/px4-sim.js';
import { RACING_CONTROL_TUNE } from '../../src/sim/race-sim.js';
import { VIO_DRIFT_M_PER_SQRT_S } from '../../src/sim/sensors.js';
import { TruthPerception } from '../../src/sim/truth-perception.js';
import { buildWorld } from '../../src/sim/world.js';

/**
 * The committed replay logs (test/replay/logs/) and how they are made. The clean lap comes straight from
 * `racepilot sim --perception truth --record` (scripts/regen-replay-logs.sh). The others need a disturbance that
 * `racepilot sim` has no option for yet (a sighting blackout, a pilot's mode switch, a cut radio link), so
 * `flyScenario` wires the same pieces runRaceSim wires (simulated PX4 on a synchronous memory link, the daemon's
 * FlightLink, EstimationStage, PlanningStage, truth perception at 30 Hz, 4 ms lockstep on one ManualClock) and
 * injects it. Nothing here runs on import: node --test also loads this file.
 */

export const REPLAY_DIR = fileURLToPath(new URL('../../../test/replay/', import.meta.url));
export const TRACK_FILE = `${REPLAY_DIR}tracks/short-line.json`;

export interface Scenario {
  name: string;
  seed: number;
  /** Simulated seconds flown. */
  seconds: number;
  /** Perception sees no gate in [from, to) s: flying on the gate map alone, then seeing again. */
  blackout?: [number, number];
  /** The pilot flips the RC mode switch to POSCTL at this time (s). */
  pilotTakeoverS?: number;
  /** The radio link is cut at this time (s) and stays cut. */
  linkLossS?: number;
}

export const SCENARIOS: Scenario[] = [
  // Racing starts about 4.4 s in (link up 1 s, warm-up, arming, OFFBOARD, take-off); gates about 5.7, 6.5 and 7.3 s.
  { name: 'sighting-blackout', seed: 2, seconds: 8.5, blackout: [4.8, 6.2] },
  { name: 'pilot-takeover', seed: 3, seconds: 6.5, pilotTakeoverS: 5.2 },
  { name: 'link-loss', seed: 4, seconds: 7, linkLossS: 5.2 },
];

const PHYSICS_TICK_US = 4000;
const CAMERA_PERIOD_US = 33_333;

/** Flies one scenario on the short track and records it to `${basePath}-000.mcap`. */
export async function flyScenario(s: Scenario, basePath: string, track: Track = loadTrack(TRACK_FILE)): Promise<string[]> {
  const world = buildWorld(track, s.seed);
  const clock = new ManualClock('sim', 0);
  const bus = new TopicBus<Topics>();
  const recording = startRecording(bus, clock, configWith({ recording: { enabled: true } }).recording, {
    basePath,
    metadata: { mode: 'sim', scenario: s.name, seed: String(s.seed) },
    track,
  });
  const pair = createMemoryPair({ delivery: 'sync', names: ['sim:px4', 'sim:daemon'] });
  const px4 = new Px4Sim({
    transport: pair.a,
    clock,
    start_ned_m: [...track.start.p_ned_m],
    startYaw: (track.start.yaw_deg * Math.PI) / 180,
    tickUs: PHYSICS_TICK_US,
    sensors: { driftMPerSqrtS: VIO_DRIFT_M_PER_SQRT_S, seed: s.seed },
    quad: { thrustToWeight: defaultLimits.thrustToWeight },
    control: RACING_CONTROL_TUNE,
  });
  const config = configWith({ flight: { transport: { kind: 'udp', peerHost: '127.0.0.1', peerPort: 14580 }, allowArm: true, allowOffboard: true } }).flight;
  const estimation = new EstimationStage(bus, track);
  const planning = new PlanningStage({ bus, clock, track, limits: defaultLimits });
  const link = new FlightLink({ transport: pair.b, clock, bus, config, source: planning });
  const perception = new TruthPerception(world, s.seed);
  await px4.start();
  await link.start();
  link.requestStart();
  planning.start();
  clock.every(CAMERA_PERIOD_US, (t) => {
    let msg = perception.observe(t, px4.vehicle.truth);
    if (s.blackout && t >= s.blackout[0] * 1e6 && t < s.blackout[1] * 1e6) msg = { ...msg, gates: [] };
    clock.at(msg.tUs, () => bus.publish('perception/gates', msg));
  });
  for (let t = PHYSICS_TICK_US; t <= s.seconds * 1e6; t += PHYSICS_TICK_US) {
    clock.advanceTo(t);
    // Promise continuations of the flight link's commands run between steps, as in runRaceSim.
    await new Promise<void>((r) => setImmediate(r));
    if (s.pilotTakeoverS !== undefined && t === Math.round(s.pilotTakeoverS * 1e6 / PHYSICS_TICK_US) * PHYSICS_TICK_US) px4.pilotSetMode('POSCTL');
    if (s.linkLossS !== undefined && t === Math.round(s.linkLossS * 1e6 / PHYSICS_TICK_US) * PHYSICS_TICK_US) pair.setLinkUp(false);
  }
  planning.close();
  estimation.close();
  await link.close();
  await px4.stop();
  return (await recording.stop()).files;
}

/** Regenerates the scenario logs into test/replay/logs/ (the clean lap is the shell script's). */
export async function regenerateScenarios(dir = `${REPLAY_DIR}logs/`): Promise<string[]> {
  const out: string[] = [];
  for (const s of SCENARIOS) out.push(...(await flyScenario(s, `${dir}${s.name}`)));
  return out;
}
