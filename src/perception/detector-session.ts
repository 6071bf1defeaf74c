import * as ort from 'onnxruntime-node';
import type { PerceptionConfig } from '../core/config/perception.js';
import { InputError, RacepilotError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { readModelInfo, type ModelInfo } from './model-info.js';
import { ensureEngineCache, providerSessionOptions, type ProviderAttempt, type ProviderName } from './providers.js';
import { runSelfTest, SelfTestRunError } from './self-test.js';

/** How sessions are made: ONNX Runtime itself, or a fake in tests (a provider that fails, a runtime that lies). */
export type SessionFactory = (model: Uint8Array, options: ort.InferenceSession.SessionOptions) => Promise<ort.InferenceSession>;

const ortFactory: SessionFactory = (model, options) => ort.InferenceSession.create(model, options);

/** No listed provider could run the model. Exit code 69 (EX_UNAVAILABLE). */
export class NoProviderError extends RacepilotError {
  constructor(message: string, where: string) {
    super(message, where, 69);
  }
}

/**
 * The gate detector: the model's metadata read and checked, one session on the first listed execution provider
 * that opens and runs, and the self-test passed on that very session. See `run` for why the daemon keeps it in a
 * worker thread (worker-detector.ts).
 */
export class DetectorSession {
  private constructor(
    readonly info: ModelInfo,
    readonly provider: ProviderName,
    readonly attempts: ProviderAttempt[],
    readonly selfTestMs: number,
    private readonly session: ort.InferenceSession,
  ) {}

  static async open(cfg: PerceptionConfig, log: Logger, opts: { factory?: SessionFactory; modelPath?: string } = {}): Promise<DetectorSession> {
    const path = opts.modelPath ?? cfg.model;
    const { info, bytes } = readModelInfo(path);
    const factory = opts.factory ?? ortFactory;
    const attempts: ProviderAttempt[] = [];
    for (const provider of cfg.providers) {
      let session: ort.InferenceSession | null = null;
      try {
        if (provider === 'tensorrt') ensureEngineCache(cfg);
        session = await factory(bytes, providerSessionOptions(provider, cfg));
        if (!session.inputNames.includes(info.inputName) || !session.outputNames.includes(info.outputName)) {
          throw new InputError(
            `metadata names input "${info.inputName}" and output "${info.outputName}", the graph has [${session.inputNames}] and [${session.outputNames}]`, path);
        }
        const ms = await runSelfTest(session, info, provider);
        attempts.push({ provider, ok: true });
        log.info({ requested: cfg.providers, provider, skipped: attempts.filter((a) => !a.ok), selfTestMs: Math.round(ms * 10) / 10,
          model: path, variant: info.variant, version: info.version }, `perception: detector runs on ${provider}`);
        return new DetectorSession(info, provider, attempts, ms, session);
      } catch (err) {
        // A provider that cannot load or cannot run is skipped; anything else (self-test mismatch, wrong model)
        // stops here: falling back would hide a broken model behind a working CPU.
        if (session) await session.release().catch(() => undefined);
        if (err instanceof RacepilotError && !(err instanceof SelfTestRunError)) throw err;
        const reason = (err as Error).message.split('\n')[0]!;
        attempts.push({ provider, ok: false, reason });
        log.warn({ provider, reason }, `perception: execution provider ${provider} skipped`);
      }
    }
    throw new NoProviderError(
      `no execution provider could run the model: ${attempts.map((a) => `${a.provider} (${a.reason})`).join('; ')}`, path);
  }

  /** Floats of one image in the input tensor, and of one image's output. */
  get inputSize(): number {
    const { channels, width, height } = this.info.input;
    return channels * width * height;
  }

  get outputSize(): number {
    return 13 * this.info.layout.width * this.info.layout.height;
  }

  private plain: Float32Array | null = null;

  /**
   * Runs `batch` images laid out NCHW at the start of `input`; resolves with the output (13·H·W per image).
   *
   * Beware: onnxruntime-node 1.30's run() is not asynchronous in the way its signature suggests: it calls the
   * native Run synchronously from a setImmediate, so the calling thread is busy for the whole inference (seen in
   * node_modules/onnxruntime-node/dist/backend.js and measured as event-loop stalls of the inference's length). The
   * daemon therefore calls this from the inference worker (worker-detector.ts), never on the event loop.
   */
  async run(input: Float32Array, batch: number): Promise<Float32Array> {
    const { channels: C, height: H, width: W } = this.info.input;
    let data = input.subarray(0, batch * this.inputSize);
    if (data.buffer instanceof SharedArrayBuffer) {
      // ONNX Runtime refuses tensors on shared memory ("Invalid argument"): copy into a reused ordinary buffer.
      if (!this.plain || this.plain.length < data.length) this.plain = new Float32Array(data.length);
      this.plain.set(data);
      data = this.plain.subarray(0, data.length);
    }
    const tensor = new ort.Tensor('float32', data, [batch, C, H, W]);
    const out = (await this.session.run({ [this.info.inputName]: tensor }))[this.info.outputName];
    if (!out) throw new InputError(`inference returned no output "${this.info.outputName}"`, this.info.path);
    return out.data as Float32Array;
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
