import { readFileSync } from 'node:fs';
import { InputError } from '../core/errors.js';

/** A point in image pixels (continuous coordinates: pixel k spans [k, k+1)). */
export type Point = readonly [x: number, y: number];
/** The four INNER corners of a gate in the order top-left, top-right, bottom-right, bottom-left. */
export type Quad = readonly [Point, Point, Point, Point];

/** Ground truth per image file name, in file order. */
export type LabelSet = Map<string, Quad[]>;

/**
 * Parses the `corners.csv` format: no header, one row per gate `file,x1,y1,x2,y2,x3,y3,x4,y4` (pixels, TL TR BR BL).
 * Blank lines are skipped; anything else malformed throws an InputError naming the file and line.
 */
export function parseLabels(text: string, where: string): LabelSet {
  const out: LabelSet = new Map();
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    const at = `${where}:${i + 1}`;
    const fields = line.split(',').map((f) => f.trim());
    if (fields.length !== 9) {
      throw new InputError(`expected 9 fields "file,x1,y1,x2,y2,x3,y3,x4,y4", got ${fields.length}`, at);
    }
    const [file, ...nums] = fields as [string, ...string[]];
    if (file === '') throw new InputError('empty file name', at);
    const v = nums.map((s, k) => {
      const n = s === '' ? Number.NaN : Number(s);
      if (!Number.isFinite(n)) throw new InputError(`field ${k + 2} ("${s}") is not a number`, at);
      return n;
    });
    const quad: Quad = [
      [v[0]!, v[1]!],
      [v[2]!, v[3]!],
      [v[4]!, v[5]!],
      [v[6]!, v[7]!],
    ];
    const list = out.get(file);
    if (list) list.push(quad);
    else out.set(file, [quad]);
  });
  if (out.size === 0) throw new InputError('no labelled gates', where);
  return out;
}

export function readLabels(path: string): LabelSet {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read labels: ${(err as Error).message}`, path, { cause: err });
  }
  return parseLabels(text, path);
}
