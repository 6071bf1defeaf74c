import * as ort from 'onnxruntime-node';
import { RacepilotError } from '../core/errors.js';
import { checkSelfTest, selfTestInput, type ModelInfo } from './model-info.js';

/**
 * The detector's output on the known self-test input does not match the reference stored in the model at export:
 * the runtime, the provider or the file is wrong, and flying on its outputs would be flying blind. Exit code 70
 * (EX_SOFTWARE): the daemon stops with this message.
 */
export class SelfTestError extends RacepilotError {
  constructor(message: string, where: string | null, readonly provider: string, options?: { cause?: unknown }) {
    super(message, where, 70, options);
  }
}

/** The inference itself failed (the provider cannot run this graph): a reason to try the next provider. */
export class SelfTestRunError extends RacepilotError {}

/**
 * Runs the metadata's self-test input (batch 1) through a session and compares with the stored reference
 * (model-info.ts `checkSelfTest`). Resolves with the inference time in ms.
 */
export async function runSelfTest(session: ort.InferenceSession, info: ModelInfo, provider: string): Promise<number> {
  const { channels: C, height: H, width: W } = info.input;
  let out: Float32Array;
  const t0 = performance.now();
  try {
    const r = await session.run({ [info.inputName]: new ort.Tensor('float32', selfTestInput(info.input), [1, C, H, W]) });
    const t = r[info.outputName];
    if (!t) throw new Error(`no output "${info.outputName}"`);
    out = t.data as Float32Array;
  } catch (err) {
    throw new SelfTestRunError(`self-test inference failed on ${provider}: ${(err as Error).message}`, info.path, 1, { cause: err });
  }
  const ms = performance.now() - t0;
  try {
    checkSelfTest(info, out);
  } catch (err) {
    throw new SelfTestError(
      `${(err as Error).message.replace(`${info.path}: `, '')} — on provider ${provider}; refusing to run perception on outputs that do not match the model's reference`,
      info.path, provider, { cause: err });
  }
  return ms;
}
