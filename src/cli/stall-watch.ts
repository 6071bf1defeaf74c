import { existsSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { BLOCKED, FAULTS, FIELDS as F, IDLE, RUN, STATE, T, WAIT, WCHAN } from './stall-sample.js';

/**
 * What the main thread did for most of an event-loop stall, from the kernel's view of it:
 * - `onLoop`: it was on a CPU: JavaScript on the event loop, a garbage collection, a page fault being served — or
 *   a hypervisor taking the virtual CPU away while the thread ran, which looks the same from inside.
 * - `waitingForCpu`: runnable, but another thread had the core: one of another process, or one of this process
 *   that runs at normal priority (V8's and libuv's helper threads; the daemon's bulk workers step aside).
 * - `blocked`: asleep somewhere other than waiting for events: a lock, synchronous I/O.
 * - `timerLate`: asleep waiting for events (epoll) past its timer, which the kernel fires on time unless the
 *   machine under it does not run the virtual CPU: the loop had nothing to do.
 */
export type StallCause = 'onLoop' | 'waitingForCpu' | 'blocked' | 'timerLate';

export interface Stall {
  /** Absolute end of the stall (ms since the epoch, performance.timeOrigin-based). */
  endMs: number;
  /** Interval between two 1 ms ticks of the loop, as monitorEventLoopDelay counts a stall. */
  ms: number;
  runMs: number;
  waitMs: number;
  blockedMs: number;
  sleepMs: number;
  gcMs: number;
  /** Of the stall, the time inside holds the pipeline reported (StallWatch.hold). */
  holdMs: number;
  /**
   * The holds inside the stall: how many, the longest one's share of the stall, and the time per kind of hold
   * (what the pipeline was doing): one long hold and many short ones back to back call for different cures.
   */
  holds: number;
  longestHoldMs: number;
  holdBy: Record<string, number>;
  /**
   * How long the sampler thread (a second, sleeping, normal-priority thread of this process) also missed its own
   * 1 ms ticks within the stall: most of the stall long means both threads were kept off the CPUs at once.
   */
  samplerMissedMs: number;
  /**
   * Page faults the main thread took from the sample before the stall to the one after. On a virtual machine whose
   * host backs guest memory lazily (free page reporting), a first touch of fresh memory can cost milliseconds that
   * the guest counts as running.
   */
  faults: number;
  /** Where in the kernel the thread was blocked (wchan), when it was: the function seen most in the stall. */
  blockedIn: string | null;
  cause: StallCause;
  /**
   * This process's doing: the pipeline's reported holds (perception's, and with `bench perception --record` the
   * recorder's) and main-thread collections cover half of it or more, or it was `blocked`.
   */
  caused: boolean;
}

export interface StallReport {
  thresholdMs: number;
  seconds: number;
  /** Stalls over the threshold, counted one by one (not estimated from a histogram). */
  count: number;
  perS: number;
  longestMs: number;
  byCause: Record<StallCause, number>;
  /**
   * Stalls this process caused (Stall.caused), and of them those the pipeline's holds (named `perception`, by kind
   * in perceptionBy: the recorder's are kind "record") or GC covered the most of.
   */
  caused: number;
  perception: number;
  gc: number;
  /** Of the `perception` stalls, how many each kind of hold covered the most of (Stall.holdBy). */
  perceptionBy: Record<string, number>;
  /**
   * Caused stalls the sampler thread shared for at least half their length: the process's work was in them, but
   * both threads were kept off the CPUs meanwhile, so their length is partly the machine's. Still counted as caused.
   */
  causedShared: number;
  /** Per cause, the stalls not caused by this process. */
  uncaused: Record<StallCause, number>;
  /** Uncaused `onLoop` stalls with at least FAULTING_PAGES page faults in them (1 MB of fresh memory touched). */
  faulting: number;
  /** Per cause, how many uncaused stalls the sampler thread shared for at least half their length (Stall.samplerMissedMs). */
  shared: Record<StallCause, number>;
  /** For the `blocked` stalls, how many were blocked in each kernel function (wchan). */
  blockedIn: Record<string, number>;
  /** Main-thread garbage collections in the watch (all of them, stalls or not): count and longest pause. */
  gcCount: number;
  gcMaxMs: number;
  /** False where /proc has no schedstat (not Linux): stalls are counted, all `onLoop`, and none counted as caused. */
  attributed: boolean;
  /** The longest few, with their split. */
  worst: Stall[];
  /** The caused stalls with their split, the ones to fix whatever their length: the first 50 in time (`caused` counts all). */
  causedStalls: Stall[];
  /** Every stall in time order, for pictures (`racepilot bench perception --picture`); left out of --json output. */
  all: Stall[];
}

export interface Span {
  start: number;
  end: number;
  /** For a hold: what the pipeline was doing (perception-stage.ts HoldKind). */
  kind?: string;
}

const FAULTING_PAGES = 256;
const now = () => performance.timeOrigin + performance.now();
const causes = (): Record<StallCause, number> => ({ onLoop: 0, waitingForCpu: 0, blocked: 0, timerLate: 0 });

/** Resolves with the worker's next message; rejects if it fails or exits first. */
function nextMessage<M>(w: Worker, send?: unknown): Promise<M> {
  return new Promise<M>((resolve, reject) => {
    const done = () => {
      w.off('message', onMessage);
      w.off('error', onError);
      w.off('exit', onExit);
    };
    const onMessage = (m: M) => (done(), resolve(m));
    const onError = (err: Error) => (done(), reject(err));
    const onExit = (code: number) => (done(), reject(new Error(`stall sampler exited (code ${code}) before answering`)));
    w.on('message', onMessage);
    w.on('error', onError);
    w.on('exit', onExit);
    if (send !== undefined) w.postMessage(send);
  });
}

/**
 * Counts event-loop stalls over a threshold and says, for each, what the main thread did while it lasted and
 * whether the pipeline's own holds or a garbage collection covered it. For benches only (wall clock, a worker,
 * /proc reads): it separates what the code on the loop costs from what the machine does to it, which one
 * histogram of loop delays cannot. Always stop() it (the ticker and the sampler keep the process alive).
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
    this.gcObs = new PerformanceObserver((list) => this.noteGcs(list.getEntries()));
    this.gcObs.observe({ entryTypes: ['gc'] });
  }

  private noteGcs(entries: readonly PerformanceEntry[]): void {
    for (const e of entries) this.gcs.push({ start: performance.timeOrigin + e.startTime, end: performance.timeOrigin + e.startTime + e.duration });
  }

  static async start(thresholdMs = 5): Promise<StallWatch> {
    let worker: Worker | null = null;
    const task = `/proc/${process.pid}/task/${process.pid}`;
    if (existsSync(`${task}/schedstat`) && existsSync(`${task}/stat`)) {
      worker = new Worker(new URL('./stall-watch-worker.js', import.meta.url));
      await nextMessage(worker);
    }
    return new StallWatch(thresholdMs, worker);
  }

  /** A stretch the pipeline held the loop, as it reports it (performance.now() ms), and what it did meanwhile. */
  hold(startMs: number, ms: number, kind = 'hold'): void {
    const start = performance.timeOrigin + startMs;
    this.holds.push({ start, end: start + ms, kind });
  }

  async stop(): Promise<StallReport> {
    clearInterval(this.ticker);
    this.noteGcs(this.gcObs.takeRecords());
    this.gcObs.disconnect();
    const t1 = now();
    let samples: Float64Array = new Float64Array(0);
    let names: string[] = [];
    if (this.worker) {
      try {
        ({ samples, names } = await nextMessage<{ samples: Float64Array; names: string[] }>(this.worker, 'stop'));
      } finally {
        await this.worker.terminate();
      }
    }
    return attribute({
      stalls: this.stalls, gcs: this.gcs, holds: this.holds, samples, names, thresholdMs: this.thresholdMs,
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
    if (s[F * mid + T]! <= t) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
/** The first sample after `t`, or the last. */
const sampleAfter = (s: Float64Array, t: number) => Math.min(s.length / F - 1, sampleAtOrBefore(s, t) + 1);

/** Within [start, end], the time the sampler's ticks (one per ms when on time) were more than 2 ms apart, beyond the 1 ms. */
function samplerMissed(s: Float64Array, start: number, end: number): number {
  let missed = 0;
  for (let i = sampleAtOrBefore(s, start); i + 1 < s.length / F && s[F * i + T]! < end; i++) {
    const a = s[F * i + T]!;
    const b = s[F * (i + 1) + T]!;
    if (b - a > 2) missed += Math.max(0, Math.min(end, b) - Math.max(start, a + 1));
  }
  return missed;
}

const overlapOf = (g: Span, start: number, end: number) => Math.max(0, Math.min(end, g.end) - Math.max(start, g.start));
const overlap = (spans: readonly Span[], start: number, end: number) => spans.reduce((a, g) => a + overlapOf(g, start, end), 0);

/** The holds inside [start, end): how many, the longest one's part of it, and the time per kind. */
function holdsIn(holds: readonly Span[], start: number, end: number): { holds: number; longestHoldMs: number; holdBy: Record<string, number> } {
  let n = 0;
  let longest = 0;
  const by: Record<string, number> = {};
  for (const h of holds) {
    const o = overlapOf(h, start, end);
    if (o <= 0) continue;
    n++;
    longest = Math.max(longest, o);
    const k = h.kind ?? 'hold';
    by[k] = (by[k] ?? 0) + o;
  }
  return { holds: n, longestHoldMs: longest, holdBy: by };
}

export interface AttributeInput {
  stalls: readonly Span[];
  gcs: readonly Span[];
  holds: readonly Span[];
  /** The sampler's samples (stall-sample.ts); empty when not attributed. */
  samples: Float64Array;
  /** The kernel function names the samples' WCHAN field indexes. */
  names?: readonly string[];
  thresholdMs: number;
  seconds: number;
  attributed: boolean;
  /** The kernel's scheduler tick: how late a running thread's time may be charged (4 ms at HZ 250). */
  tickMs?: number;
}

/**
 * Splits each stall. Asleep waiting for events, and blocked: the shares of the samples taken inside the stall that
 * found the thread so. The rest was running or runnable; running is what its CPU time grew by (read one scheduler
 * tick after the stall: the kernel charges a running thread at its tick), waiting what the run-queue time grew by
 * (read at the first sample after the stall: it is charged when the thread gets its CPU back), and whatever the
 * counters leave unexplained counts as running. Each step errs towards the loop, never the machine. With no sample
 * inside the stall (the sampler was kept off the CPUs too) the counters alone split it, and what they leave
 * unexplained counts as asleep waiting for events: both threads were frozen.
 */
export function attribute(input: AttributeInput): StallReport {
  const { samples: s, attributed, thresholdMs, seconds } = input;
  const tickMs = input.tickMs ?? 4;
  const byCause = causes();
  const uncaused = causes();
  const shared = causes();
  let caused = 0;
  let perception = 0;
  let gc = 0;
  let faulting = 0;
  const perceptionBy: Record<string, number> = {};
  let causedShared = 0;
  const blockedWhere: Record<string, number> = {};
  const all: Stall[] = input.stalls.map(({ start, end }) => {
    const ms = end - start;
    const gcMs = overlap(input.gcs, start, end);
    const holdMs = overlap(input.holds, start, end);
    const within = holdsIn(input.holds, start, end);
    let runMs = ms;
    let waitMs = 0;
    let blockedMs = 0;
    let sleepMs = 0;
    let samplerMissedMs = 0;
    let faults = 0;
    let blockedIn: string | null = null;
    if (attributed && s.length >= 2 * F) {
      const a = sampleAtOrBefore(s, start);
      const afterEnd = sampleAfter(s, end);
      const dRun = s[F * sampleAfter(s, end + tickMs) + RUN]! - s[F * a + RUN]!;
      const dWait = s[F * afterEnd + WAIT]! - s[F * a + WAIT]!;
      let inside = 0;
      let idle = 0;
      let blocked = 0;
      const where = new Map<number, number>();
      for (let i = a + 1; i < afterEnd && s[F * i + T]! < end; i++) {
        if (s[F * i + T]! <= start) continue;
        inside++;
        if (s[F * i + STATE] === IDLE) idle++;
        else if (s[F * i + STATE] === BLOCKED) {
          blocked++;
          where.set(s[F * i + WCHAN]!, (where.get(s[F * i + WCHAN]!) ?? 0) + 1);
        }
      }
      const top = [...where].sort((x, y) => y[1] - x[1])[0];
      if (top) blockedIn = input.names?.[top[0]] ?? '?';
      if (inside > 0) {
        sleepMs = (ms * idle) / inside;
        blockedMs = (ms * blocked) / inside;
        const onCpuOrQueued = ms - sleepMs - blockedMs;
        waitMs = Math.min(onCpuOrQueued - Math.min(onCpuOrQueued, dRun), dWait);
        runMs = onCpuOrQueued - waitMs;
      } else {
        runMs = Math.min(ms, dRun);
        waitMs = Math.min(ms - runMs, dWait);
        sleepMs = ms - runMs - waitMs;
      }
      samplerMissedMs = samplerMissed(s, start, end);
      faults = s[F * afterEnd + FAULTS]! - s[F * a + FAULTS]!;
    }
    const parts: [StallCause, number][] = [['onLoop', runMs], ['waitingForCpu', waitMs], ['blocked', blockedMs], ['timerLate', sleepMs]];
    const cause = parts.reduce((x, y) => (y[1] > x[1] ? y : x))[0];
    byCause[cause]++;
    // Covered by its own holds or collections, whatever the thread's state (a hold spent waiting for a CPU is still
    // the pipeline's stall), or blocked in the kernel: this process's doing. Without attribution nothing is claimed.
    const isCaused = attributed && (holdMs + gcMs >= ms / 2 || cause === 'blocked');
    if (cause === 'blocked') blockedWhere[blockedIn ?? '?'] = (blockedWhere[blockedIn ?? '?'] ?? 0) + 1;
    if (isCaused) {
      caused++;
      if (samplerMissedMs >= ms / 2) causedShared++;
      if (holdMs + gcMs >= ms / 2 && holdMs >= gcMs) {
        perception++;
        const top = Object.entries(within.holdBy).reduce((x, y) => (y[1] > x[1] ? y : x), ['hold', 0])[0];
        perceptionBy[top] = (perceptionBy[top] ?? 0) + 1;
      } else if (holdMs + gcMs >= ms / 2) gc++;
    } else {
      uncaused[cause]++;
      if (samplerMissedMs >= ms / 2) shared[cause]++;
      if (cause === 'onLoop' && faults >= FAULTING_PAGES) faulting++;
    }
    const r = (v: number) => Math.round(v * 100) / 100;
    return {
      endMs: end, ms: r(ms), runMs: r(runMs), waitMs: r(waitMs), blockedMs: r(blockedMs), sleepMs: r(sleepMs), gcMs: r(gcMs),
      holdMs: r(holdMs), holds: within.holds, longestHoldMs: r(within.longestHoldMs),
      holdBy: Object.fromEntries(Object.entries(within.holdBy).map(([k, v]) => [k, r(v)])), samplerMissedMs: r(samplerMissedMs), faults, blockedIn, cause, caused: isCaused,
    };
  });
  return {
    thresholdMs, seconds: Math.round(seconds * 100) / 100, count: all.length, perS: Math.round((all.length / Math.max(1e-9, seconds)) * 100) / 100,
    longestMs: all.reduce((a, x) => Math.max(a, x.ms), 0), byCause, caused, perception, gc, perceptionBy, causedShared, uncaused, faulting, shared, blockedIn: blockedWhere,
    gcCount: input.gcs.length, gcMaxMs: Math.round(input.gcs.reduce((a, g) => Math.max(a, g.end - g.start), 0) * 100) / 100,
    attributed, worst: [...all].sort((x, y) => y.ms - x.ms).slice(0, 5), causedStalls: all.filter((x) => x.caused).slice(0, 50), all,
  };
}

/**
 * One line for people, e.g. "14 stalls > 5 ms (0.47/s, longest 7.8 ms): caused 0 (perception 0, GC 0); not caused:
 * on the loop 5, 1 with page faults, waiting for a CPU 6, timer late 3 (2 shared)"; "shared": the sampler thread
 * stalled through most of it too. Blocked stalls are always counted as caused.
 */
export function describeStalls(r: StallReport): string {
  const head = `${r.count} stall${r.count === 1 ? '' : 's'} > ${r.thresholdMs} ms (${r.perS}/s${r.count ? `, longest ${r.longestMs} ms` : ''})`;
  if (!r.attributed) return `${head} (no /proc schedstat: not split by cause)`;
  const c = (k: StallCause) => `${r.uncaused[k]}${r.shared[k] ? ` (${r.shared[k]} shared)` : ''}`;
  const blocked = Object.entries(r.blockedIn).map(([k, n]) => `${n} in ${k}`).join(', ');
  const by = Object.entries(r.perceptionBy).map(([k, n]) => `${k} ${n}`).join(', ');
  return `${head}: caused ${r.caused} (perception ${r.perception}${by ? ` [${by}]` : ''}, GC ${r.gc}, blocked ${r.byCause.blocked}${blocked ? `: ${blocked}` : ''}${r.causedShared ? `; ${r.causedShared} shared` : ''}); not caused: on the loop ${c('onLoop')}` +
    `${r.faulting ? `, ${r.faulting} with page faults` : ''}, waiting for a CPU ${c('waitingForCpu')}, timer late ${c('timerLate')}`;
}
