import type { MavLinkData } from 'mavlink-mappings';
import type { FlightConfig } from '../core/config/flight.js';
import type { MavlinkBytes } from '../core/messages.js';
import { initialFcState, reduceFc, tickFc, type FcParams, type FcState, type FcUpdate } from '../flight/fc-state.js';
import { decode } from '../flight/mavlink/codec.js';
import { MavlinkParser } from '../flight/mavlink/parser.js';
import type { ReplayStage } from './replay.js';

/**
 * The flight controller's side of the pipeline, for replay: received MAVLink bytes → parser → decoder → fc-state
 * reducer → fc/status and fc/vehicle_state, with the heartbeat timeout checked on the flight link's cadence. The
 * same functions, in the same order, as FlightLink's receive path; only the transport is replaced by the log.
 */
export function fcStateStage(config: Pick<FlightConfig, 'heartbeatTimeoutS' | 'targetSystem' | 'setpointRateHz'>): ReplayStage {
  return {
    name: 'fc-state',
    inputs: [{ topic: 'mavlink/bytes', accept: (m) => (m as MavlinkBytes).direction === 'rx' }],
    outputs: ['fc/status', 'fc/vehicle_state'],
    attach({ bus, clock }) {
      const params: FcParams = { heartbeatTimeoutUs: config.heartbeatTimeoutS * 1e6, targetSystem: config.targetSystem };
      const parser = new MavlinkParser();
      let fc: FcState = initialFcState(clock.nowUs());
      const apply = (u: FcUpdate) => {
        fc = u.state;
        if (u.statusChanged) bus.publish('fc/status', fc.status);
        if (u.vehicleChanged && fc.vehicle) bus.publish('fc/vehicle_state', fc.vehicle);
        for (const e of u.events) bus.publish('fc/event', e);
      };
      const unsubscribe = bus.subscribe('mavlink/bytes', (m) => {
        if (m.direction !== 'rx') return;
        const tUs = clock.nowUs();
        for (const pkt of parser.push(m.bytes)) {
          let msg: MavLinkData | null;
          try {
            msg = decode(pkt);
          } catch {
            continue;
          }
          if (msg) apply(reduceFc(fc, msg, { sysid: pkt.sysid, compid: pkt.compid }, tUs, params));
        }
      });
      const tick = clock.every(Math.round(1e6 / config.setpointRateHz), () => apply(tickFc(fc, clock.nowUs(), params)));
      return () => {
        unsubscribe();
        tick.cancel();
      };
    },
  };
}
