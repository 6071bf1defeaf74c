import type { Clock, Timer } from '../core/clock.js';

interface Pending {
  dueUs: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/**
 * The replay's clock: a ManualClock (timers fire in due order, ties in creation order) that can also be moved to an
 * instant WITHOUT firing the timers due at that instant (`advanceBefore`). A recorded input was published at its
 * time either before or after the live stages' timers of that instant; replay feeds it at exactly its time on
 * the right side of them, so that what the stages compute (timestamps included) is what they computed live.
 */
export class LogClock implements Clock {
  readonly kind = 'log' as const;
  private t: number;
  private seq = 0;
  private queue: Pending[] = [];

  constructor(startUs = 0) {
    this.t = startUs;
  }

  nowUs(): number {
    return this.t;
  }

  at(tUs: number, fn: () => void): Timer {
    const p: Pending = { dueUs: Math.max(tUs, this.t), seq: this.seq++, fn, cancelled: false };
    let lo = 0;
    let hi = this.queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const q = this.queue[mid]!;
      if (q.dueUs < p.dueUs || (q.dueUs === p.dueUs && q.seq < p.seq)) lo = mid + 1;
      else hi = mid;
    }
    this.queue.splice(lo, 0, p);
    return { cancel: () => void (p.cancelled = true) };
  }

  after(delayUs: number, fn: () => void): Timer {
    return this.at(this.t + delayUs, fn);
  }

  every(periodUs: number, fn: (dueUs: number) => void): Timer {
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

  /** Moves to tUs firing every timer due up to and including tUs. */
  advanceTo(tUs: number): void {
    this.fireWhile((due) => due <= tUs, tUs);
  }

  /** Moves to tUs firing the timers due strictly before it; those due at tUs wait for the next advance. */
  advanceBefore(tUs: number): void {
    this.fireWhile((due) => due < tUs, tUs);
  }

  private fireWhile(due: (dueUs: number) => boolean, tUs: number): void {
    if (tUs < this.t) throw new RangeError(`log clock cannot go back from ${this.t} to ${tUs} µs`);
    for (;;) {
      const next = this.queue[0];
      if (!next || !due(next.dueUs)) break;
      this.queue.shift();
      if (next.cancelled) continue;
      this.t = next.dueUs;
      next.fn();
    }
    this.t = tUs;
  }
}
