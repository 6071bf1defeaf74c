import { common, minimal, type MavLinkData } from 'mavlink-mappings';
import type { TopicBus } from '../core/bus.js';
import type { Clock, Timer } from '../core/clock.js';
import type { FlightConfig } from '../core/config/flight.js';
import type { Logger } from '../core/logger.js';
import type { ControlState, FcStatus, FlightEvent, Setpoint, Topics, VehicleState } from '../core/messages.js';
import { armParams, CommandSender, landParams, MavCmd, messageIntervalParams, px4SetModeParams, arduSetModeParams, takeoffParams } from './commands.js';
import { initialFcState, reduceFc, tickFc, type FcParams, type FcState, type FcUpdate } from './fc-state.js';
import { decode, MavlinkEncoder } from './mavlink/codec.js';
import { MavlinkParser } from './mavlink/parser.js';
import { arduCopterModeNumber, encodePx4Mode } from './modes.js';
import { initialControl, isFinal, step, streams, type ActionResult, type ControlAction, type ControlMachine, type ControlParams } from './offboard-control.js';
import { encodeSetpoint, holdSetpoint, trajectorySetpoint, type SetpointSource } from './setpoint.js';
import type { ByteTransport, TransportStatus } from './transport/transport.js';

/**
 * The imperative shell of the flight layer: bytes in from the transport → parser → decoder → fc-state reducer →
 * bus; on a fixed cadence (flight.setpointRateHz) the control state machine steps, its actions become commands,
 * and while it streams a setpoint is sampled from the current SetpointSource and sent. Also the companion heartbeat
 * (1 Hz), the stream-rate requests, and link statistics. All timing comes from the injected Clock.
 */
export interface FlightLinkOptions {
  transport: ByteTransport;
  clock: Clock;
  bus: TopicBus<Topics>;
  config: FlightConfig;
  source?: SetpointSource;
  log?: Logger;
}

const NO_SOURCE: SetpointSource = { sample: () => null };

export class FlightLink {
  private fc: FcState;
  private control: ControlMachine;
  private readonly parser = new MavlinkParser();
  private readonly encoder: MavlinkEncoder;
  private readonly commands: CommandSender;
  private readonly fcParams: FcParams;
  private readonly controlParams: ControlParams;
  private readonly bootUs: number;
  private source: SetpointSource;
  private timers: Timer[] = [];
  private results: ActionResult[] = [];
  private startRequested = false;
  private stopRequested = false;
  private holdLatch: Setpoint | null = null;
  private packetsOut = 0;
  private ratesRequestedFor: number | null = null;
  private lastTransport: TransportStatus | null = null;
  private closed = false;
  /** Send times of the setpoints (µs on the clock), for cadence statistics; bounded. */
  readonly setpointTimesUs: number[] = [];

  constructor(private readonly o: FlightLinkOptions) {
    const c = o.config;
    this.bootUs = o.clock.nowUs();
    this.fc = initialFcState(this.bootUs);
    this.control = initialControl(this.bootUs);
    this.source = o.source ?? NO_SOURCE;
    this.encoder = new MavlinkEncoder(c.systemId, c.componentId);
    this.fcParams = { heartbeatTimeoutUs: c.heartbeatTimeoutS * 1e6, targetSystem: c.targetSystem };
    this.controlParams = { allowArm: c.allowArm, allowOffboard: c.allowOffboard, offboardWarmupUs: c.offboardWarmupS * 1e6 };
    this.commands = new CommandSender({
      clock: o.clock,
      send: (m) => this.sendMessage(m),
      target: () => this.target(),
      timeoutUs: c.commandTimeoutS * 1e6,
      retries: c.commandRetries,
    });
  }

  get status(): FcStatus {
    return this.fc.status;
  }
  get vehicle(): VehicleState | null {
    return this.fc.vehicle;
  }
  get controlState(): ControlState {
    return this.control.state;
  }
  get transportStatus(): TransportStatus | null {
    return this.lastTransport;
  }
  get parserStats() {
    return this.parser.stats;
  }

  setSource(source: SetpointSource): void {
    this.source = source;
  }

  /** Opens the transport and starts the heartbeat, the control/setpoint cadence and the statistics. */
  async start(): Promise<void> {
    const { transport, clock, config } = this.o;
    transport.onData((chunk) => this.onBytes(chunk));
    transport.onStatus((s) => this.onTransportStatus(s));
    await transport.start();
    this.sendHeartbeat();
    this.timers.push(clock.every(1_000_000, () => this.sendHeartbeat()));
    // The setpoint cadence is the one timing the autopilot watches (PX4 drops OFFBOARD below 2 Hz): ask for precision.
    this.timers.push(clock.every(Math.round(1e6 / config.setpointRateHz), () => this.tick(), { precise: true }));
    this.timers.push(clock.every(1_000_000, () => this.publishStats()));
  }

  /** The start signal: the state machine arms and takes control if the configuration allows it. */
  requestStart(): void {
    this.startRequested = true;
  }

  /**
   * Stop: land what we control (or finish), then resolve once the land command is answered, the control is final,
   * or `maxWaitUs` has passed. Streaming stops with the state machine; the transport stays open until close().
   */
  stop(maxWaitUs = 3_000_000): Promise<ControlState> {
    this.stopRequested = true;
    this.tick();
    return new Promise((resolve) => {
      const t0 = this.o.clock.nowUs();
      const check = () => {
        const landAnswered = this.control.state === 'landing' && this.control.pending !== 'land';
        if (isFinal(this.control.state) || landAnswered || this.o.clock.nowUs() - t0 >= maxWaitUs || this.closed) {
          poll.cancel();
          resolve(this.control.state);
        }
      };
      const poll = this.o.clock.every(20_000, check);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) t.cancel();
    this.timers = [];
    this.commands.close();
    await this.o.transport.close();
  }

  // ---- incoming ---------------------------------------------------------------------------------------------

  private onBytes(chunk: Buffer): void {
    const tUs = this.o.clock.nowUs();
    for (const pkt of this.parser.push(chunk)) {
      this.o.bus.publish('mavlink/bytes', { tUs, direction: 'rx', bytes: pkt.bytes });
      let msg: MavLinkData | null;
      try {
        msg = decode(pkt);
      } catch {
        continue; // CRC-valid but undecodable payloads are counted by the parser's peers; never throw on input
      }
      if (!msg) continue;
      if (msg instanceof common.CommandAck && pkt.sysid === this.fc.sysid) {
        this.commands.handleAck({ command: msg.command, result: msg.result });
        continue;
      }
      const wasUp = this.fc.status.linkUp;
      this.apply(reduceFc(this.fc, msg, { sysid: pkt.sysid, compid: pkt.compid }, tUs, this.fcParams));
      if (!wasUp && this.fc.status.linkUp) this.requestRates();
    }
  }

  private apply(u: FcUpdate): void {
    this.fc = u.state;
    if (u.statusChanged) this.o.bus.publish('fc/status', this.fc.status);
    if (u.vehicleChanged && this.fc.vehicle) this.o.bus.publish('fc/vehicle_state', this.fc.vehicle);
    for (const e of u.events) this.event(e);
  }

  private onTransportStatus(s: TransportStatus): void {
    if (this.lastTransport && this.lastTransport.connected === s.connected && this.lastTransport.reason === s.reason) return;
    this.lastTransport = s;
    this.event({
      tUs: this.o.clock.nowUs(),
      kind: 'link',
      message: `${this.o.transport.name}: ${s.reason}`,
      severity: s.connected ? 'info' : 'warning',
    });
  }

  // ---- the cadence ------------------------------------------------------------------------------------------

  private tick(): void {
    if (this.closed) return;
    const tUs = this.o.clock.nowUs();
    this.apply(tickFc(this.fc, tUs, this.fcParams));
    const results = this.results;
    this.results = [];
    const r = step(this.control, { status: this.fc.status, start: this.startRequested, stop: this.stopRequested, results }, tUs, this.controlParams);
    this.control = r.state;
    for (const e of r.events) this.event(e);
    for (const a of r.actions) this.perform(a);
    if (streams(this.control.state)) this.sendSetpoint(tUs);
    else this.holdLatch = null;
  }

  private sendSetpoint(tUs: number): void {
    // While the link is lost the vehicle state is old: do not fly a trajectory against it, hold.
    const sample = this.control.state === 'link_lost' ? null : this.source.sample(tUs);
    let sp: Setpoint;
    if (sample) {
      sp = trajectorySetpoint(sample, tUs);
      this.holdLatch = null;
    } else {
      if (!this.holdLatch) {
        this.holdLatch = holdSetpoint(this.fc.vehicle, tUs);
        this.event({ tUs, kind: 'safety', message: 'no fresh trajectory: streaming the hold/brake setpoint', severity: 'warning' });
      }
      sp = { ...this.holdLatch, tUs };
    }
    const t = this.target();
    this.sendMessage(encodeSetpoint(sp, { ...t, timeBootMs: (tUs - this.bootUs) / 1000 }));
    this.o.bus.publish('fc/setpoint', sp);
    if (this.setpointTimesUs.length >= 100_000) this.setpointTimesUs.splice(0, 50_000);
    this.setpointTimesUs.push(tUs);
  }

  private perform(a: ControlAction): void {
    const px4 = this.fc.status.autopilot === 'px4';
    let cmd: number;
    let params: number[];
    switch (a.kind) {
      case 'arm':
        [cmd, params] = [MavCmd.COMPONENT_ARM_DISARM, armParams(true)];
        break;
      case 'set_mode': {
        if (px4) {
          const m = encodePx4Mode('OFFBOARD');
          params = px4SetModeParams(m.mainMode, m.subMode);
        } else params = arduSetModeParams(arduCopterModeNumber('GUIDED'));
        cmd = MavCmd.DO_SET_MODE;
        break;
      }
      case 'takeoff':
        [cmd, params] = [MavCmd.NAV_TAKEOFF, takeoffParams(this.o.config.takeoffAltitudeM)];
        break;
      case 'land':
        [cmd, params] = [MavCmd.NAV_LAND, landParams()];
        break;
    }
    void this.commands.send(cmd, params).then((o) => this.results.push({ action: a.kind, ok: o.ok, result: o.result }));
  }

  // ---- outgoing ---------------------------------------------------------------------------------------------

  private target() {
    return { targetSystem: this.fc.sysid ?? (this.o.config.targetSystem || 1), targetComponent: this.fc.compid ?? this.o.config.targetComponent };
  }

  private sendMessage(m: MavLinkData): void {
    if (this.closed) return;
    const bytes = this.encoder.encode(m);
    this.o.transport.send(bytes);
    this.packetsOut++;
    this.o.bus.publish('mavlink/bytes', { tUs: this.o.clock.nowUs(), direction: 'tx', bytes });
  }

  private sendHeartbeat(): void {
    const hb = new minimal.Heartbeat();
    hb.type = minimal.MavType.ONBOARD_CONTROLLER;
    hb.autopilot = minimal.MavAutopilot.INVALID;
    hb.baseMode = 0 as minimal.MavModeFlag;
    hb.customMode = 0;
    hb.systemStatus = minimal.MavState.ACTIVE;
    hb.mavlinkVersion = 3;
    this.sendMessage(hb);
  }

  /** Asks for the rates the pipeline needs, once per link-up of an autopilot. */
  private requestRates(): void {
    const sysid = this.fc.sysid;
    if (sysid === null || this.ratesRequestedFor === sysid) return;
    this.ratesRequestedFor = sysid;
    const r = this.o.config.streamRatesHz;
    const wanted: [number, number][] = [
      [common.LocalPositionNed.MSG_ID, r.localPosition],
      [common.AttitudeQuaternion.MSG_ID, r.attitude],
      [common.Odometry.MSG_ID, r.odometry],
      [common.SysStatus.MSG_ID, r.status],
    ];
    if (this.fc.status.autopilot === 'ardupilot') {
      // ArduPilot also honours the older per-group stream requests, which a fresh boot may rely on.
      const t = this.target();
      for (const [stream, hz] of [[6, r.localPosition], [10, r.attitude], [2, r.status]] as const) {
        const m = new common.RequestDataStream();
        Object.assign(m, { ...t, reqStreamId: stream, reqMessageRate: Math.round(hz), startStop: 1 });
        this.sendMessage(m);
      }
    }
    // One SET_MESSAGE_INTERVAL at a time: an ACK names only the command, so parallel ones could not be told apart.
    void (async () => {
      for (const [msgid, hz] of wanted) {
        const o = await this.commands.send(MavCmd.SET_MESSAGE_INTERVAL, messageIntervalParams(msgid, hz));
        if (this.closed) return;
        this.event({
          tUs: this.o.clock.nowUs(),
          kind: 'command',
          message: `message ${msgid} at ${hz} Hz: ${o.ok ? 'accepted' : `not accepted (${o.result})`}`,
          severity: o.ok ? 'debug' : 'info',
        });
      }
    })();
  }

  private publishStats(): void {
    const ts = this.o.transport.stats;
    const ps = this.parser.stats;
    this.o.bus.publish('fc/link_stats', {
      tUs: this.o.clock.nowUs(),
      bytesIn: ts.bytesIn,
      bytesOut: ts.bytesOut,
      packetsIn: ps.packets,
      packetsOut: this.packetsOut,
      badCrc: ps.badCrc,
      unknownIds: ps.unknownIds,
      junkBytes: ps.junkBytes,
      reconnects: ts.reconnects,
    });
  }

  private event(e: FlightEvent): void {
    this.o.bus.publish('fc/event', e);
    const log = this.o.log;
    if (!log) return;
    const fields = { kind: e.kind, state: e.state, tUs: e.tUs };
    if (e.severity === 'error') log.error(fields, e.message);
    else if (e.severity === 'warning') log.warn(fields, e.message);
    else if (e.severity === 'info') log.info(fields, e.message);
    else log.debug(fields, e.message);
  }
}
