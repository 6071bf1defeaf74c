import { writeFileSync } from 'node:fs';
import { configWith, loadConfig } from '../core/config/load.js';
import { UsageError } from '../core/errors.js';
import { parseCommandArgs } from './args.js';
import { benchPerception, jsonWithoutSeries } from './bench-perception.js';
import { perceptionPicture } from './bench-perception-picture.js';
import { describeStalls } from './stall-watch.js';

/** `racepilot bench perception`: its options, and its figures as text (the measuring is bench-perception.ts). */

const USAGE = `usage: racepilot bench perception [--json] [options]

Runs the daemon's perception path (worker preprocessing, ONNX Runtime inference, decoding, gate geometry) on
rendered FrameSets of the configured rigs, for the pruned and the dense model, and reports FrameSets/s, images/s,
per-stage and end-to-end latency p50/p99, and the event loop's longest stall while it runs. Every stall over 5 ms
is split by what the main thread did meanwhile (from the kernel's accounting): "caused" when perception's own
holds of the loop or a garbage collection cover half of it or the thread was blocked in the kernel; otherwise it
ran something else on the loop, waited for a CPU (another process, or this one's normal-priority helper threads:
the bulk workers step aside), or slept past its timer; "shared" marks those a second sleeping thread of the
process suffered too. The idle loop before the runs gives the machine's own. The last line is the target verdict.

  --config FILE     configuration (rigs and perception section; default: built-in defaults)
  --models A,B      models to compare (default: models/gate-detector.onnx,models/gate-detector-dense.onnx)
  --duration S      seconds per measured run (default 4)
  --rate HZ         FrameSet rate of the paced run (default: the rigs' fps)
  --threads N       ONNX Runtime intra-op threads (default: the configuration's)
  --lanes N|auto    perception lanes sharing each FrameSet (default: the configuration's, "auto")
  --inline          run ONNX Runtime on the event loop's thread instead of the inference worker (to compare; one lane)
  --record          record perception's topics meanwhile as the daemon records them: every FrameSet (its images as
                    the configuration's recording section says) and every perception message, to a temporary folder
                    in recording.dir, deleted after. The recorder's copies of the pixels count as holds of the loop
                    ("record"). With --config config/racepilot.json, the vehicle's: raw images of every 6th FrameSet
  --keep OUT.mcap   with --record: keep the log (OUT-000.mcap, ...), e.g. to look at it in Foxglove
  --picture OUT.svg every FrameSet's latency and every stall over 5 ms (coloured by cause) over time, per run
  --json            print one JSON object
  -h, --help        this text

Two runs per model: "saturated" feeds a new FrameSet whenever fewer than two are in flight (the ceiling), "paced"
feeds them at the camera rate and skips when perception is behind (the latency the flight would see). Run it under
nice -n 10 on a shared machine and read the figures as that machine's.
`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    argv,
    {
      config: { type: 'string' }, models: { type: 'string' }, duration: { type: 'string' }, rate: { type: 'string' },
      threads: { type: 'string' }, lanes: { type: 'string' }, inline: { type: 'boolean', default: false }, json: { type: 'boolean', default: false },
      record: { type: 'boolean', default: false }, keep: { type: 'string' }, picture: { type: 'string' },
    },
    USAGE,
  );
  if (!parsed) return 0;
  const { values } = parsed;
  const num = (v: string | undefined, name: string, lo: number, hi: number): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!(n >= lo && n <= hi)) throw new UsageError(`--${name}: expected a number in [${lo}, ${hi}], got "${v}"`);
    return n;
  };
  const res = await benchPerception({
    config: values.config ? loadConfig(values.config) : configWith({}),
    models: values.models?.split(',').filter(Boolean),
    durationS: num(values.duration, 'duration', 0.5, 600),
    rateHz: num(values.rate, 'rate', 1, 240),
    threads: num(values.threads, 'threads', 1, 64),
    inline: values.inline,
    record: values.record || values.keep !== undefined,
    ...(values.keep !== undefined ? { keepRecordingAs: values.keep } : {}),
    ...(values.lanes !== undefined ? { lanes: values.lanes === 'auto' ? 'auto' as const : num(values.lanes, 'lanes', 1, 16)! } : {}),
  });
  if (values.picture) writeFileSync(values.picture, perceptionPicture(res));
  if (values.json) {
    process.stdout.write(`${jsonWithoutSeries(res)}\n`);
    return 0;
  }
  const lines = [
    `perception: ${res.images} images ${res.width}x${res.height} ${res.format} per FrameSet, ${res.lanes} lane${res.lanes > 1 ? 's' : ''} (${res.detector}) of ${res.threads} ONNX Runtime thread${res.threads > 1 ? 's' : ''}, CPU graph optimisation "${res.graphOptimization}", ${res.durationS} s per run`,
    `  idle event loop before the runs (the machine's own load): longest stall ${res.idleEventLoop.maxStallMs} ms, p99 ${res.idleEventLoop.p99Ms} ms; ${describeStalls(res.idleEventLoop.stalls)}`,
  ];
  for (const m of res.models) {
    lines.push(`${m.variant} (${m.mflopsPerImage} MFLOPs/image, ${m.provider}, self-test ${m.selfTestMs} ms): ${m.model}`);
    if (m.recording) {
      const r = m.recording;
      lines.push(`  recorded meanwhile: ${r.messages} messages, ${(r.bytes / 2 ** 20).toFixed(0)} MiB, ${r.droppedImages} FrameSets without their images` +
        `${r.abortedReason ? `; stopped early: ${r.abortedReason}` : ''}${r.files.length ? `; kept: ${r.files.join(', ')}` : ''}`);
    }
    for (const [name, r] of [['saturated', m.saturated], [`paced ${m.paced.rateHz} Hz`, m.paced]] as const) {
      const l = r.latencyMs;
      lines.push(`  ${name}: ${r.framesetsPerS} FrameSets/s, ${r.imagesPerS} images/s, skipped ${r.skipped}, gates/FrameSet ${r.gatesPerFrameset}; ` +
        `CPU ${r.cpuMsPerFrameset} ms/FrameSet (two idle cores: ~${r.idleTwoCoreFramesetsPerS} FrameSets/s)`);
      lines.push(`    p50/p99 ms: preprocess ${l.preprocessMs.p50}/${l.preprocessMs.p99}, wait ${l.queueMs.p50}/${l.queueMs.p99}, inference ${l.inferenceMs.p50}/${l.inferenceMs.p99}, ` +
        `decode ${l.decodeMs.p50}/${l.decodeMs.p99}, geometry ${l.geometryMs.p50}/${l.geometryMs.p99}, end to end ${l.endToEndMs.p50}/${l.endToEndMs.p99}`);
      lines.push(`    event loop: longest stall ${r.eventLoopMaxStallMs} ms, p99 ${r.eventLoopP99Ms} ms; ${describeStalls(r.stalls)}`);
      lines.push(`    held by perception per FrameSet p50/p99/max ${l.mainThreadMs.p50}/${l.mainThreadMs.p99}/${r.heldMaxMs} ms, longest single hold p99/max ${r.sliceMs.p99}/${r.sliceMs.max} ms; main-thread GC ${r.stalls.gcCount}×, longest ${r.stalls.gcMaxMs} ms`);
    }
  }
  const t = res.target;
  if (t) {
    const o = t.otherStalls;
    lines.push(`target (pruned, paced: >= 30 FrameSets/s, end-to-end p99 < 30 ms, no stall > 5 ms this process caused): ${t.met ? 'met' : 'NOT met'} ` +
      `(${t.framesetsPerS} FrameSets/s, p99 ${t.endToEndP99Ms} ms, ${t.stallsCaused} caused; not caused: ${o.onLoop} on the loop, ${o.waitingForCpu} waiting for a CPU, ${o.timerLate} timer late; ` +
      `idle loop: ${res.idleEventLoop.stalls.count} in ${res.idleEventLoop.stalls.seconds} s)`);
  }
  if (values.picture) lines.push(`picture: ${values.picture}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
