/**
 * Worker thread of worker-detector.ts: owns the ONNX Runtime session. onnxruntime-node runs inference synchronously
 * on the thread that calls run() (see DetectorSession.run), so it lives here and the event loop stays free. Input
 * and output tensors are SharedArrayBuffers: nothing is copied on the event loop.
 */
import { Writable } from 'node:stream';
import { parentPort, workerData } from 'node:worker_threads';
import type { PerceptionConfig } from '../core/config/perception.js';
import { RacepilotError } from '../core/errors.js';
import { createLogger } from '../core/logger.js';
import { DetectorSession } from './detector-session.js';
import { SelfTestError } from './self-test.js';
import { lowerThisThreadPriority, wantsSchedIdle } from '../core/thread-priority.js';
import type { InferenceReply, InferenceRequest } from './worker-detector.js';
import { ReplyWriter, type ReplyRing } from '../core/reply-ring.js';

// Before the session exists: ONNX Runtime's own threads inherit this thread's lowered priority.
const lowered = lowerThisThreadPriority();
const port = parentPort!;
const post = (m: InferenceReply) => port.postMessage(m);
// Log lines go to the main thread, which writes them with its own logger (one stream, one order).
const log = createLogger({ level: 'debug', stream: new Writable({ write(chunk, _e, cb) { post({ type: 'log', line: String(chunk) }); cb(); } }) });

if (!lowered || (!lowered.schedIdle && wantsSchedIdle())) {
  // Not fatal: the worker still runs, but the control loop may wait behind inference when the cores are busy.
  log.warn({ lowered }, lowered ? 'inference worker runs at nice 19 but not SCHED_IDLE (util-linux chrt missing or refused)' : 'inference worker runs at normal priority (no per-thread priorities here)');
}
const { cfg, modelPath, replies: ring } = workerData as { cfg: PerceptionConfig; modelPath?: string; replies: ReplyRing };
// Results go through shared memory, never as a message: see core/reply-ring.ts for the lock a message would share.
const replies = new ReplyWriter(ring);
let session: DetectorSession | null = null;

try {
  session = await DetectorSession.open(cfg, log, modelPath ? { modelPath } : {});
  const { raw: _raw, ...info } = session.info;
  post({ type: 'opened', info: { ...info, raw: {} }, provider: session.provider, attempts: session.attempts, selfTestMs: session.selfTestMs });
} catch (err) {
  const e = err as Error;
  const where = err instanceof RacepilotError ? err.where : null;
  post({
    type: 'open-failed', name: e.name, where,
    message: where && e.message.startsWith(`${where}: `) ? e.message.slice(where.length + 2) : e.message,
    exitCode: err instanceof RacepilotError ? err.exitCode : 1,
    provider: err instanceof SelfTestError ? err.provider : null,
  });
}

port.on('message', async (m: InferenceRequest) => {
  if (!session) return;
  const t0 = performance.now();
  try {
    const input = new Float32Array(m.input, m.byteOffset, m.floats);
    const out = await session.run(input, m.batch);
    new Float32Array(m.output, 0, out.length).set(out);
    replies.write(m.id, true, [out.length, performance.now() - t0]);
  } catch (err) {
    replies.write(m.id, false, [], (err as Error).message);
  }
});
