import type { TopicComparison } from './replay.js';

/** Where a replayed output differs from the recorded one. */
export interface Divergence {
  topic: string;
  /** Index of the message on its topic (0-based, counted from the start of the comparison). */
  index: number;
  /** Recorded message time (µs on the log clock), or null for a missing/extra message at the end. */
  tUs: number | null;
  /** JSON path of the first differing field, e.g. "$.mode"; "$" for a missing or extra message. */
  path: string;
  expected: unknown;
  actual: unknown;
}

const TIME_FIELDS = /^(tUs|tSampleUs|lastHeartbeatUs)$|Us$/;

/**
 * Pairs recorded and produced messages per topic in order (k-th with k-th) and compares them field by field:
 * exactly for everything, except fields ending in "Us" (times), which may differ by `timeToleranceUs` because the
 * replay's cadence timers start at a different phase from the live ones. Keeps the first `maxDivergences`.
 */
export function compareMessages(o: { timeToleranceUs: number; maxDivergences: number }) {
  const queues = new Map<string, { rec: unknown[]; prod: unknown[]; stats: TopicComparison }>();
  const divergences: Divergence[] = [];
  const q = (topic: string) => {
    let e = queues.get(topic);
    if (!e) queues.set(topic, (e = { rec: [], prod: [], stats: { recorded: 0, produced: 0, matched: 0, diverged: 0 } }));
    return e;
  };
  const note = (d: Divergence) => {
    if (divergences.length < o.maxDivergences) divergences.push(d);
  };
  const drain = (topic: string) => {
    const e = q(topic);
    while (e.rec.length && e.prod.length) {
      const expected = e.rec.shift();
      const actual = e.prod.shift();
      const index = e.stats.matched + e.stats.diverged;
      const diff = firstDifference(expected, actual, '$', '', o.timeToleranceUs);
      if (diff) {
        e.stats.diverged++;
        note({ topic, index, tUs: (expected as { tUs?: number }).tUs ?? null, ...diff });
      } else e.stats.matched++;
    }
  };
  return {
    recorded(topic: string, msg: unknown) {
      q(topic).rec.push(msg);
      q(topic).stats.recorded++;
      drain(topic);
    },
    produced(topic: string, msg: unknown) {
      // The bus hands out live objects a stage may keep mutating: keep a copy of what was published.
      q(topic).prod.push(structuredClone(msg));
      q(topic).stats.produced++;
      drain(topic);
    },
    finish(): { topics: Record<string, TopicComparison>; divergences: Divergence[] } {
      for (const [topic, e] of queues) {
        const index = e.stats.matched + e.stats.diverged;
        if (e.rec.length) note({ topic, index, tUs: (e.rec[0] as { tUs?: number }).tUs ?? null, path: '$', expected: `${e.rec.length} more recorded message(s)`, actual: 'none produced' });
        if (e.prod.length) note({ topic, index, tUs: null, path: '$', expected: 'none recorded', actual: `${e.prod.length} more produced message(s)` });
      }
      return { topics: Object.fromEntries([...queues].map(([t, e]) => [t, e.stats])), divergences };
    },
  };
}

function firstDifference(a: unknown, b: unknown, path: string, key: string, tolUs: number): { path: string; expected: unknown; actual: unknown } | null {
  // JSON has no NaN: a log holds null where the pipeline had NaN (e.g. a hold setpoint without a position).
  if (a === null && typeof b === 'number' && Number.isNaN(b)) return null;
  if (typeof a === 'number' && typeof b === 'number') {
    if (a === b || (TIME_FIELDS.test(key) && Math.abs(a - b) <= tolUs)) return null;
    return { path, expected: a, actual: b };
  }
  if (a instanceof Uint8Array && b instanceof Uint8Array) return Buffer.from(a).equals(Buffer.from(b)) ? null : { path, expected: '<bytes>', actual: '<other bytes>' };
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    if (Array.isArray(a) !== Array.isArray(b)) return { path, expected: a, actual: b };
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) {
      const p = Array.isArray(a) ? `${path}[${k}]` : `${path}.${k}`;
      const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], p, Array.isArray(a) ? key : k, tolUs);
      if (d) return d;
    }
    return null;
  }
  return Object.is(a, b) ? null : { path, expected: a, actual: b };
}
