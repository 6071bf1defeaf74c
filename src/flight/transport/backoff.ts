/**
 * Reconnect policy for links that can come back (a serial device plugged in late, a TCP peer restarting):
 * exponential, starting at `initialS`, doubling, capped at `maxS` (config `flight.reconnect`). No jitter: one
 * companion computer talks to one flight controller, so there is no herd of clients to spread out.
 */
export interface BackoffPolicy {
  initialS: number;
  maxS: number;
  /** Growth per failed attempt; 2 unless given. */
  factor?: number;
}

/**
 * Seconds to wait before retry number `attempt` (0 for the first retry after a failure). A pure function, so the
 * schedule is tested without timers. Bad numbers (a negative attempt, maxS below initialS) are clamped, not thrown:
 * the schema has validated the configuration already, and a reconnect loop must keep going.
 */
export function backoffDelayS(attempt: number, policy: BackoffPolicy): number {
  const initial = Math.max(0, policy.initialS);
  const max = Math.max(initial, policy.maxS);
  const factor = Math.max(1, policy.factor ?? 2);
  const n = Math.max(0, Math.floor(attempt));
  // A long outage overflows factor ** n to Infinity, which the cap turns back into maxS (0·Infinity would be NaN).
  if (initial === 0) return 0;
  return Math.min(max, initial * factor ** n);
}

/** "2.0 s", as status messages show a delay. */
export function formatDelay(seconds: number): string {
  return `${seconds.toFixed(1)} s`;
}

/**
 * The timer side of a reconnect loop, shared by the serial and TCP transports: counts attempts, schedules the next
 * one after backoffDelayS, and forgets everything on success or close.
 */
export class RetrySchedule {
  private attempt = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly policy: BackoffPolicy) {}

  /** Schedules `fn` after the next delay and returns that delay (s). Replaces a retry already pending. */
  schedule(fn: () => void): number {
    this.cancel();
    const delay = backoffDelayS(this.attempt++, this.policy);
    this.timer = setTimeout(() => {
      this.timer = null;
      fn();
    }, delay * 1000);
    return delay;
  }

  /** The link is up: the next failure starts again from initialS. */
  reset(): void {
    this.attempt = 0;
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  get pending(): boolean {
    return this.timer !== null;
  }
}
