#!/usr/bin/env node
// Flies `racepilot sim` once per seed and prints one line per flight and a summary: the acceptance run
// ("every gate, no crash, seeds 1 to 10, detector in the loop, drift on"). Extra arguments go to every `sim`.
//   node scripts/race-seeds.mjs [--seeds 1-10] [--out FILE.json] [sim options...]
// Exit status 0 when every flight finished without a crash.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
let seeds = [1, 10];
let out = null;
const pass = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--seeds') {
    const m = /^(\d+)(?:-(\d+))?$/.exec(args[++i] ?? '');
    if (!m) throw new Error('--seeds wants N or A-B, e.g. 1-10');
    seeds = [Number(m[1]), Number(m[2] ?? m[1])];
  } else if (args[i] === '--out') out = args[++i];
  else pass.push(args[i]);
}
const cli = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'racepilot.js');
const rows = [];
for (let seed = seeds[0]; seed <= seeds[1]; seed++) {
  const r = spawnSync(process.execPath, [cli, 'sim', '--seed', String(seed), '--json', ...pass], { encoding: 'utf8', maxBuffer: 64 << 20 });
  let s;
  try {
    s = JSON.parse(r.stdout);
  } catch {
    console.log(`seed ${seed}: no summary (exit ${r.status}): ${r.stderr.trim().split('\n').at(-1)}`);
    rows.push({ seed, failed: true });
    continue;
  }
  rows.push(s);
  const lap = s.lapTimeS === null ? '    -  ' : `${s.lapTimeS.toFixed(2).padStart(6)} s`;
  console.log(
    `seed ${String(seed).padStart(2)}: ${String(s.gatesPassed).padStart(2)}/${s.gatesTotal} gates  lap ${lap}  mean ${s.meanSpeedMps.toFixed(2)} m/s  top ${s.maxSpeedMps.toFixed(2)} m/s  closest ${s.closestPassM?.toFixed(2) ?? '-'} m  ${s.endReason}`,
  );
}
const done = rows.filter((s) => !s.failed && !s.crashed && s.gatesPassed === s.gatesTotal);
const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
console.log(
  `\n${done.length} of ${rows.length} flights passed every gate without a crash; over those: lap ${mean(done.map((s) => s.lapTimeS)).toFixed(2)} s ` +
    `(${Math.min(...done.map((s) => s.lapTimeS)).toFixed(2)}–${Math.max(...done.map((s) => s.lapTimeS)).toFixed(2)}), mean speed ${mean(done.map((s) => s.meanSpeedMps)).toFixed(2)} m/s ` +
    `(lowest ${Math.min(...done.map((s) => s.meanSpeedMps)).toFixed(2)}), top ${Math.max(...done.map((s) => s.maxSpeedMps)).toFixed(2)} m/s`,
);
if (out) writeFileSync(out, JSON.stringify(rows, null, 1));
process.exit(done.length === rows.length ? 0 : 1);
