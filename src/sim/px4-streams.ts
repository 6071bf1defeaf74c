import type { Clock, Timer } from '../core/clock.js';
import { common, minimal } from '../flight/mavlink/registry.js';

/** Default intervals (µs) of the streams PX4 sends on its onboard link (the ones this simulator knows). */
export const DEFAULT_INTERVAL_US: Readonly<Record<number, number>> = {
  [minimal.Heartbeat.MSG_ID]: 1_000_000,
  [common.SysStatus.MSG_ID]: 1_000_000,
  [common.BatteryStatus.MSG_ID]: 500_000,
  [common.LocalPositionNed.MSG_ID]: 20_000,
  [common.AttitudeQuaternion.MSG_ID]: 20_000,
  [common.Odometry.MSG_ID]: 33_333,
};

export const isKnownStream = (msgid: number): boolean => msgid in DEFAULT_INTERVAL_US;

/**
 * One clock timer per message stream, re-armed by SET_MESSAGE_INTERVAL semantics: an interval in µs, 0 for the
 * default, −1 to stop it.
 */
export class StreamScheduler {
  private readonly timers = new Map<number, Timer>();

  constructor(
    private readonly clock: Clock,
    private readonly sendOne: (msgid: number) => void,
  ) {}

  startDefaults(): void {
    for (const [id, us] of Object.entries(DEFAULT_INTERVAL_US)) this.set(Number(id), us);
  }

  /** Applies a SET_MESSAGE_INTERVAL request; false when the message is not one we stream. */
  set(msgid: number, requestedUs: number): boolean {
    if (!isKnownStream(msgid)) return false;
    const intervalUs = requestedUs === 0 ? DEFAULT_INTERVAL_US[msgid]! : requestedUs < 0 ? 0 : requestedUs;
    this.timers.get(msgid)?.cancel();
    this.timers.delete(msgid);
    if (intervalUs > 0) this.timers.set(msgid, this.clock.every(intervalUs, () => this.sendOne(msgid)));
    return true;
  }

  stopAll(): void {
    for (const t of this.timers.values()) t.cancel();
    this.timers.clear();
  }
}
