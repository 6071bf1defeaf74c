import { Worker } from 'node:worker_threads';
import type { PerceptionConfig } from '../core/config/perception.js';
import { ConfigError, InputError, RacepilotError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { NoProviderError } from './detector-session.js';
import type { ModelInfo } from './model-info.js';
import type { Detector } from './perception-stage.js';
import type { ProviderAttempt } from './providers.js';
import { SelfTestError } from './self-test.js';
import { createReplyRing, type ReplyRingShape } from '../core/reply-ring.js';
import { WorkerRequests } from '../core/worker-requests.js';

export type InferenceRequest = { id: number; input: SharedArrayBuffer; byteOffset: number; floats: number; batch: number; output: SharedArrayBuffer };
export type InferenceReply =
  | { type: 'log'; line: string }
  | { type: 'opened'; info: ModelInfo; provider: string; attempts: ProviderAttempt[]; selfTestMs: number }
  | { type: 'open-failed'; name: string; message: string; where: string | null; exitCode: number; provider: string | null };

/**
 * Inference replies come back through a shared ring (core/reply-ring.ts), not as messages: numbers [floats, ms] on
 * success, the error message as text on failure. Four slots: a lane has at most two inferences out.
 */
export const INFERENCE_REPLIES: ReplyRingShape = { slots: 4, numbers: 2, textBytes: 1024 };

const LEVELS: Record<number, 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

/**
 * The detector as the daemon runs it: DetectorSession (providers, self-test) inside a worker thread
 * (inference-worker.ts), because onnxruntime-node's run() occupies its calling thread for the whole inference.
 * Opening fails with the same typed errors as DetectorSession.open (self-test mismatch, no provider, bad model).
 * Outputs land in two alternating SharedArrayBuffers: a result stays valid until the run after next resolves.
 */
export class WorkerDetector implements Detector {
  private outputs: SharedArrayBuffer[] = [];
  private turn = 0;

  private constructor(
    private readonly worker: Worker,
    private readonly requests: WorkerRequests,
    readonly info: ModelInfo,
    readonly provider: string,
    readonly attempts: ProviderAttempt[],
    readonly selfTestMs: number,
  ) {}

  static open(cfg: PerceptionConfig, log: Logger, opts: { modelPath?: string } = {}): Promise<WorkerDetector> {
    const ring = createReplyRing(INFERENCE_REPLIES);
    const worker = new Worker(new URL('./inference-worker.js', import.meta.url), { workerData: { cfg, modelPath: opts.modelPath, replies: ring } });
    return new Promise((resolve, reject) => {
      const requests = new WorkerRequests(worker, ring);
      let det: WorkerDetector | null = null;
      worker.on('message', (m: InferenceReply) => {
        if (m.type === 'log') {
          try {
            const { level, msg, time: _t, pid: _p, hostname: _h, name: _n, ...rest } = JSON.parse(m.line) as Record<string, unknown>;
            log[LEVELS[level as number] ?? 'info'](rest, String(msg));
          } catch {
            log.info(m.line);
          }
        } else if (m.type === 'opened') {
          det = new WorkerDetector(worker, requests, m.info, m.provider, m.attempts, m.selfTestMs);
          worker.unref();
          resolve(det);
        } else if (m.type === 'open-failed') {
          void worker.terminate();
          reject(rebuild(m));
        }
      });
      worker.on('error', (err) => (det ? requests.lose(err) : reject(err)));
      worker.on('exit', (code) => {
        const err = new Error(`inference worker exited with code ${code}`);
        if (!det) reject(err); // before it opened: the open must not wait for ever
        requests.lose(err);
      });
    });
  }

  async run(input: Float32Array, batch: number): Promise<Float32Array> {
    const plane = 13 * this.info.layout.width * this.info.layout.height;
    const bytes = batch * plane * 4;
    const k = this.turn++ % 2;
    if (!this.outputs[k] || this.outputs[k]!.byteLength < bytes) this.outputs[k] = new SharedArrayBuffer(bytes);
    const floats = batch * this.info.input.channels * this.info.input.width * this.info.input.height;
    let src = input;
    if (!(input.buffer instanceof SharedArrayBuffer)) {
      src = new Float32Array(new SharedArrayBuffer(floats * 4));
      src.set(input.subarray(0, floats));
    }
    const output = this.outputs[k]!;
    const r = await this.requests.request((id) => {
      const req: InferenceRequest = { id, input: src.buffer as SharedArrayBuffer, byteOffset: src.byteOffset, floats, batch, output };
      this.worker.postMessage(req);
    });
    if (!r.ok) throw new InputError(`inference failed: ${r.text}`, this.info.path);
    return new Float32Array(output, 0, r.numbers[0]!);
  }

  async close(): Promise<void> {
    // An unref'd worker's termination does not hold the event loop open, and the await would be abandoned.
    this.worker.ref();
    await this.worker.terminate();
  }
}

function rebuild(m: Extract<InferenceReply, { type: 'open-failed' }>): Error {
  switch (m.name) {
    case 'SelfTestError':
      return new SelfTestError(m.message, m.where, m.provider ?? '?');
    case 'NoProviderError':
      return new NoProviderError(m.message, m.where ?? '');
    case 'InputError':
      return new InputError(m.message, m.where);
    case 'ConfigError':
      return new ConfigError(m.message, m.where);
    default:
      return new RacepilotError(m.message, m.where, m.exitCode);
  }
}
