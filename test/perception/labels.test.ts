import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseLabels, readLabels } from '../../src/perception/labels.js';
import { InputError } from '../../src/core/errors.js';

test('corners.csv rows group by image, corners in TL TR BR BL order, blank lines skipped', () => {
  const l = parseLabels('a.png,1,2,3,4,5,6,7,8\n\nb.png,0,0,10,0,10,10,0,10\r\na.png,9,9,9,9,9,9,9,9.5\n', 'x.csv');
  assert.deepEqual([...l.keys()], ['a.png', 'b.png']);
  assert.equal(l.get('a.png')!.length, 2);
  assert.deepEqual(l.get('a.png')![0], [[1, 2], [3, 4], [5, 6], [7, 8]]);
  assert.equal(l.get('a.png')![1]![3][1], 9.5);
});

test('a bad row names the file and the line', () => {
  assert.throws(() => parseLabels('a.png,1,2,3,4,5,6,7,8\na.png,1,2,3\n', 'lab.csv'),
    (e: Error) => e instanceof InputError && /lab\.csv:2: expected 9 fields/.test(e.message));
  assert.throws(() => parseLabels('a.png,1,2,3,4,5,6,7,8\n\na.png,1,2,x,4,5,6,7,8\n', 'lab.csv'),
    (e: Error) => e instanceof InputError && /lab\.csv:3: field 4 \("x"\) is not a number/.test(e.message));
  assert.throws(() => parseLabels('\n\n', 'empty.csv'), /empty\.csv: no labelled gates/);
});

test('a missing labels file is named', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rp-labels-'));
  assert.throws(() => readLabels(join(dir, 'nope.csv')), (e: Error) => e instanceof InputError && e.message.includes('nope.csv'));
  writeFileSync(join(dir, 'ok.csv'), 'f.png,1,1,2,1,2,2,1,2\n');
  assert.equal(readLabels(join(dir, 'ok.csv')).size, 1);
});
