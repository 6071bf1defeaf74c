import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { perceptionSchema } from '../../src/core/config/perception.js';
import { InputError } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/logger.js';
import { DetectorSession, NoProviderError, type SessionFactory } from '../../src/perception/detector-session.js';
import { providerSessionOptions } from '../../src/perception/providers.js';
import { SelfTestError } from '../../src/perception/self-test.js';
import { WorkerDetector } from '../../src/perception/worker-detector.js';

const MODEL = fileURLToPath(new URL('../../../models/gate-detector.onnx', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'racepilot-session-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({ write(chunk, _enc, cb) { lines.push(JSON.parse(String(chunk))); cb(); } });
  return { log: createLogger({ stream, level: 'info' }), lines };
}

const cfg = (over: Record<string, unknown> = {}) =>
  perceptionSchema.parse({ model: MODEL, tensorrt: { engineCacheDir: join(tmp, 'trt') }, cpu: { intraOpThreads: 1 }, ...over });

describe('detector session', () => {
  it('TensorRT and CUDA configured on a machine without them: runs on the CPU and logs why each was skipped', async () => {
    const { log, lines } = capture();
    const s = await DetectorSession.open(cfg({ providers: ['tensorrt', 'cuda', 'cpu'] }), log);
    try {
      assert.equal(s.provider, 'cpu');
      assert.deepEqual(s.attempts.map((a) => [a.provider, a.ok]), [['tensorrt', false], ['cuda', false], ['cpu', true]]);
      for (const a of s.attempts.slice(0, 2)) assert.ok(a.reason && a.reason.length > 5, `reason for ${a.provider}: ${a.reason}`);
      const skipped = lines.filter((l) => String(l.msg).includes('skipped'));
      assert.deepEqual(skipped.map((l) => l.provider), ['tensorrt', 'cuda']);
      const runs = lines.find((l) => String(l.msg).includes('detector runs on cpu'))!;
      assert.deepEqual(runs.requested, ['tensorrt', 'cuda', 'cpu']);
      // Metadata drives the sizes, and a batch of two runs.
      assert.equal(s.inputSize, s.info.input.channels * s.info.input.width * s.info.input.height);
      const out = await s.run(new Float32Array(2 * s.inputSize), 2);
      assert.equal(out.length, 2 * s.outputSize);
    } finally {
      await s.close();
    }
  });

  it('TensorRT options reach the provider through its environment variables, the engine cache directory included', () => {
    const env: NodeJS.ProcessEnv = {};
    const o = providerSessionOptions('tensorrt', cfg({ tensorrt: { engineCacheDir: join(tmp, 'engines'), fp16: true, workspaceMb: 512 } }), env);
    assert.deepEqual(o.executionProviders, [{ name: 'tensorrt', deviceId: 0 }]);
    assert.equal(env.ORT_TENSORRT_FP16_ENABLE, '1');
    assert.equal(env.ORT_TENSORRT_ENGINE_CACHE_ENABLE, '1');
    assert.equal(env.ORT_TENSORRT_CACHE_PATH, join(tmp, 'engines'));
    assert.equal(env.ORT_TENSORRT_MAX_WORKSPACE_SIZE, String(512 * 1024 * 1024));
  });

  it('the CPU graph optimisation level is the configured one (default "extended"); GPU providers keep "all"', () => {
    assert.equal(providerSessionOptions('cpu', cfg({})).graphOptimizationLevel, 'extended');
    assert.equal(providerSessionOptions('cpu', cfg({ cpu: { intraOpThreads: 1, interOpThreads: 1, graphOptimization: 'all' } })).graphOptimizationLevel, 'all');
    assert.equal(providerSessionOptions('cuda', cfg({})).graphOptimizationLevel, 'all');
  });

  it('in the inference worker: same fallback and log lines, same outputs as in the event loop thread', async () => {
    const { log, lines } = capture();
    const w = await WorkerDetector.open(cfg({ providers: ['tensorrt', 'cuda', 'cpu'] }), log);
    const s = await DetectorSession.open(cfg({ providers: ['cpu'] }), capture().log);
    try {
      assert.equal(w.provider, 'cpu');
      assert.deepEqual(w.attempts.map((a) => a.ok), [false, false, true]);
      assert.deepEqual(lines.filter((l) => String(l.msg).includes('skipped')).map((l) => l.provider), ['tensorrt', 'cuda']);
      assert.ok(lines.some((l) => String(l.msg).includes('detector runs on cpu')));
      const x = new Float32Array(new SharedArrayBuffer(2 * s.inputSize * 4)).map((_, i) => Math.sin(i * 0.37));
      const a = await w.run(x, 2);
      const b = await s.run(x, 2);
      assert.equal(a.length, b.length);
      let d = 0;
      for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
      assert.ok(d < 1e-5, `worker and inline outputs differ by ${d}`);
      // A run that fails in the worker (three images asked of a two-image buffer) rejects with the worker's reason,
      // which crosses the shared reply ring as text, and the detector goes on serving.
      const shared = new Float32Array(new SharedArrayBuffer(x.length * 4));
      shared.set(x);
      await assert.rejects(w.run(shared, 3), (err: unknown) => err instanceof Error && /: inference failed: Invalid typed array length/.test(err.message));
      assert.equal((await w.run(x, 2)).length, a.length);
    } finally {
      await w.close();
      await s.close();
    }
  });

  it('a tampered self-test reference stops with a clear message', async () => {
    const bytes = Buffer.from(readFileSync(MODEL));
    const text = bytes.toString('latin1');
    const at = text.indexOf('"channel_sums": [');
    assert.ok(at > 0, 'the model carries a self-test reference');
    // Change one digit of the first reference sum (same length: the protobuf stays valid).
    const i = text.indexOf('.', at) - 1;
    bytes[i] = bytes[i] === 0x39 ? 0x31 : bytes[i]! + 1;
    const bad = join(tmp, 'tampered.onnx');
    writeFileSync(bad, bytes);
    const { log } = capture();
    await assert.rejects(DetectorSession.open(cfg({ model: bad, providers: ['cpu'] }), log), (err: unknown) => {
      assert.ok(err instanceof SelfTestError, String(err));
      assert.match(err.message, /tampered\.onnx: self-test failed: channel 0 sums to .* the reference is .* on provider cpu/);
      assert.equal(err.exitCode, 70);
      return true;
    });
    // The same through the inference worker, error type and message intact.
    await assert.rejects(WorkerDetector.open(cfg({ model: bad, providers: ['cpu'] }), log), (err: unknown) =>
      err instanceof SelfTestError && /tampered\.onnx: self-test failed: channel 0 .* on provider cpu/.test(err.message) && err.exitCode === 70);
  });

  it('a provider that opens but cannot run is skipped; none left is a clear error', async () => {
    const real: SessionFactory = (m, o) => ort.InferenceSession.create(m, o);
    const broken: SessionFactory = async (m, o) => {
      const s = await real(m, { ...o, executionProviders: ['cpu'] });
      return {
        inputNames: s.inputNames, outputNames: s.outputNames,
        run: async () => { throw new Error('CUDA failure 999: device kernel image is invalid'); },
        release: () => s.release(),
      } as unknown as ort.InferenceSession;
    };
    let calls = 0;
    const firstBroken: SessionFactory = (m, o) => (calls++ === 0 ? broken(m, o) : real(m, o));
    const { log, lines } = capture();
    const s = await DetectorSession.open(cfg({ providers: ['cuda', 'cpu'] }), log, { factory: firstBroken });
    assert.equal(s.provider, 'cpu');
    assert.match(s.attempts[0]!.reason!, /self-test inference failed on cuda: CUDA failure 999/);
    assert.ok(lines.some((l) => l.provider === 'cuda' && String(l.msg).includes('skipped')));
    await s.close();
    await assert.rejects(DetectorSession.open(cfg({ providers: ['cuda'] }), capture().log, { factory: broken }), (err: unknown) =>
      err instanceof NoProviderError && /no execution provider could run the model: cuda \(.*CUDA failure 999/.test(err.message));
  });

  it('a missing or non-ONNX model file is an InputError naming it', async () => {
    await assert.rejects(DetectorSession.open(cfg({ model: join(tmp, 'nope.onnx') }), capture().log), (err: unknown) =>
      err instanceof InputError && err.message.includes('nope.onnx') && err.message.includes('cannot read model'));
    const junk = join(tmp, 'junk.onnx');
    writeFileSync(junk, 'not a model');
    await assert.rejects(DetectorSession.open(cfg({ model: junk }), capture().log), (err: unknown) => err instanceof InputError && err.message.includes('junk.onnx'));
  });

  it('the configuration rejects an empty or repeated provider list', () => {
    assert.throws(() => perceptionSchema.parse({ providers: [] }));
    assert.throws(() => perceptionSchema.parse({ providers: ['cpu', 'cpu'] }));
    assert.throws(() => perceptionSchema.parse({ providers: ['opencl'] }));
  });
});
