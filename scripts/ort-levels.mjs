#!/usr/bin/env node
// Inference time of the shipped models at each ONNX Runtime CPU graph optimisation level: batch of 8 (a FrameSet),
// one thread, 40 runs after 5 warm-ups; prints p10 and p50. It is the measurement behind
// perception.cpu.graphOptimization (src/core/config/perception.ts).   node scripts/ort-levels.mjs [--threads N]
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';

const threads = Number(process.argv[process.argv.indexOf('--threads') + 1] || 1) || 1;
const models = ['gate-detector', 'gate-detector-dense'].map((m) => [m, fileURLToPath(new URL(`../models/${m}.onnx`, import.meta.url))]);
const input = new Float32Array(8 * 3 * 192 * 192).map((_, i) => ((i * 37 + 11) % 101) / 50 - 1);
for (const level of ['all', 'extended', 'basic']) {
  for (const [name, file] of models) {
    const s = await ort.InferenceSession.create(file, { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: level, executionProviders: ['cpu'] });
    const feeds = { [s.inputNames[0]]: new ort.Tensor('float32', input, [8, 3, 192, 192]) };
    for (let i = 0; i < 5; i++) await s.run(feeds);
    const t = [];
    for (let i = 0; i < 40; i++) {
      const t0 = performance.now();
      await s.run(feeds);
      t.push(performance.now() - t0);
    }
    t.sort((a, b) => a - b);
    console.log(`${level.padEnd(9)} ${name.padEnd(20)} p10 ${t[4].toFixed(2)} ms  p50 ${t[20].toFixed(2)} ms`);
    await s.release();
  }
}
