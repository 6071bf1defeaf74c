import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { run } from '../../src/cli/dataset.js';
import { UsageError } from '../../src/core/errors.js';

const ROW = /^img_\d+\.png(,-?\d+){8}$/;

/** Runs the command with stdout silenced (it prints a summary line). */
async function quiet(argv: string[]): Promise<number> {
  const write = process.stdout.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    return await run(argv);
  } finally {
    process.stdout.write = write;
  }
}

test('dataset writes images, masks and corners.csv in the airr-onboard format, the same for the same seed', async (t) => {
  const a = mkdtempSync(join(tmpdir(), 'racepilot-ds-'));
  const b = mkdtempSync(join(tmpdir(), 'racepilot-ds-'));
  t.after(() => {
    rmSync(a, { recursive: true, force: true });
    rmSync(b, { recursive: true, force: true });
  });
  const args = ['--count', '4', '--seed', '5', '--width', '120', '--height', '90', '--scene-every', '2'];
  assert.equal(await quiet(['--out', a, ...args]), 0);
  assert.equal(await quiet(['--out', b, ...args]), 0);
  const files = readdirSync(a).sort();
  assert.deepEqual(files, ['corners.csv', 'img_0.png', 'img_1.png', 'img_2.png', 'img_3.png', 'mask_0.png', 'mask_1.png', 'mask_2.png', 'mask_3.png']);
  for (const f of files) assert.deepEqual(readFileSync(join(a, f)), readFileSync(join(b, f)), `${f} identical for the same seed`);

  const img = PNG.sync.read(readFileSync(join(a, 'img_0.png')));
  assert.equal(img.width, 120);
  assert.equal(img.height, 90);
  const mask = PNG.sync.read(readFileSync(join(a, 'mask_0.png')));
  const values = new Set<number>();
  for (let i = 0; i < mask.data.length; i += 4) values.add(mask.data[i]!);
  assert.ok([...values].every((v) => v === 0 || v === 255), 'mask is 0/255');
  assert.ok(values.has(255), 'mask marks some gate frame');

  const rows = readFileSync(join(a, 'corners.csv'), 'utf8').trimEnd().split('\n');
  assert.ok(rows.length >= 4, `at least one gate per image (${rows.length} rows)`);
  for (const row of rows) {
    assert.match(row, ROW);
    const [file, ...v] = row.split(',');
    assert.ok(files.includes(file!), `${file} exists`);
    const [x1, y1, x2, , , y3, x4, y4] = v.map(Number) as number[];
    // TL left of TR, BL below TL, BR below TR (the drone banks at most ~45°).
    assert.ok(x1! < x2! && y4! > y1! && y3! > y1!, `corner order TL, TR, BR, BL in ${row}`);
    assert.ok(x1! < 120 + 60 && x4! > -60, `corners near the image in ${row}`);
  }
});

test('dataset: missing or bad arguments are usage errors', async () => {
  await assert.rejects(quiet(['--out', '/nonexistent-unused', '--seed', '1']), (e) => e instanceof UsageError && /--count/.test(e.message));
  await assert.rejects(quiet(['--out', '/x', '--count', 'ten', '--seed', '1']), (e) => e instanceof UsageError && /--count must be an integer/.test(e.message));
  await assert.rejects(quiet(['--bogus']), UsageError);
  assert.equal(await quiet(['--help']), 0);
});
