import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(ROOT, 'bin/racepilot.js');

/**
 * A lap flown with the gate detector in the loop (rendered cameras, the shipped model), recorded and replayed with
 * the real commands. The detector's flight fuses sightings with its own gate-map settings; the log keeps them
 * (metadata `estimation`) and the replay must use them: before it did, such a replay diverged from the first gate map.
 */
test('racepilot sim --record with the detector, then racepilot replay: gate map, trajectories and setpoints reproduced', () => {
  const dir = mkdtempSync(join(tmpdir(), 'racepilot-detlap-'));
  try {
    const sim = spawnSync(process.execPath, [BIN, 'sim', '--track', 'config/tracks/line.json', '--seed', '1', '--json', '--record', join(dir, 'lap.mcap')], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(sim.status, 0, sim.stderr);
    const summary = JSON.parse(sim.stdout) as { perception: string; gatesPassed: number; gatesTotal: number };
    assert.equal(summary.perception, 'detector');
    const rep = spawnSync(process.execPath, [BIN, 'replay', join(dir, 'lap-000.mcap'), '--speed', 'max', '--json'], { cwd: ROOT, encoding: 'utf8' });
    const r = JSON.parse(rep.stdout) as { ok: boolean; topics: Record<string, { recorded: number; matched: number; diverged: number }> };
    assert.equal(rep.status, 0, rep.stdout);
    assert.equal(r.ok, true);
    for (const topic of ['estimation/gate_map', 'planning/trajectory', 'fc/setpoint', 'race/event']) {
      const t = r.topics[topic]!;
      assert.ok(t.recorded > 0 && t.matched === t.recorded && t.diverged === 0, `${topic}: ${JSON.stringify(t)}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('estimation settings from a log: over the defaults, defaults for older logs, a bad value named', async () => {
  const { estimationFromMetadata, defaultEstimationParams, estimationMetadata } = await import('../../src/estimation/estimation-params.js');
  const { estimationParamsFor } = await import('../../src/cli/pipeline.js');
  const det = estimationParamsFor('detector');
  assert.deepEqual(estimationFromMetadata({ estimation: estimationMetadata(det) }, 'x.mcap'), det);
  assert.deepEqual(estimationFromMetadata({}, 'x.mcap'), defaultEstimationParams);
  assert.equal(estimationFromMetadata({ estimation: '{"gateMap":{"associateAhead":2}}' }, 'x.mcap').gateMap.associateAhead, 2);
  assert.throws(() => estimationFromMetadata({ estimation: '{' }, 'x.mcap'), /x\.mcap \(metadata "estimation"\).*not valid JSON/s);
  assert.throws(() => estimationFromMetadata({ estimation: '{"sightings":{"maxRangeM":"far"}}' }, 'x.mcap'), /sightings\.maxRangeM: expected a number, got "far"/);
});
