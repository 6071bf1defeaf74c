import { readFileSync } from 'node:fs';
import { InputError } from '../core/errors.js';
import type { HeadLayout } from './decode.js';
import type { InputSpec } from './preprocess.js';

export const MODEL_FORMAT = 'racepilot-gate-detector/1';

/** Everything the daemon needs to run the detector, read from the ONNX file's metadata_props, never hard-coded. */
export interface ModelInfo {
  path: string;
  version: string;
  variant: string;
  inputName: string;
  outputName: string;
  input: InputSpec;
  layout: HeadLayout;
  flops: number;
  params: number;
  selftest: SelfTest;
  /** All metadata_props as read. */
  raw: Record<string, string>;
}

export interface SelfTest {
  channelSums: number[];
  samples: [channel: number, y: number, x: number, value: number][];
  absTol: number;
  sumRelTol: number;
  sumAbsTol: number;
}

/** The keys a model must carry; a missing one is named in the error. */
export const REQUIRED_KEYS = [
  'racepilot.format', 'racepilot.model_version', 'racepilot.variant', 'racepilot.input_name', 'racepilot.input_shape',
  'racepilot.input_channels', 'racepilot.input_scale', 'racepilot.mean', 'racepilot.std', 'racepilot.output_name',
  'racepilot.output_shape', 'racepilot.output_layout', 'racepilot.stride', 'racepilot.flops', 'racepilot.params',
  'racepilot.selftest',
] as const;

/**
 * Reads the top level of an ONNX ModelProto (protobuf) far enough to collect metadata_props (field 14, repeated
 * StringStringEntryProto {1: key, 2: value}); the graph is skipped, not parsed. Anything malformed throws.
 */
export function readOnnxMetadata(bytes: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  const dec = new TextDecoder('utf-8', { fatal: true });
  const fields = (start: number, end: number, fn: (field: number, s: number, e: number) => void) => {
    let p = start;
    const varint = (): number => {
      let v = 0;
      let mul = 1;
      for (let i = 0; i < 10; i++) {
        if (p >= end) throw new Error(`truncated varint at byte ${p}`);
        const b = bytes[p++]!;
        v += (b & 0x7f) * mul;
        if (b < 0x80) return v;
        mul *= 128;
      }
      throw new Error(`bad varint at byte ${p}`);
    };
    while (p < end) {
      const tag = varint();
      const field = Math.floor(tag / 8);
      const wire = tag & 7;
      if (field === 0) throw new Error(`field number 0 at byte ${p}`);
      if (wire === 0) varint();
      else if (wire === 1) p += 8;
      else if (wire === 5) p += 4;
      else if (wire === 2) {
        const len = varint();
        if (p + len > end) throw new Error(`field ${field} runs past the end (byte ${p}, length ${len})`);
        fn(field, p, p + len);
        p += len;
      } else throw new Error(`unsupported wire type ${wire} at byte ${p}`);
      if (p > end) throw new Error('truncated');
    }
  };
  let sawGraph = false;
  fields(0, bytes.length, (field, s, e) => {
    if (field === 7) sawGraph = true;
    if (field !== 14) return;
    let key = '';
    let value = '';
    fields(s, e, (f, a, b) => {
      if (f === 1) key = dec.decode(bytes.subarray(a, b));
      else if (f === 2) value = dec.decode(bytes.subarray(a, b));
    });
    out[key] = value;
  });
  if (!sawGraph) throw new Error('no graph in the file');
  return out;
}

function json<T>(raw: Record<string, string>, key: string, where: string, check: (v: unknown) => v is T, what: string): T {
  let v: unknown;
  try {
    v = JSON.parse(raw[key]!);
  } catch {
    throw new InputError(`metadata "${key}" is not JSON: ${raw[key]}`, where);
  }
  if (!check(v)) throw new InputError(`metadata "${key}" should be ${what}, got ${raw[key]}`, where);
  return v;
}

const isNumArray = (n: number) => (v: unknown): v is number[] =>
  Array.isArray(v) && v.length === n && v.every((x) => typeof x === 'number' && Number.isFinite(x));

/** Validates metadata against what this code can run. `where` names the model file in every error. */
export function parseModelInfo(raw: Record<string, string>, where: string): ModelInfo {
  const missing = REQUIRED_KEYS.filter((k) => raw[k] === undefined || raw[k] === '');
  if (missing.length) {
    throw new InputError(`not a racepilot gate detector: metadata lacks ${missing.join(', ')} (export it with models/train.py)`, where);
  }
  if (raw['racepilot.format'] !== MODEL_FORMAT) {
    throw new InputError(`metadata "racepilot.format" is "${raw['racepilot.format']}", this build reads "${MODEL_FORMAT}"`, where);
  }
  const channelsName = raw['racepilot.input_channels'];
  if (channelsName !== 'rgb' && channelsName !== 'gray') {
    throw new InputError(`metadata "racepilot.input_channels" should be rgb or gray, got ${channelsName}`, where);
  }
  const channels = channelsName === 'rgb' ? 3 : 1;
  const shape = json(raw, 'racepilot.input_shape', where, (v): v is [unknown, number, number, number] =>
    Array.isArray(v) && v.length === 4 && [1, 2, 3].every((i) => Number.isInteger(v[i]) && (v[i] as number) > 0), '[batch, C, H, W]');
  if (shape[1] !== channels) {
    throw new InputError(`metadata mismatch: input_shape has ${shape[1]} channels, input_channels says ${channelsName}`, where);
  }
  const mean = json(raw, 'racepilot.mean', where, isNumArray(channels), `${channels} numbers`);
  const std = json(raw, 'racepilot.std', where, isNumArray(channels), `${channels} numbers`);
  if (std.some((s) => s <= 0)) throw new InputError('metadata "racepilot.std" must be positive', where);
  const scale = Number(raw['racepilot.input_scale']);
  const stride = Number(raw['racepilot.stride']);
  const outShape = json(raw, 'racepilot.output_shape', where, (v): v is [unknown, number, number, number] =>
    Array.isArray(v) && v.length === 4 && [1, 2, 3].every((i) => Number.isInteger(v[i])), '[batch, 13, H, W]');
  if (!(scale > 0) || !(Number.isInteger(stride) && stride > 0)) {
    throw new InputError(`metadata input_scale/stride invalid (${raw['racepilot.input_scale']}, ${raw['racepilot.stride']})`, where);
  }
  if (outShape[1] !== 13 || outShape[2] * stride !== shape[2] || outShape[3] * stride !== shape[3]) {
    throw new InputError(
      `metadata mismatch: output_shape ${raw['racepilot.output_shape']} is not 13 channels at stride ${stride} of input ${raw['racepilot.input_shape']}`, where);
  }
  const st = json(raw, 'racepilot.selftest', where, (v): v is Record<string, unknown> => typeof v === 'object' && v !== null, 'an object');
  if (!isNumArray(13)(st['channel_sums']) || !Array.isArray(st['samples']) || typeof st['abs_tol'] !== 'number') {
    throw new InputError('metadata "racepilot.selftest" lacks channel_sums[13], samples or abs_tol', where);
  }
  return {
    path: where,
    version: raw['racepilot.model_version']!,
    variant: raw['racepilot.variant']!,
    inputName: raw['racepilot.input_name']!,
    outputName: raw['racepilot.output_name']!,
    input: { width: shape[3], height: shape[2], channels, scale, mean, std },
    layout: { width: outShape[3], height: outShape[2], stride },
    flops: Number(raw['racepilot.flops']),
    params: Number(raw['racepilot.params']),
    selftest: {
      channelSums: st['channel_sums'] as number[],
      samples: st['samples'] as SelfTest['samples'],
      absTol: st['abs_tol'] as number,
      sumRelTol: Number(st['sum_rel_tol'] ?? 1e-3),
      sumAbsTol: Number(st['sum_abs_tol'] ?? 0.05),
    },
    raw,
  };
}

/** Reads and validates a model file's metadata. Missing file, corrupt file, missing keys → InputError naming it. */
export function readModelInfo(path: string): { info: ModelInfo; bytes: Uint8Array } {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new InputError(`cannot read model: ${(err as Error).message}`, path, { cause: err });
  }
  let raw: Record<string, string>;
  try {
    raw = readOnnxMetadata(bytes);
  } catch (err) {
    throw new InputError(`not a valid ONNX model: ${(err as Error).message}`, path, { cause: err });
  }
  return { info: parseModelInfo(raw, path), bytes };
}

/** The self-test input: value i of the NCHW batch-1 tensor = ((i*37+11) % 101)/50 - 1 (as models/gatedet/export.py). */
export function selfTestInput(spec: InputSpec): Float32Array {
  const n = spec.channels * spec.width * spec.height;
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = ((i * 37 + 11) % 101) / 50 - 1;
  return x;
}

/** Compares the runtime's output on the self-test input with the reference stored at export; throws on mismatch. */
export function checkSelfTest(info: ModelInfo, out: Float32Array): void {
  const { width: W, height: H } = info.layout;
  const plane = W * H;
  if (out.length !== 13 * plane) {
    throw new InputError(`self-test: output has ${out.length} values, metadata says ${13 * plane}`, info.path);
  }
  const st = info.selftest;
  for (let c = 0; c < 13; c++) {
    let s = 0;
    for (let i = 0; i < plane; i++) s += out[c * plane + i]!;
    const want = st.channelSums[c]!;
    if (Math.abs(s - want) > st.sumAbsTol + st.sumRelTol * Math.abs(want)) {
      throw new InputError(`self-test failed: channel ${c} sums to ${s.toFixed(4)}, the reference is ${want.toFixed(4)} (wrong execution provider or model/metadata mismatch)`, info.path);
    }
  }
  for (const [c, y, x, want] of st.samples) {
    const got = out[c * plane + y * W + x]!;
    if (Math.abs(got - want) > st.absTol) {
      throw new InputError(`self-test failed: output[${c},${y},${x}] = ${got}, the reference is ${want}`, info.path);
    }
  }
}
