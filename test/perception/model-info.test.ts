import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../../src/core/errors.js';
import { openDetector } from '../../src/cli/eval.js';
import { REQUIRED_KEYS, readModelInfo, readOnnxMetadata } from '../../src/perception/model-info.js';

const models = fileURLToPath(new URL('../../../models/', import.meta.url));
const pruned = join(models, 'gate-detector.onnx');
const dense = join(models, 'gate-detector-dense.onnx');
const dir = mkdtempSync(join(tmpdir(), 'rp-model-'));

/** Appends one metadata_props entry (protobuf field 14); a later entry overrides an earlier one of the same key. */
function withMeta(bytes: Uint8Array, key: string, value: string): Buffer {
  const str = (field: number, s: string) => {
    const b = Buffer.from(s, 'utf8');
    return Buffer.concat([Buffer.from([(field << 3) | 2]), varint(b.length), b]);
  };
  const entry = Buffer.concat([str(1, key), str(2, value)]);
  return Buffer.concat([bytes, Buffer.from([(14 << 3) | 2]), varint(entry.length), entry]);
}
function varint(n: number): Buffer {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}
const write = (name: string, bytes: Uint8Array) => {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
};

test('both shipped models load, carry complete metadata, pass their self-test, and are small', async () => {
  for (const [path, variant] of [[pruned, 'pruned'], [dense, 'dense']] as const) {
    assert.ok(statSync(path).size < 2 * 1024 * 1024, `${path} is under 2 MB`);
    const { info } = readModelInfo(path);
    for (const k of REQUIRED_KEYS) assert.ok(info.raw[k], `${path} has ${k}`);
    assert.equal(info.variant, variant);
    assert.equal(info.input.channels, 3);
    assert.equal(info.layout.width * info.layout.stride, info.input.width);
    assert.ok(info.flops > 0 && info.params > 0);
    const { session } = await openDetector(path, 1); // runs the self-test
    await session.release();
  }
  const p = readModelInfo(pruned).info;
  const d = readModelInfo(dense).info;
  assert.ok(p.flops <= 0.4 * d.flops, `pruned ${p.flops} FLOPs vs dense ${d.flops}: at least 60% fewer`);
  assert.ok(p.params < d.params);
});

test('a missing or corrupt model file is named', async () => {
  await assert.rejects(openDetector(join(dir, 'none.onnx')), (e: Error) => e instanceof InputError && /none\.onnx: cannot read model/.test(e.message));
  const junk = write('junk.onnx', Buffer.from('this is not protobuf \u0000\u00ff\u00ff\u00ff\u00ff'));
  await assert.rejects(openDetector(junk), /junk\.onnx: not a valid ONNX model/);
  const cut = write('cut.onnx', readFileSync(pruned).subarray(0, 5000));
  await assert.rejects(openDetector(cut), /cut\.onnx: not a valid ONNX model/);
  // A well-formed protobuf with a graph but none of our metadata: someone else's model.
  const foreign = write('foreign.onnx', Buffer.from([0x08, 0x07, 0x3a, 0x00]));
  assert.throws(() => readOnnxMetadata(Buffer.from([0x08, 0x07])), /no graph/);
  await assert.rejects(openDetector(foreign), /foreign\.onnx: not a racepilot gate detector: metadata lacks racepilot\.format/);
});

test('metadata that does not match the graph or itself is named', async () => {
  const bytes = readFileSync(pruned);
  const shape = write('shape.onnx', withMeta(bytes, 'racepilot.output_shape', '["batch", 13, 10, 10]'));
  await assert.rejects(openDetector(shape), /shape\.onnx: metadata mismatch: output_shape/);
  const name = write('name.onnx', withMeta(bytes, 'racepilot.input_name', 'pixels'));
  await assert.rejects(openDetector(name), /name\.onnx: metadata mismatch: metadata names input "pixels"/);
  const size = write('size.onnx', withMeta(withMeta(bytes, 'racepilot.input_shape', '["batch", 3, 128, 128]'),
    'racepilot.output_shape', '["batch", 13, 32, 32]'));
  await assert.rejects(openDetector(size), /size\.onnx: (metadata mismatch|self-test failed)/);
  const st = JSON.parse(readModelInfo(pruned).info.raw['racepilot.selftest']!);
  st.channel_sums[0] += 100;
  const self = write('self.onnx', withMeta(bytes, 'racepilot.selftest', JSON.stringify(st)));
  await assert.rejects(openDetector(self), /self\.onnx: self-test failed: channel 0/);
  const mean = write('mean.onnx', withMeta(bytes, 'racepilot.mean', '[0.5]'));
  await assert.rejects(openDetector(mean), /mean\.onnx: metadata "racepilot\.mean" should be 3 numbers/);
  const fmt = write('fmt.onnx', withMeta(bytes, 'racepilot.format', 'other/9'));
  await assert.rejects(openDetector(fmt), /fmt\.onnx: metadata "racepilot\.format" is "other\/9"/);
});
