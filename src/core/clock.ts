/**
 * The one source of time. Pipeline code never reads the wall clock or starts timers itself: it is handed a Clock.
 * Live, that is the WallClock; in the simulator a SimClock advanced by the simulation loop; in replay a log clock
 * advanced to each recorded message's timestamp. Times are microseconds on the clock's own monotonic timeline.
 */
export interface Timer {
  cancel(): void;
}

export interface Clock {
  readonly kind: 'wall' | 'sim' | 'log';
  /** Monotonic time in microseconds. */
  nowUs(): number;
  /** Calls fn once when the clock reaches tUs (at once, on the next turn, if it already has). */
  at(tUs: number, fn: () => void): Timer;
  after(delayUs: number, fn: () => void): Timer;
  /**
   * Calls fn every periodUs on a fixed cadence: tick k is due at start + k·period, so lateness does not accumulate.
   * A tick that is more than one period late is skipped (and counted by the caller through the times it sees).
   */
  every(periodUs: number, fn: (dueUs: number) => void, opts?: EveryOptions): Timer;
}

export interface EveryOptions {
  /**
   * Hit each due time to well under a millisecond (the setpoint stream): the wall clock wakes a little early and
   * yields to I/O until the due time instead of trusting the event loop's millisecond timers. Costs a little CPU;
   * simulated clocks are exact anyway.
   */
  precise?: boolean;
}

/** How early a precise timer wakes (µs): libuv's timers have millisecond resolution and a cached loop time. */
const PRECISE_LEAD_US = 1500;

/** Real time: performance.now() for the timeline, setTimeout for wake-ups. */
export class WallClock implements Clock {
  readonly kind = 'wall' as const;

  nowUs(): number {
    return Math.round(performance.now() * 1000);
  }

  /** Microseconds since the UNIX epoch of a time on this clock (for log files and MAVLink timestamps). */
  toUnixUs(tUs: number): number {
    return Math.round((performance.timeOrigin + tUs / 1000) * 1000);
  }

  at(tUs: number, fn: () => void): Timer {
    const handle = setTimeout(fn, Math.max(0, (tUs - this.nowUs()) / 1000));
    return { cancel: () => clearTimeout(handle) };
  }

  after(delayUs: number, fn: () => void): Timer {
    return this.at(this.nowUs() + delayUs, fn);
  }

  every(periodUs: number, fn: (dueUs: number) => void, opts: EveryOptions = {}): Timer {
    let cancelled = false;
    let due = this.nowUs() + periodUs;
    let handle: NodeJS.Timeout;
    const lead = opts.precise ? PRECISE_LEAD_US : 0;
    const fire = () => {
      const now = this.nowUs();
      // Skip ticks we are more than a period late for rather than firing a burst to catch up.
      if (now - due > periodUs) due += Math.floor((now - due) / periodUs) * periodUs;
      fn(due);
      due += periodUs;
      handle = setTimeout(tick, Math.max(0, (due - lead - this.nowUs()) / 1000));
    };
    // Early by `lead`: give the event loop back (setImmediate lets I/O run) until the due time has come.
    const waitForDue = () => {
      if (cancelled) return;
      if (this.nowUs() >= due) fire();
      else setImmediate(waitForDue);
    };
    const tick = () => {
      if (cancelled) return;
      if (lead > 0) waitForDue();
      else fire();
    };
    handle = setTimeout(tick, Math.max(0, periodUs - lead) / 1000);
    return {
      cancel: () => {
        cancelled = true;
        clearTimeout(handle);
      },
    };
  }
}

interface Pending {
  dueUs: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/**
 * Time that moves only when told: the simulator's clock and the replay's log clock. Timers fire in due order
 * (ties in creation order) while `advanceTo` moves the clock, each seeing nowUs() equal to its due time.
 */
export class ManualClock implements Clock {
  private t: number;
  private seq = 0;
  private queue: Pending[] = [];

  constructor(
    readonly kind: 'sim' | 'log' = 'sim',
    startUs = 0,
  ) {
    this.t = startUs;
  }

  nowUs(): number {
    return this.t;
  }

  at(tUs: number, fn: () => void): Timer {
    const p: Pending = { dueUs: Math.max(tUs, this.t), seq: this.seq++, fn, cancelled: false };
    this.insert(p);
    return { cancel: () => void (p.cancelled = true) };
  }

  after(delayUs: number, fn: () => void): Timer {
    return this.at(this.t + delayUs, fn);
  }

  every(periodUs: number, fn: (dueUs: number) => void, _opts?: EveryOptions): Timer {
    if (!(periodUs > 0)) throw new RangeError(`clock period must be positive, got ${periodUs}`);
    let current: Timer | null = null;
    let cancelled = false;
    const schedule = (dueUs: number) => {
      current = this.at(dueUs, () => {
        if (cancelled) return;
        fn(dueUs);
        schedule(dueUs + periodUs);
      });
    };
    schedule(this.t + periodUs);
    return {
      cancel: () => {
        cancelled = true;
        current?.cancel();
      },
    };
  }

  /** Moves time forward to tUs, firing every timer due on the way. Going backwards is a programming error. */
  advanceTo(tUs: number): void {
    this.fireWhile((due) => due <= tUs, tUs);
  }

  /**
   * Moves time to tUs firing only the timers due strictly before it; those due at tUs wait for the next advance.
   * Replay needs it: a recorded input was published at its instant before or after that instant's timers.
   */
  advanceBefore(tUs: number): void {
    this.fireWhile((due) => due < tUs, tUs);
  }

  private fireWhile(isDue: (dueUs: number) => boolean, tUs: number): void {
    if (tUs < this.t) throw new RangeError(`${this.kind} clock cannot go back from ${this.t} to ${tUs} µs`);
    for (;;) {
      const next = this.queue[0];
      if (!next || !isDue(next.dueUs)) break;
      this.queue.shift();
      if (next.cancelled) continue;
      this.t = next.dueUs;
      next.fn();
    }
    this.t = tUs;
  }

  advanceBy(dUs: number): void {
    this.advanceTo(this.t + dUs);
  }

  /** Due time of the next live timer, or null: lets a simulation loop jump straight to the next event. */
  nextDueUs(): number | null {
    while (this.queue.length && this.queue[0]!.cancelled) this.queue.shift();
    return this.queue[0]?.dueUs ?? null;
  }

  private insert(p: Pending): void {
    // Binary search on (dueUs, seq); timer counts stay small (tens), so an array is plenty.
    let lo = 0;
    let hi = this.queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const q = this.queue[mid]!;
      if (q.dueUs < p.dueUs || (q.dueUs === p.dueUs && q.seq < p.seq)) lo = mid + 1;
      else hi = mid;
    }
    this.queue.splice(lo, 0, p);
  }
}
