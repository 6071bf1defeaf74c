import { common, minimal, type MavLinkData } from 'mavlink-mappings';
import type { Clock, Timer } from '../core/clock.js';

/**
 * MAVLink commands (COMMAND_LONG) with COMMAND_ACK matching, timeouts and retries, on the injected clock.
 *
 * An ACK carries only the command id, so one command per id may be in flight; a new one with the same id
 * supersedes the old (which resolves as 'superseded'). A retry resends with `confirmation` incremented, which tells
 * the autopilot it is a repeat (ArduPilot and PX4 both accept it). IN_PROGRESS ACKs extend the wait instead of
 * triggering a retry. The outcome is a value, never a rejection: a denied arm is a fact to act on, not a crash.
 */

export const MavCmd = common.MavCmd;
export const MavResult = common.MavResult;

export interface CommandOutcome {
  command: number;
  ok: boolean;
  /** The autopilot's MAV_RESULT name, or 'TIMEOUT' / 'SUPERSEDED' / 'CLOSED'. */
  result: string;
  attempts: number;
}

export interface CommandTarget {
  targetSystem: number;
  targetComponent: number;
}

export interface CommandSenderOptions {
  clock: Clock;
  send: (msg: MavLinkData) => void;
  target: () => CommandTarget;
  timeoutUs: number;
  /** Resends after the first attempt. */
  retries: number;
}

type Params = [number, number, number, number, number, number, number];

interface InFlight {
  command: number;
  params: Params;
  attempts: number;
  timer: Timer | null;
  resolve: (o: CommandOutcome) => void;
}

export class CommandSender {
  private readonly inFlight = new Map<number, InFlight>();

  constructor(private readonly opts: CommandSenderOptions) {}

  /** Sends COMMAND_LONG `command` with up to seven params (missing ones 0) and resolves with its outcome. */
  send(command: number, params: number[] = []): Promise<CommandOutcome> {
    const previous = this.inFlight.get(command);
    if (previous) this.finish(previous, false, 'SUPERSEDED');
    const p = [0, 0, 0, 0, 0, 0, 0].map((d, i) => params[i] ?? d) as Params;
    return new Promise<CommandOutcome>((resolve) => {
      const entry: InFlight = { command, params: p, attempts: 0, timer: null, resolve };
      this.inFlight.set(command, entry);
      this.attempt(entry);
    });
  }

  /** Feed every COMMAND_ACK from the autopilot here. Returns true when it matched a command in flight. */
  handleAck(ack: { command: number; result: number }): boolean {
    const entry = this.inFlight.get(ack.command);
    if (!entry) return false;
    if (ack.result === MavResult.IN_PROGRESS) {
      // Still working (e.g. a long calibration or a take-off): wait a full timeout again without resending.
      entry.timer?.cancel();
      entry.timer = this.opts.clock.after(this.opts.timeoutUs, () => this.onTimeout(entry));
      return true;
    }
    this.finish(entry, ack.result === MavResult.ACCEPTED, MavResult[ack.result] ?? `RESULT_${ack.result}`);
    return true;
  }

  get pending(): number {
    return this.inFlight.size;
  }

  /** Resolves everything in flight as 'CLOSED' (the link is shutting down). */
  close(): void {
    for (const e of [...this.inFlight.values()]) this.finish(e, false, 'CLOSED');
  }

  private attempt(entry: InFlight): void {
    const t = this.opts.target();
    const m = new common.CommandLong();
    m.targetSystem = t.targetSystem;
    m.targetComponent = t.targetComponent;
    m.command = entry.command;
    m.confirmation = Math.min(entry.attempts, 255);
    [m._param1, m._param2, m._param3, m._param4, m._param5, m._param6, m._param7] = entry.params;
    entry.attempts++;
    entry.timer = this.opts.clock.after(this.opts.timeoutUs, () => this.onTimeout(entry));
    this.opts.send(m);
  }

  private onTimeout(entry: InFlight): void {
    if (this.inFlight.get(entry.command) !== entry) return;
    if (entry.attempts <= this.opts.retries) this.attempt(entry);
    else this.finish(entry, false, 'TIMEOUT');
  }

  private finish(entry: InFlight, ok: boolean, result: string): void {
    entry.timer?.cancel();
    if (this.inFlight.get(entry.command) === entry) this.inFlight.delete(entry.command);
    entry.resolve({ command: entry.command, ok, result, attempts: entry.attempts });
  }
}

/** MAV_CMD_COMPONENT_ARM_DISARM. `force` (21196) overrides pre-arm checks: only for tests and the bench. */
export function armParams(arm: boolean, force = false): number[] {
  return [arm ? 1 : 0, force ? 21196 : 0];
}

/** MAV_CMD_NAV_TAKEOFF: param7 is the altitude; NaN for yaw and position means "current" for both autopilots. */
export function takeoffParams(altitudeM: number): number[] {
  return [0, 0, 0, NaN, NaN, NaN, altitudeM];
}

/** MAV_CMD_NAV_LAND at the current position. */
export function landParams(): number[] {
  return [0, 0, 0, NaN, NaN, NaN, NaN];
}

/**
 * MAV_CMD_DO_SET_MODE. PX4: base mode CUSTOM_MODE_ENABLED, param2 the custom main mode, param3 the sub mode.
 * ArduPilot: base mode CUSTOM_MODE_ENABLED, param2 the ArduCopter mode number (GUIDED = 4).
 */
export function px4SetModeParams(mainMode: number, subMode = 0): number[] {
  return [minimal.MavModeFlag.CUSTOM_MODE_ENABLED, mainMode, subMode];
}

export function arduSetModeParams(modeNumber: number): number[] {
  return [minimal.MavModeFlag.CUSTOM_MODE_ENABLED, modeNumber];
}

/** MAV_CMD_SET_MESSAGE_INTERVAL: message id, interval in µs. */
export function messageIntervalParams(msgid: number, rateHz: number): number[] {
  return [msgid, Math.round(1e6 / rateHz)];
}

