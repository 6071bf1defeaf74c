import { existsSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';

/**
 * Where an event-loop stall went, from the kernel's view of the main thread while it lasted:
 * - `onLoop`: the main thread was on a CPU: JavaScript on the event loop. Those covered at least half by the
 *   pipeline's own reported holds count as `perception`, by a main-thread garbage collection as `gc`; the rest is
 *   other work on the loop (the bench's own, the compiler), or a hypervisor taking the virtual CPU away while the
 *   thread ran, which looks the same from inside.
 * - `waitingForCpu`: runnable, but another thread had the core (the kernel's run-queue wait).
 * - `timerLate`: asleep: the thread slept past its timer, which the kernel wakes on time unless the machine under
 *   it does not run the virtual CPU (the loop had nothing to do).
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
  /** Of the stall, the time inside holds the pipeline reported (StallWatch.hold). */
  holdMs: number;
  /**
   * How long the sampler thread (a second, sleeping, normal-priority thread of this process) also missed its own
   * 1 ms ticks within the stall. Most of the stall long: both threads were kept off the CPUs at once, which the
   * daemon's workers cannot do (they step aside for normal-priority threads): other load or the machine did.
   */
  samplerMissedMs: number;
  /**
   * Page faults the main thread took from the sample before the stall to the one after. On a virtual machine whose
   * host backs guest memory lazily (free page reporting), a first touch of fresh memory can cost milliseconds that
   * the guest counts as running: a stall on the loop with faults in it and no hold or collection covering it.
   */
  faults: number;
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
  /** `onLoop` stalls the pipeline's own holds covered at least half of. */
  perception: number;
  /** `onLoop` stalls (not already `perception`) a main-thread garbage collection covered at least half of. */
  gc: number;
  /** The other `onLoop` stalls (neither perception nor GC) in which the main thread took page faults. */
  faulting: number;
  /** Per cause, how many stalls the sampler thread shared for at least half their length (Stall.samplerMissedMs). */
  shared: Record<StallCause, number>;
  /** False where /proc has no schedstat (not Linux): stalls are counted but all land in `onLoop`. */
  attributed: boolean;
  /** The longest few, with their split. */
  worst: Stall[];
}

export interface Span {
  start: number;
  end: number;
}

/** The sampler's layout (stall-watch-worker.ts): absolute ms, run ms, wait ms, 1 when running or runnable, minor faults. */
const F = 5;
const now = () => performance.timeOrigin + performance.now();

/**
 * Counts event-loop stalls over a threshold and says, for each, whether the main thread was running, waiting for a
 * CPU or asleep while it lasted, and whether the pipeline's own holds or a garbage collection covered it. For
 * benches only (wall clock, a worker, /proc reads): it separates what the code on the loop costs from what the
 * machine does to it, which one histogram of loop delays cannot.
 */
export class StallWatch {
  private readonly stalls: Span[] = [];
  private readonly gcs: Span[] = [];
  private readonly holds: Span[] = [];
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
    const task = `/proc/${process.pid}/task/${process.pid}`;
    if (existsSync(`${task}/schedstat`) && existsSync(`${task}/stat`)) {
      worker = new Worker(new URL('./stall-watch-worker.js', import.meta.url));
      await new Promise<void>((resolve, reject) => {
        worker!.once('message', () => resolve());
        worker!.once('error', reject);
      });
    }
    return new StallWatch(thresholdMs, worker);
  }

  /** A stretch the pipeline held the loop, as it reports it (performance.now() ms). */
  hold(startMs: number, ms: number): void {
    const start = performance.timeOrigin + startMs;
    this.holds.push({ start, end: start + ms });
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
    return attribute({
      stalls: this.stalls, gcs: this.gcs, holds: this.holds, samples, thresholdMs: this.thresholdMs,
      seconds: (t1 - this.t0) / 1000, attributed: this.worker !== null,
    });
  }
}

/** The sample at or before `t` (its index), or the first. */
function sampleAtOrBefore(s: Float64Array, t: number): number {
  let lo = 0;
  let hi = s.length / F - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (s[F * mid]! <= t) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Within [start, end], the time the sampler's ticks (one per ms when on time) were more than 2 ms apart, beyond the 1 ms. */
function samplerMissed(s: Float64Array, start: number, end: number): number {
  let missed = 0;
  for (let i = sampleAtOrBefore(s, start); i + 1 < s.length / F && s[F * i]! < end; i++) {
    const a = s[F * i]!;
    const b = s[F * (i + 1)]!;
    if (b - a > 2) missed += Math.max(0, Math.min(end, b) - Math.max(start, a + 1));
  }
  return missed;
}

const overlap = (spans: readonly Span[], start: number, end: number) =>
  spans.reduce((a, g) => a + Math.max(0, Math.min(end, g.end) - Math.max(start, g.start)), 0);

export interface AttributeInput {
  stalls: readonly Span[];
  gcs: readonly Span[];
  holds: readonly Span[];
  /** The sampler's samples (F per sample); empty when not attributed. */
  samples: Float64Array;
  thresholdMs: number;
  seconds: number;
  attributed: boolean;
  /** The kernel's scheduler tick: how late a running thread's counters may be (4 ms at HZ 250). */
  tickMs?: number;
}

/**
 * Splits each stall. Asleep: the share of the samples taken inside the stall that found the thread neither
 * running nor runnable. The rest is running or waiting; of it, waiting is what the run-queue counter grew by, and
 * running all that is left. The kernel charges a running thread at its scheduler tick, so the counters are read
 * from the sample before the stall to one tick after it, and what the thread ran or waited in those margins
 * counts into the stall: the split errs towards blaming the loop, never the machine. With no sample inside the
 * stall (the sampler was kept off the CPUs too), asleep is what the counters leave unexplained.
 */
export function attribute(input: AttributeInput): StallReport {
  const { samples: s, attributed, thresholdMs, seconds } = input;
  const tickMs = input.tickMs ?? 4;
  const byCause: Record<StallCause, number> = { onLoop: 0, waitingForCpu: 0, timerLate: 0 };
  const shared: Record<StallCause, number> = { onLoop: 0, waitingForCpu: 0, timerLate: 0 };
  let gcCount = 0;
  let perception = 0;
  let faulting = 0;
  const all: Stall[] = input.stalls.map(({ start, end }) => {
    const ms = end - start;
    const gcMs = overlap(input.gcs, start, end);
    const holdMs = overlap(input.holds, start, end);
    let runMs = ms;
    let waitMs = 0;
    let sleepMs = 0;
    let samplerMissedMs = 0;
    let faults = 0;
    if (attributed && s.length >= 2 * F) {
      const a = sampleAtOrBefore(s, start);
      const b = Math.min(s.length / F - 1, sampleAtOrBefore(s, end + tickMs) + 1);
      const dRun = s[F * b + 1]! - s[F * a + 1]!;
      const dWait = s[F * b + 2]! - s[F * a + 2]!;
      let inside = 0;
      let asleep = 0;
      for (let i = a + 1; i < s.length / F && s[F * i]! < end; i++) {
        if (s[F * i]! <= start) continue;
        inside++;
        if (s[F * i + 3] === 0) asleep++;
      }
      if (inside > 0) {
        sleepMs = (ms * asleep) / inside;
        waitMs = Math.min(ms - sleepMs, dWait);
        runMs = ms - sleepMs - waitMs;
      } else {
        runMs = Math.min(ms, dRun);
        waitMs = Math.min(ms - runMs, dWait);
        sleepMs = ms - runMs - waitMs;
      }
      samplerMissedMs = samplerMissed(s, start, end);
      faults = s[F * Math.min(s.length / F - 1, sampleAtOrBefore(s, end) + 1) + 4]! - s[F * a + 4]!;
    }
    const cause: StallCause = runMs >= waitMs && runMs >= sleepMs ? 'onLoop' : waitMs >= sleepMs ? 'waitingForCpu' : 'timerLate';
    byCause[cause]++;
    if (cause === 'onLoop' && holdMs >= ms / 2) perception++;
    else if (cause === 'onLoop' && gcMs >= ms / 2) gcCount++;
    else if (cause === 'onLoop' && faults > 0) faulting++;
    if (samplerMissedMs >= ms / 2) shared[cause]++;
    const r = (v: number) => Math.round(v * 100) / 100;
    return {
      endMs: end, ms: r(ms), runMs: r(runMs), waitMs: r(waitMs), sleepMs: r(sleepMs), gcMs: r(gcMs), holdMs: r(holdMs),
      samplerMissedMs: r(samplerMissedMs), faults, cause,
    };
  });
  return {
    thresholdMs, seconds: Math.round(seconds * 100) / 100, count: all.length, perS: Math.round((all.length / Math.max(1e-9, seconds)) * 100) / 100,
    longestMs: all.reduce((a, x) => Math.max(a, x.ms), 0), byCause, perception, gc: gcCount, faulting, shared, attributed,
    worst: [...all].sort((x, y) => y.ms - x.ms).slice(0, 5),
  };
}

/**
 * One line for people: "3 stalls > 5 ms (0.2/s, longest 6.8 ms): on the loop 1 (perception 0, GC 1), waiting for
 * a CPU 1 (1 shared), timer late 1"; "shared": the sampler thread stalled through most of it too.
 */
export function describeStalls(r: StallReport): string {
  const head = `${r.count} stall${r.count === 1 ? '' : 's'} > ${r.thresholdMs} ms (${r.perS}/s${r.count ? `, longest ${r.longestMs} ms` : ''})`;
  if (!r.attributed) return `${head} (no /proc schedstat: not split by cause)`;
  const c = (k: StallCause) => `${r.byCause[k]}${r.shared[k] ? ` (${r.shared[k]} shared)` : ''}`;
  return `${head}: on the loop ${c('onLoop')} of which perception ${r.perception}, GC ${r.gc}, page faults ${r.faulting}; ` +
    `waiting for a CPU ${c('waitingForCpu')}; timer late ${c('timerLate')}`;
}
