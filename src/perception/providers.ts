import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type * as ort from 'onnxruntime-node';
import type { PerceptionConfig } from '../core/config/perception.js';

export type ProviderName = PerceptionConfig['providers'][number];

/** What happened when a provider was tried at start: the log line and the perception status both show it. */
export interface ProviderAttempt {
  provider: ProviderName;
  ok: boolean;
  /** Why it was skipped (the runtime's own message), absent when it runs. */
  reason?: string;
}

/**
 * ONNX Runtime session options for one execution provider, alone: each provider gets its own session attempt so
 * that a failure names the provider that failed, and the CPU session never silently hides a missing GPU.
 *
 * onnxruntime-node passes only a device id to the TensorRT provider; the rest of TensorRT's options are read by the
 * provider itself from its documented ORT_TENSORRT_* environment variables when it is created, so they are set here
 * (`env`), and the engine cache directory is created so that a restart loads the engine instead of rebuilding it.
 */
export function providerSessionOptions(
  name: ProviderName,
  cfg: PerceptionConfig,
  env: NodeJS.ProcessEnv = process.env,
): ort.InferenceSession.SessionOptions {
  const common: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: 'all',
    intraOpNumThreads: cfg.cpu.intraOpThreads,
    interOpNumThreads: cfg.cpu.interOpThreads,
    executionMode: cfg.cpu.interOpThreads > 1 ? 'parallel' : 'sequential',
    // A provider that cannot load also makes ONNX Runtime print its own error line on stderr (process-wide logger):
    // kept, since it names the shared library that is missing, which our one-line reason does not.
  };
  switch (name) {
    case 'tensorrt': {
      const t = cfg.tensorrt;
      const cache = resolve(t.engineCacheDir);
      env.ORT_TENSORRT_FP16_ENABLE = t.fp16 ? '1' : '0';
      env.ORT_TENSORRT_ENGINE_CACHE_ENABLE = '1';
      env.ORT_TENSORRT_CACHE_PATH = cache;
      env.ORT_TENSORRT_ENGINE_CACHE_PATH = cache;
      env.ORT_TENSORRT_MAX_WORKSPACE_SIZE = String(t.workspaceMb * 1024 * 1024);
      return { ...common, executionProviders: [{ name: 'tensorrt', deviceId: t.deviceId }] };
    }
    case 'cuda':
      return { ...common, executionProviders: [{ name: 'cuda', deviceId: cfg.cuda.deviceId }] };
    case 'cpu':
      return { ...common, graphOptimizationLevel: cfg.cpu.graphOptimization, executionProviders: ['cpu'] };
  }
}

/** Creates the TensorRT engine cache directory; a failure is a reason to skip TensorRT, reported by the caller. */
export function ensureEngineCache(cfg: PerceptionConfig): void {
  mkdirSync(resolve(cfg.tensorrt.engineCacheDir), { recursive: true });
}
