import { TopicBus } from '../core/bus.js';
import { LogClock } from './log-clock.js';
import type { FrameSet, TopicName, Topics } from '../core/messages.js';
import { FrameSetAssembler } from './frame-replay.js';
import { checkReplayable, decodeMessage, iterateLog, openIndexedLog, readerReady, readLogInfo, type LogEnding, type LogInfo, type LogMessage } from './mcap-reader.js';
import { compareMessages, type Divergence } from './replay-compare.js';

export type { Divergence } from './replay-compare.js';

/**
 * A piece of the core pipeline that replay drives: it consumes recorded input topics and produces output topics
 * that are compared with the recorded ones. Today: the flight controller's state (fc-replay-stage.ts); perception
 * and planning plug in the same way, by topic, as they arrive.
 */
export interface ReplayStage {
  name: string;
  inputs: { topic: TopicName; accept?: (msg: unknown) => boolean }[];
  outputs: TopicName[];
  /**
   * Outputs that only the stage's own timers publish (a setpoint tick, a planning step). Where one of them is
   * recorded, the stage's timers of that instant had run: recorded inputs of the same instant that come before it
   * in the log are fed before the timers, those after it after them (see LogClock). Without such an anchor an
   * input is fed before the timers of its instant.
   */
  tickOutputs?: TopicName[];
  /** Subscribes to the bus, may set timers on the (log) clock; returns the detach function. */
  attach(ctx: { bus: TopicBus<Topics>; clock: LogClock }): () => void;
}

export interface ReplayOptions {
  stages: ReplayStage[];
  /** Seconds from the log's first message: inputs before `from` are fed at full speed and not compared. */
  fromS?: number;
  toS?: number;
  /** Real-time factor (1 = as recorded), or 'max'. */
  speed?: number | 'max';
  /** Time fields (tUs, tSampleUs, lastHeartbeatUs) may differ by this much: cadence timers start at another phase. */
  timeToleranceUs?: number;
  maxDivergences?: number;
  onProgress?: (fraction: number, logS: number) => void;
  /** Sleeps for paced replay (injected so tests never wait). */
  sleep?: (ms: number) => Promise<void>;
  /** Called once with the replay's bus and clock before the first input, e.g. to record the new run (--record). */
  onBus?: (bus: TopicBus<Topics>, clock: LogClock) => void;
}

export interface TopicComparison {
  recorded: number;
  produced: number;
  matched: number;
  diverged: number;
}

export interface ReplayResult {
  file: string;
  ending: LogEnding;
  inputsFed: number;
  /** Log time covered by the comparison (s). */
  spanS: number;
  /** Wall time of the playback itself (s). */
  wallS: number;
  /** Wall time before it (s): opening the log, from its summary when it has one, else a pass over the whole file. */
  openS: number;
  topics: Record<string, TopicComparison>;
  divergences: Divergence[];
  ok: boolean;
}

/** Feeds a log's recorded inputs through the stages on the log clock and compares what they produce. */
export async function replayLog(file: string, o: ReplayOptions): Promise<ReplayResult> {
  const open0 = performance.now();
  await readerReady();
  const speed = o.speed ?? 'max';
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const inputs = new Map<string, ((m: unknown) => boolean)[]>();
  for (const s of o.stages) for (const i of s.inputs) inputs.set(i.topic, [...(inputs.get(i.topic) ?? []), i.accept ?? (() => true)]);
  const anchors = new Set<string>(o.stages.flatMap((s) => s.tickOutputs ?? []));
  const outputs = new Set<string>(o.stages.flatMap((s) => s.outputs));
  const cmp = compareMessages({ timeToleranceUs: o.timeToleranceUs ?? 100_000, maxDivergences: o.maxDivergences ?? 20 });

  // The header, version and time span: from the summary of a cleanly closed log (nothing else read), else from a
  // first pass over the whole file (no decoding). A foreign or newer log stops here.
  const indexed = await openIndexedLog(file);
  let info: LogInfo;
  if (indexed) info = indexed.info;
  else {
    const first = iterateLog(file);
    let r = first.next();
    while (!r.done) r = first.next();
    info = r.value;
  }
  try {
    checkReplayable(info);
  } catch (err) {
    await indexed?.close();
    throw err;
  }
  let ending: LogEnding = info.ending;
  const offsetUs = Number(info.meta?.unixOffsetUs ?? 0);
  const startUs = info.startNs === null ? 0 : Number(info.startNs / 1000n) - offsetUs;
  const endUs = info.endNs === null ? 0 : Number(info.endNs / 1000n) - offsetUs;
  const fromUs = startUs + (o.fromS ?? 0) * 1e6;
  const toUs = o.toS === undefined ? endUs : startUs + o.toS * 1e6;

  const bus = new TopicBus<Topics>();
  const clock = new LogClock(startUs);
  let comparing = false;
  bus.subscribeAll((topic, msg) => {
    if (comparing && outputs.has(topic as string)) cmp.produced(topic as string, msg);
  });
  o.onBus?.(bus, clock);
  const detach = o.stages.map((s) => s.attach({ bus, clock }));
  // Images are decoded only when a stage takes FrameSets: a flight-layer replay skips them at no cost.
  const frames = inputs.has('camera/frameset') ? new FrameSetAssembler() : null;

  const wall0 = performance.now();
  let inputsFed = 0;
  let lastProgress = -1;
  // Only the topics some stage takes or is compared on (and the camera images when FrameSets are taken).
  const wanted = info.channels.map((c) => c.topic).filter((t) => inputs.has(t) || outputs.has(t) || frames?.isImageChannel(t));
  const source: AsyncIterable<LogMessage> | Iterable<LogMessage> = indexed ? indexed.messages([...new Set(wanted)]) : logMessages(file);
  try {
    for await (const rec of source) {
      const tUs = Number(rec.logTimeNs / 1000n) - offsetUs;
      if (tUs > toUs) break;
      if (frames?.isImageChannel(rec.topic)) {
        frames.image(rec.topic, decodeMessage(rec) as Record<string, unknown>, rec.logTimeNs);
        continue;
      }
      const accepts = inputs.get(rec.topic);
      const compared = outputs.has(rec.topic);
      if (!accepts && !compared) continue;
      if (!comparing && tUs >= fromUs) comparing = true;
      if (comparing && speed !== 'max') {
        const aheadMs = (tUs - fromUs) / 1000 / speed - (performance.now() - wall0);
        if (aheadMs > 2) await sleep(aheadMs);
      }
      // Inputs go before the stages' timers of their instant unless a recorded tick output of that instant came first.
      if (anchors.has(rec.topic)) clock.advanceTo(Math.max(tUs, clock.nowUs()));
      else if (tUs > clock.nowUs()) clock.advanceBefore(tUs);
      let msg = decodeMessage(rec);
      if (frames && rec.topic === 'camera/frameset') msg = frames.assemble(msg as FrameSet, rec.logTimeNs);
      if (compared && comparing) cmp.recorded(rec.topic, msg);
      if (accepts && accepts.some((a) => a(msg))) {
        bus.publish(rec.topic as TopicName, msg as never);
        inputsFed++;
      }
      const progress = Math.floor(((tUs - startUs) / Math.max(1, endUs - startUs)) * 100);
      if (progress !== lastProgress) {
        lastProgress = progress;
        o.onProgress?.(progress / 100, (tUs - startUs) / 1e6);
      }
    }
  } catch (err) {
    // A damaged chunk in a log whose summary is intact: what came before it was replayed; the full pass says where.
    if (!indexed) throw err;
    ending = (await readLogInfo(file)).ending;
  } finally {
    await indexed?.close();
  }
  // Timers due by the end of the log (or --to) still run: a tick recorded after the last input is compared too.
  clock.advanceTo(Math.max(clock.nowUs(), Math.min(toUs, endUs)));
  for (const d of detach) d();
  const summary = cmp.finish();
  return {
    file,
    ending,
    inputsFed,
    spanS: Math.max(0, Math.min(toUs, endUs) - fromUs) / 1e6,
    wallS: (performance.now() - wall0) / 1000,
    openS: (wall0 - open0) / 1000,
    topics: summary.topics,
    divergences: summary.divergences,
    ok: summary.divergences.length === 0,
  };
}

/** Every message of a log front to back (iterateLog without its summary): the path for logs without an index. */
function* logMessages(file: string): Generator<LogMessage, void, void> {
  const it = iterateLog(file);
  for (let m = it.next(); !m.done; m = it.next()) yield m.value;
}
