import type { FlightConfig } from '../core/config/flight.js';
import type { ControlState, FlightEvent, Setpoint, VehicleState } from '../core/messages.js';
import { EstimationStage } from '../estimation/estimation-stage.js';
import { defaultEstimationParams, estimationFromMetadata, type EstimationParams } from '../estimation/estimation-params.js';
import { streams } from '../flight/offboard-control.js';
import { holdSetpoint, trajectorySetpoint } from '../flight/setpoint.js';
import { defaultLimits, type VehicleLimits } from '../planning/limits.js';
import { PlanningStage, type PlanningStageOptions } from '../planning/planning-stage.js';
import type { Track } from '../planning/track.js';
import type { ReplayStage } from './replay.js';
import { registerReplayStage } from './replay-stages.js';

/**
 * Estimation, race logic, planning and the flight link's setpoint sampling, for replay: the same stage classes the
 * daemon and `racepilot sim` run (EstimationStage, PlanningStage), attached to the replay's bus and log clock. Their
 * inputs are what the log holds from outside them: fc/vehicle_state (recomputed from the received MAVLink bytes by
 * the fc-state stage), perception/gates (the recorded sightings or detections) and the flight link's control-state
 * events (recorded: see setpointReplay).
 */

/**
 * estimation/gate_map from perception/gates and fc/vehicle_state (and race/event, for the expected gate), with the
 * settings the flight ran with (the log's `estimation` metadata, estimation-params.ts).
 */
export function estimationReplayStage(track: Track, params: EstimationParams = defaultEstimationParams): ReplayStage {
  return {
    name: 'estimation',
    inputs: [{ topic: 'perception/gates' }],
    outputs: ['estimation/gate_map'],
    attach({ bus }) {
      const stage = new EstimationStage(bus, track, params.gateMap, params.sightings);
      return () => stage.close();
    },
  };
}

export interface PlanningReplayOptions {
  track: Track;
  flight: Pick<FlightConfig, 'setpointRateHz'>;
  limits?: VehicleLimits;
  /** Planner options as the live wiring passes them (a test injects a changed one to see the replay fail). */
  planning?: Partial<Omit<PlanningStageOptions, 'bus' | 'clock' | 'track' | 'limits'>>;
}

/**
 * Race logic and planning (race/event, planning/trajectory) and the setpoints the flight link samples from the
 * planner (fc/setpoint).
 *
 * The flight link's control state machine is not recomputed: it steps on the results of MAVLink commands, which
 * arrive through promise continuations whose interleaving with the clock depends on the event loop (the simulator's
 * step, the daemon's I/O), not on the log. Its recorded control-state events are the input instead; what is
 * recomputed is everything that depends on them: the race's reaction and the setpoint stream (sampled from the
 * planner while the state streams, the hold/brake setpoint otherwise), exactly as FlightLink.sendSetpoint does.
 *
 * Timing: the link's tick and the planner's step share an instant every period; live, the link's timer was created
 * first, so it samples the reference before the planner replaces it. Here too: the setpoint timer is created
 * before the planner's, both on the cadence of the log clock's whole periods (a simulated flight starts at 0).
 * The control-state events a tick publishes come before its setpoint in the log, so replay feeds them before the
 * tick (see tickOutputs in replay.ts).
 */
export function planningReplayStage(o: PlanningReplayOptions): ReplayStage {
  return {
    name: 'planning',
    inputs: [{ topic: 'fc/event', accept: (m) => (m as FlightEvent).kind === 'control_state' }],
    outputs: ['race/event', 'planning/trajectory', 'fc/setpoint'],
    tickOutputs: ['race/event', 'planning/trajectory', 'fc/setpoint'],
    attach({ bus, clock }) {
      const periodUs = Math.round(1e6 / o.flight.setpointRateHz);
      let control: ControlState = 'idle';
      let vehicle: VehicleState | null = null;
      let holdLatch: Setpoint | null = null;
      const unsub = [
        bus.subscribe('fc/vehicle_state', (v) => void (vehicle = v)),
        bus.subscribe('fc/event', (e) => {
          if (e.kind === 'control_state' && e.state) control = e.state;
        }),
      ];
      let planning: PlanningStage | null = null;
      const sendSetpoint = (tUs: number) => {
        if (!streams(control)) {
          holdLatch = null;
          return;
        }
        const sample = control === 'link_lost' || !planning ? null : planning.sample(tUs);
        let sp: Setpoint;
        if (sample) {
          sp = trajectorySetpoint(sample, tUs);
          holdLatch = null;
        } else {
          holdLatch ??= holdSetpoint(vehicle, tUs);
          sp = { ...holdLatch, tUs };
        }
        bus.publish('fc/setpoint', sp);
      };
      // Both cadences start at the first whole period of the log clock (the live ones started with the flight).
      const firstUs = Math.ceil(clock.nowUs() / periodUs) * periodUs;
      const timers = [
        clock.at(firstUs, () => {
          timers.push(clock.every(periodUs, (t) => sendSetpoint(t)));
          planning = new PlanningStage({ ...o.planning, bus, clock, track: o.track, limits: o.limits ?? defaultLimits });
          planning.start();
        }),
      ];
      return () => {
        for (const t of timers) t.cancel();
        for (const u of unsub) u();
        (planning as PlanningStage | null)?.close();
      };
    },
  };
}

registerReplayStage({
  name: 'estimation',
  order: 30,
  create: ({ track, meta, logName }) => (track ? estimationReplayStage(track, estimationFromMetadata(meta ?? null, logName ?? 'the log')) : null),
});
registerReplayStage({ name: 'planning', order: 40, create: ({ track, config }) => (track ? planningReplayStage({ track, flight: config.flight }) : null) });
