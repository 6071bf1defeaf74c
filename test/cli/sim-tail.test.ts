import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const cli = `${root}bin/racepilot.js`;

/** `racepilot tail` against a running `racepilot sim`: what a person on the ground sees during a (simulated) race. */
test('racepilot tail shows the status and the events of a running racepilot sim', { timeout: 90_000 }, async () => {
  const sim = spawn(
    process.execPath,
    [cli, 'sim', '--perception', 'truth', '--realtime', '--track', `${root}test/replay/tracks/short-line.json`, '--telemetry', '127.0.0.1:0', '--json'],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let err = '';
      sim.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        const m = /telemetry: (ws:\/\/\S+)/.exec(err);
        if (m) resolve(m[1]!);
      });
      sim.once('exit', (code) => reject(new Error(`sim exited (${code}) before serving telemetry: ${err}`)));
    });
    const tail = spawn(process.execPath, [cli, 'tail', url, '--json', '--count', '60'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    tail.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => tail.once('exit', resolve));
    assert.equal(code, 0, 'tail exits 0 after --count frames');
    const frames = out.trim().split('\n').map((l) => JSON.parse(l) as { type: string; status?: { fc: { linkUp: boolean; mode: string } }; event?: { topic: string; message: string } });
    const statuses = frames.filter((f) => f.type === 'status');
    assert.ok(statuses.length >= 10, `status frames: ${statuses.length}`);
    assert.ok(statuses.some((f) => f.status!.fc.linkUp && typeof f.status!.fc.mode === 'string'), 'the status shows the flight controller link and mode');
    const events = frames.filter((f) => f.type === 'event');
    assert.ok(events.some((f) => f.event!.topic === 'race/event'), `race events scroll by: ${events.map((e) => e.event!.message).join(' | ')}`);
  } finally {
    sim.kill('SIGTERM');
  }
});
