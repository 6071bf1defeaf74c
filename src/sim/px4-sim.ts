import type { MavLinkData } from 'mavlink-mappings';
import type { Clock, Timer } from '../core/clock.js';
import type { Vec3 } from '../core/messages.js';
import type { ByteTransport } from '../flight/transport/transport.js';
import { MavlinkParser, type RawPacket } from '../flight/mavlink/parser.js';
import { MavlinkEncoder, decode } from '../flight/mavlink/codec.js';
import { common, minimal } from '../flight/mavlink/registry.js';
import { DEFAULT_QUAD_PARAMS, type QuadParams } from './quadrotor.js';
import { DEFAULT_CONTROL_PARAMS, type ControlParams } from './px4-control.js';
import { DEFAULT_SENSOR_PARAMS, OdometrySensor, type SensorParams } from './sensors.js';
import { DEFAULT_VEHICLE_PARAMS, SimVehicle, type VehicleParams } from './px4-vehicle.js';
import { MANUAL_MODES, px4ModeFrom, type Px4Mode } from './px4-modes.js';
import * as tm from './px4-telemetry.js';
import { setpointFromMessage } from './px4-setpoint.js';
import { StreamScheduler, isKnownStream } from './px4-streams.js';
import { OffboardSignal } from './px4-offboard-signal.js';

const { MavCmd, MavResult } = common;

export interface Px4SimOptions {
  transport: ByteTransport;
  clock: Clock;
  quad?: Partial<QuadParams>;
  control?: Partial<ControlParams>;
  sensors?: Partial<SensorParams>;
  vehicle?: Partial<Omit<VehicleParams, 'quad' | 'control'>>;
  systemId?: number;
  componentId?: number;
  start_ned_m?: Vec3;
  startYaw?: number;
  /** COM_OF_LOSS_T (s): setpoints missing this long in OFFBOARD trigger the failsafe. */
  offboardLossS?: number;
  /** Failsafe action on offboard loss (COM_OBL_RC_ACT): PX4 Hold (AUTO.LOITER), Land, or Position mode. */
  offboardLossAction?: 'hold' | 'land' | 'posctl';
  /** How long a > 2 Hz setpoint stream must have run before OFFBOARD is accepted (s). */
  offboardProofS?: number;
  /** COM_DISARM_LAND (s) after touchdown; COM_DISARM_PRFLT (s) armed on the ground without taking off. */
  disarmLandS?: number;
  disarmPreflightS?: number;
  /** A pilot's RC is present (needed for the manual modes). */
  rcPresent?: boolean;
  /** How often the physics catches up with the clock (µs); steps are vehicle.stepS. */
  tickUs?: number;
  /** Called for each STATUSTEXT the sim sends (the CLI prints them). */
  onEvent?: (text: string) => void;
}

/**
 * The simulated flight controller as a MAVLink peer, behaving as PX4 v1.14 on the same messages: heartbeats with
 * PX4's mode encoding, COMMAND_LONG with COMMAND_ACK, OFFBOARD only with a live setpoint stream and the offboard
 * failsafe, takeoff/land/RTL, the usual telemetry streams and SET_MESSAGE_INTERVAL. It runs on whatever Clock it is
 * given (a ManualClock runs it as fast as the caller advances time) and speaks through any ByteTransport.
 */
export class Px4Sim {
  readonly vehicle: SimVehicle;
  readonly sensor: OdometrySensor;
  readonly systemId: number;
  readonly componentId: number;
  /** Counters for the status line and tests. */
  readonly counts = { packetsIn: 0, packetsOut: 0, setpoints: 0, commands: 0 };
  /** The link: what the sim sends and what it hears (a test's or pilot's way to cut the radio). */
  link = { send: true, receive: true };
  failsafe = false;
  private readonly clock: Clock;
  private readonly transport: ByteTransport;
  private readonly parser = new MavlinkParser();
  private readonly encoder: MavlinkEncoder;
  private readonly o: Required<Omit<Px4SimOptions, 'quad' | 'control' | 'sensors' | 'vehicle' | 'transport' | 'clock' | 'start_ned_m' | 'startYaw' | 'onEvent'>>;
  private readonly onEvent: ((text: string) => void) | undefined;
  private readonly bootUs: number;
  private physicsUs: number;
  private readonly streams: StreamScheduler;
  private readonly signal: OffboardSignal;
  private physicsTimer: Timer | null = null;
  private landedSinceUs: number | null = null;
  private armedAtUs = 0;
  private tookOff = false;

  constructor(opts: Px4SimOptions) {
    this.clock = opts.clock;
    this.transport = opts.transport;
    this.systemId = opts.systemId ?? 1;
    this.componentId = opts.componentId ?? 1;
    this.o = {
      systemId: this.systemId,
      componentId: this.componentId,
      offboardLossS: opts.offboardLossS ?? 1,
      offboardLossAction: opts.offboardLossAction ?? 'hold',
      offboardProofS: opts.offboardProofS ?? 1,
      disarmLandS: opts.disarmLandS ?? 2,
      disarmPreflightS: opts.disarmPreflightS ?? 10,
      rcPresent: opts.rcPresent ?? true,
      tickUs: opts.tickUs ?? 4000,
    };
    this.onEvent = opts.onEvent;
    const params: VehicleParams = {
      ...DEFAULT_VEHICLE_PARAMS,
      ...opts.vehicle,
      quad: { ...DEFAULT_QUAD_PARAMS, ...opts.quad },
      control: { ...DEFAULT_CONTROL_PARAMS, ...opts.control },
    };
    this.vehicle = new SimVehicle(params, opts.start_ned_m, opts.startYaw);
    this.sensor = new OdometrySensor({ ...DEFAULT_SENSOR_PARAMS, ...opts.sensors });
    this.encoder = new MavlinkEncoder(this.systemId, this.componentId);
    this.bootUs = this.clock.nowUs();
    this.physicsUs = this.bootUs;
    this.sensor.record(this.physicsUs, this.vehicle.truth);
    this.streams = new StreamScheduler(this.clock, (id) => this.sendStream(id));
    this.signal = new OffboardSignal(this.o.offboardProofS, this.o.offboardLossS);
  }

  get mode(): Px4Mode {
    return this.vehicle.mode;
  }
  get armed(): boolean {
    return this.vehicle.armed;
  }

  /** Opens the transport and starts the physics and the telemetry streams. */
  async start(): Promise<void> {
    this.transport.onData((chunk) => this.receive(chunk));
    await this.transport.start();
    this.physicsTimer = this.clock.every(this.o.tickUs, () => this.advancePhysics());
    this.streams.startDefaults();
    this.statusText(tm.SEVERITY.INFO, 'Ready for takeoff!');
  }

  async stop(): Promise<void> {
    this.physicsTimer?.cancel();
    this.streams.stopAll();
    await this.transport.close();
  }

  /** A pilot flips the mode switch on the RC: always obeyed, as PX4 obeys its RC. */
  pilotSetMode(mode: Px4Mode): void {
    this.statusText(tm.SEVERITY.INFO, `Pilot switched to ${mode}`);
    this.enterMode(mode);
  }

  /** Whether an OFFBOARD request would be accepted now. */
  offboardAvailable(nowUs = this.clock.nowUs()): boolean {
    return this.signal.available(nowUs);
  }

  private enterMode(mode: Px4Mode): void {
    const v = this.vehicle;
    if (mode !== v.mode) this.failsafe = false;
    v.mode = mode;
    v.rtlLanding = false;
    v.holdHere();
    if (mode === 'AUTO.TAKEOFF' && !v.landed) v.takeoffTargetZ = v.estimated_p_ned_m[2];
  }

  /** Catches the physics up with the clock in fixed steps and runs the commander's checks at each. */
  private advancePhysics(): void {
    const now = this.clock.nowUs();
    const stepUs = this.vehicle.params.stepS * 1e6;
    // A stalled process (debugger, overloaded machine) must not make the next tick integrate seconds at once.
    if (now - this.physicsUs > 250_000) this.physicsUs = now - 250_000;
    while (this.physicsUs + stepUs <= now) {
      this.physicsUs += stepUs;
      const touchedDown = this.vehicle.step();
      this.sensor.record(this.physicsUs, this.vehicle.truth);
      this.vehicle.drift_ned_m = this.sensor.drift();
      this.commander(this.physicsUs, touchedDown);
    }
  }

  /** PX4 Commander/Navigator checks that run continuously: offboard loss, takeoff done, land detector, auto-disarm. */
  private commander(t: number, touchedDown: boolean): void {
    const v = this.vehicle;
    if (v.mode === 'OFFBOARD' && v.armed && this.signal.lost(t)) {
      const to: Px4Mode = this.o.offboardLossAction === 'land' ? 'AUTO.LAND' : this.o.offboardLossAction === 'posctl' ? 'POSCTL' : 'AUTO.LOITER';
      this.enterMode(to);
      this.failsafe = true;
      this.statusText(tm.SEVERITY.CRITICAL, `Failsafe: offboard signal lost, ${to === 'AUTO.LOITER' ? 'Hold' : to}`);
    }
    if (!v.landed) this.tookOff = true;
    if (v.mode === 'AUTO.TAKEOFF' && v.armed && !v.landed && Math.abs(v.estimated_p_ned_m[2] - v.takeoffTargetZ) < 0.2) {
      this.enterMode('AUTO.LOITER');
      this.statusText(tm.SEVERITY.INFO, 'Takeoff complete, holding');
    }
    if (touchedDown && v.armed) this.statusText(tm.SEVERITY.INFO, 'Landing detected');
    if (!v.armed || !v.landed) {
      this.landedSinceUs = null;
      return;
    }
    this.landedSinceUs ??= t;
    if (this.tookOff && t - this.landedSinceUs >= this.o.disarmLandS * 1e6) this.disarm('Disarmed by landing');
    else if (!this.tookOff && t - this.armedAtUs >= this.o.disarmPreflightS * 1e6 && v.mode !== 'AUTO.TAKEOFF')
      this.disarm('Disarmed by auto preflight disarming');
  }

  private disarm(reason: string): void {
    this.vehicle.armed = false;
    this.statusText(tm.SEVERITY.INFO, reason);
  }

  private arm(): void {
    this.vehicle.armed = true;
    this.armedAtUs = this.physicsUs;
    this.tookOff = false;
    this.landedSinceUs = null;
    // Keeps the takeoff altitude a NAV_TAKEOFF set before arming (PX4 takes off once armed in AUTO.TAKEOFF).
    const targetZ = this.vehicle.takeoffTargetZ;
    this.vehicle.holdHere();
    this.vehicle.takeoffTargetZ = targetZ;
    this.statusText(tm.SEVERITY.INFO, 'Armed by external command');
  }

  // ---- MAVLink in ----

  private receive(chunk: Buffer): void {
    if (!this.link.receive) return;
    for (const packet of this.parser.push(chunk)) {
      this.counts.packetsIn++;
      this.handle(packet);
    }
  }

  private handle(packet: RawPacket): void {
    let msg: MavLinkData | null;
    try {
      msg = decode(packet);
    } catch {
      return; // a payload node-mavlink cannot decode: PX4 drops it too
    }
    if (msg instanceof common.SetPositionTargetLocalNed) this.onSetpoint(msg);
    else if (msg instanceof common.CommandLong) this.onCommand(msg, packet);
  }

  private addressedToUs(targetSystem: number, targetComponent: number): boolean {
    return (targetSystem === 0 || targetSystem === this.systemId) && (targetComponent === 0 || targetComponent === this.componentId);
  }

  private onSetpoint(m: common.SetPositionTargetLocalNed): void {
    if (!this.addressedToUs(m.targetSystem, 0)) return;
    const sp = setpointFromMessage(m);
    if (typeof sp === 'string') {
      this.statusText(tm.SEVERITY.WARNING, sp);
      return;
    }
    if (sp === null) return; // everything ignored: not a proof of life either
    const now = this.clock.nowUs();
    this.signal.received(now);
    this.counts.setpoints++;
    // A velocity-only or acceleration-only setpoint keeps yaw where it is when yaw is ignored.
    this.vehicle.offboard = sp;
  }

  private onCommand(m: common.CommandLong, packet: RawPacket): void {
    if (!this.addressedToUs(m.targetSystem, m.targetComponent)) return;
    this.counts.commands++;
    // Advance the physics to now so the command sees the current state.
    this.advancePhysics();
    const result = this.execute(m);
    const ack = new common.CommandAck();
    ack.command = m.command;
    ack.result = result.result;
    ack.progress = 0;
    ack.resultParam2 = 0;
    ack.targetSystem = packet.sysid;
    ack.targetComponent = packet.compid;
    this.send(ack);
    result.after?.();
  }

  private execute(m: common.CommandLong): { result: common.MavResult; after?: () => void } {
    const v = this.vehicle;
    const p = [m._param1, m._param2, m._param3, m._param4, m._param5, m._param6, m._param7] as const;
    switch (m.command) {
      case MavCmd.COMPONENT_ARM_DISARM: {
        const force = Math.round(p[1]) === 21196;
        if (p[0] >= 0.5) {
          if (v.armed) return { result: MavResult.ACCEPTED };
          if (v.mode === 'OFFBOARD' && !this.offboardAvailable()) return this.reject('Arming denied: offboard signal lost');
          if (v.mode === 'AUTO.LAND' || v.mode === 'AUTO.RTL') return this.reject(`Arming denied: not in ${v.mode}`);
          this.arm();
          return { result: MavResult.ACCEPTED };
        }
        if (!v.armed) return { result: MavResult.ACCEPTED };
        if (!v.landed && !force) return this.reject('Disarming denied: not landed');
        this.disarm(force ? 'Disarmed by external command (forced)' : 'Disarmed by external command');
        return { result: MavResult.ACCEPTED };
      }
      case MavCmd.DO_SET_MODE: {
        if ((Math.round(p[0]) & minimal.MavModeFlag.CUSTOM_MODE_ENABLED) === 0) return { result: MavResult.DENIED };
        const mode = px4ModeFrom(Math.round(p[1]), Math.round(p[2]));
        if (!mode) return { result: MavResult.DENIED };
        return this.requestMode(mode);
      }
      case MavCmd.NAV_TAKEOFF: {
        if (!v.landed && v.armed) return this.reject('Takeoff denied: already flying');
        // param7 is AMSL in PX4; the simulated home is at 0 m AMSL, so it is the height above home. NaN: MIS_TAKEOFF_ALT.
        const alt = Number.isFinite(p[6]) && p[6] > 0 ? p[6] : v.params.takeoffAltM;
        this.enterMode('AUTO.TAKEOFF');
        v.startTakeoff(alt);
        return { result: MavResult.ACCEPTED };
      }
      case MavCmd.NAV_LAND:
        this.enterMode('AUTO.LAND');
        return { result: MavResult.ACCEPTED };
      case MavCmd.NAV_RETURN_TO_LAUNCH:
        this.enterMode('AUTO.RTL');
        return { result: MavResult.ACCEPTED };
      case MavCmd.SET_MESSAGE_INTERVAL: {
        return { result: this.streams.set(Math.round(p[0]), Math.round(p[1])) ? MavResult.ACCEPTED : MavResult.DENIED };
      }
      case MavCmd.REQUEST_MESSAGE: {
        const id = Math.round(p[0]);
        if (!isKnownStream(id)) return { result: MavResult.DENIED };
        return { result: MavResult.ACCEPTED, after: () => this.sendStream(id) };
      }
      default:
        return { result: MavResult.UNSUPPORTED };
    }
  }

  private requestMode(mode: Px4Mode): { result: common.MavResult } {
    if (mode === 'OFFBOARD' && !this.offboardAvailable()) return this.reject('Switching to Offboard is currently not available');
    if (mode === 'AUTO.MISSION') return this.reject('Mission rejected: no mission uploaded');
    if (MANUAL_MODES.has(mode) && !this.o.rcPresent) return this.reject(`Switching to ${mode} denied: no RC`);
    if (mode === 'AUTO.TAKEOFF') {
      if (this.vehicle.mode !== mode) this.enterMode(mode);
      this.vehicle.startTakeoff(this.vehicle.params.takeoffAltM);
      return { result: MavResult.ACCEPTED };
    }
    if (mode !== this.vehicle.mode) this.enterMode(mode);
    return { result: MavResult.ACCEPTED };
  }

  /** PX4 answers a transition it refuses with TEMPORARILY_REJECTED and says why in a STATUSTEXT. */
  private reject(text: string): { result: common.MavResult } {
    this.statusText(tm.SEVERITY.CRITICAL, text);
    return { result: MavResult.TEMPORARILY_REJECTED };
  }

  // ---- MAVLink out ----

  private sendStream(msgid: number): void {
    this.advancePhysics();
    const now = this.clock.nowUs();
    const est = this.sensor.estimate(now);
    const v = this.vehicle;
    switch (msgid) {
      case minimal.Heartbeat.MSG_ID:
        return this.send(tm.heartbeat({ mode: v.mode, armed: v.armed, failsafe: this.failsafe }));
      case common.SysStatus.MSG_ID:
        return this.send(tm.sysStatus(v.battery()));
      case common.BatteryStatus.MSG_ID:
        return this.send(tm.batteryStatus(v.battery()));
    }
    if (!est) return;
    if (msgid === common.LocalPositionNed.MSG_ID) this.send(tm.localPositionNed(est, this.bootUs));
    else if (msgid === common.AttitudeQuaternion.MSG_ID) this.send(tm.attitudeQuaternion(est, this.bootUs));
    else if (msgid === common.Odometry.MSG_ID) this.send(tm.odometry(est, this.bootUs));
  }

  private statusText(severity: number, text: string): void {
    this.onEvent?.(text);
    this.send(tm.statusText(severity, text));
  }

  private send(msg: MavLinkData): void {
    if (!this.link.send) return;
    this.counts.packetsOut++;
    this.transport.send(this.encoder.encode(msg));
  }
}
