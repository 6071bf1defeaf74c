import { existsSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';

/**
 * Where an event-loop stall went, from the kernel's accounting of the main thread over the stall:
 * - `onLoop`: the main thread was on a CPU: JavaScript on the event loop (the daemon's code, or a garbage
 *   collection: `gc` counts those of them a main-thread collection overlapped by at least half). A hypervisor that
 *   takes the virtual CPU away while the thread runs is indistinguishable from this and lands here too.
 * - `waitingForCpu`: runnable, but another thread had the core (the kernel's run-queue wait).
 * - `timerLate`: neither running nor runnable: the thread slept past its timer, which the kernel wakes on time
 *   unless the machine under it does not run the virtual CPU (the loop had nothing to do).
 */
export type StallCause = 'onLoop' | 'waitingForCpu' | 'timerLate';

export interface Stall {
  /** Absolute end of the stall (ms since the epoch, performance.timeOrigin-based). */
  endMs: number;
  /** Interval between two 1 ms ticks of the loop, as monitorEventLoopDelay counts a stall. */
  ms: number;
  runMs: number;
  waitMs: number;
  sleepMs: number;
  gcMs: number;
  /**
   * How long the sampler thread (a second, sleeping, normal-priority thread of this process) also missed its own
   * 1 ms ticks within the stall. Most of the stall long: both threads were kept off the CPUs at once, which the
   * daemon's workers cannot do (they step aside for normal-priority threads), so the machine did.
   */
  samplerMissedMs: number;
  cause: StallCause;
}

export interface StallReport {
  thresholdMs: number;
  seconds: number;
  /** Stalls over the threshold, counted one by one (not estimated from a histogram). */
  count: number;
  perS: number;
  longestMs: number;
  byCause: Record<StallCause, number>;
  /** How many of the `onLoop` stalls a main-thread garbage collection covered at least half of. */
  gc: number;
  /** Per cause, how many stalls the sampler thread shared for at least half their length (see Stall.samplerMissedMs). */
  shared: Record<StallCause, number>;
  /** False where /proc has no schedstat (not Linux): stalls are counted but all land in `onLoop`. */
  attributed: boolean;
  /** The longest few, with their split. */
  worst: Stall[];
}

const now = () => performance.timeOrigin + performance.now();

/**
 * Counts event-loop stalls over a threshold and says, for each, whether the main thread was running, waiting for a
 * CPU or asleep while it lasted. For benches only (wall clock, a worker, /proc reads): it separates what the code
 * on the loop costs from what the machine does to it, which one histogram of loop delays cannot.
 */
export class StallWatch {
  private readonly stalls: { start: number; end: number }[] = [];
  private readonly gcs: { start: number; end: number }[] = [];
  private readonly ticker: NodeJS.Timeout;
  private readonly gcObs: PerformanceObserver;
  private last = now();
  private readonly t0 = this.last;

  private constructor(private readonly thresholdMs: number, private readonly worker: Worker | null) {
    this.ticker = setInterval(() => {
      const t = now();
      if (t - this.last > thresholdMs) this.stalls.push({ start: this.last, end: t });
      this.last = t;
    }, 1);
    this.gcObs = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) this.gcs.push({ start: performance.timeOrigin + e.startTime, end: performance.timeOrigin + e.startTime + e.duration });
    });
    this.gcObs.observe({ entryTypes: ['gc'] });
  }

  static async start(thresholdMs = 5): Promise<StallWatch> {
    let worker: Worker | null = null;
    if (existsSync(`/proc/${process.pid}/task/${process.pid}/schedstat`)) {
      worker = new Worker(new URL('./stall-watch-worker.js', import.meta.url));
      await new Promise<void>((resolve, reject) => {
        worker!.once('message', () => resolve());
        worker!.once('error', reject);
      });
    }
    return new StallWatch(thresholdMs, worker);
  }

  async stop(): Promise<StallReport> {
    clearInterval(this.ticker);
    this.gcObs.disconnect();
    const t1 = now();
    let samples: Float64Array = new Float64Array(0);
    if (this.worker) {
      const w = this.worker;
      samples = await new Promise<Float64Array>((resolve, reject) => {
        w.once('message', (m: Float64Array) => resolve(m));
        w.once('error', reject);
        w.postMessage('stop');
      });
      await w.terminate();
    }
    return attribute(this.stalls, this.gcs, samples, this.thresholdMs, (t1 - this.t0) / 1000, this.worker !== null);
  }
}

/** The schedstat sample at or before `t` (index into triples), or the first. */
function sampleAtOrBefore(s: Float64Array, t: number): number {
  let lo = 0;
  let hi = s.length / 3 - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (s[3 * mid]! <= t) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Within [start, end], the time the sampler's ticks (one per ms when on time) were more than 2 ms apart, beyond the 1 ms. */
function samplerMissed(s: Float64Array, start: number, end: number): number {
  let missed = 0;
  for (let i = sampleAtOrBefore(s, start); i + 1 < s.length / 3 && s[3 * i]! < end; i++) {
    const a = s[3 * i]!;
    const b = s[3 * i + 3]!;
    if (b - a > 2) missed += Math.max(0, Math.min(end, b) - Math.max(start, a + 1));
  }
  return missed;
}

/**
 * Splits each stall by the schedstat samples that bracket it. The kernel brings a running thread's counters up to
 * date at its scheduler tick (every 4 ms at HZ 250), so the bracket closes one tick after the stall, and whatever
 * the main thread ran or waited in the margins is counted into the stall: the split errs towards blaming the loop,
 * never the machine.
 */
export function attribute(
  spans: readonly { start: number; end: number }[], gcs: readonly { start: number; end: number }[], samples: Float64Array,
  thresholdMs: number, seconds: number, attributed: boolean, tickMs = 4,
): StallReport {
  const byCause: Record<StallCause, number> = { onLoop: 0, waitingForCpu: 0, timerLate: 0 };
  const shared: Record<StallCause, number> = { onLoop: 0, waitingForCpu: 0, timerLate: 0 };
  let gcCount = 0;
  const all: Stall[] = spans.map(({ start, end }) => {
    const ms = end - start;
    const gcMs = gcs.reduce((a, g) => a + Math.max(0, Math.min(end, g.end) - Math.max(start, g.start)), 0);
    let runMs = ms;
    let waitMs = 0;
    if (attributed && samples.length >= 6) {
      const a = sampleAtOrBefore(samples, start);
      const b = Math.min(samples.length / 3 - 1, sampleAtOrBefore(samples, end + tickMs) + 1);
      runMs = Math.min(ms, samples[3 * b + 1]! - samples[3 * a + 1]!);
      waitMs = Math.min(ms - runMs, samples[3 * b + 2]! - samples[3 * a + 2]!);
    }
    const sleepMs = Math.max(0, ms - runMs - waitMs);
    const samplerMissedMs = attributed ? samplerMissed(samples, start, end) : 0;
    const cause: StallCause = runMs >= waitMs && runMs >= sleepMs ? 'onLoop' : waitMs >= sleepMs ? 'waitingForCpu' : 'timerLate';
    byCause[cause]++;
    if (cause === 'onLoop' && gcMs >= ms / 2) gcCount++;
    if (samplerMissedMs >= ms / 2) shared[cause]++;
    const r = (v: number) => Math.round(v * 100) / 100;
    return { endMs: end, ms: r(ms), runMs: r(runMs), waitMs: r(waitMs), sleepMs: r(sleepMs), gcMs: r(gcMs), samplerMissedMs: r(samplerMissedMs), cause };
  });
  return {
    thresholdMs, seconds: Math.round(seconds * 100) / 100, count: all.length, perS: Math.round((all.length / Math.max(1e-9, seconds)) * 100) / 100,
    longestMs: all.reduce((a, s) => Math.max(a, s.ms), 0), byCause, gc: gcCount, shared, attributed,
    worst: [...all].sort((x, y) => y.ms - x.ms).slice(0, 5),
  };
}

/**
 * One line for people: "3 stalls > 5 ms (0.2/s, longest 6.8 ms): on the loop 0 of which GC 0, waiting for a CPU 1
 * (1 shared), timer late 2 (2 shared)"; "shared": the sampler thread stalled through most of it too.
 */
export function describeStalls(r: StallReport): string {
  const head = `${r.count} stall${r.count === 1 ? '' : 's'} > ${r.thresholdMs} ms (${r.perS}/s${r.count ? `, longest ${r.longestMs} ms` : ''})`;
  if (!r.attributed) return `${head} (no /proc schedstat: not split by cause)`;
  const c = (k: StallCause) => `${r.byCause[k]}${r.shared[k] ? ` (${r.shared[k]} shared)` : ''}`;
  return `${head}: on the loop ${c('onLoop')} of which GC ${r.gc}, waiting for a CPU ${c('waitingForCpu')}, timer late ${c('timerLate')}`;
}
