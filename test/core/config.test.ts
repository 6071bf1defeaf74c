import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configWith, loadConfig, parseConfig } from '../../src/core/config/load.js';
import { ConfigError } from '../../src/core/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'racepilot-config-'));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

test('an empty configuration is valid and safe: nothing may arm or take control', () => {
  const c = configWith({});
  assert.equal(c.flight.allowArm, false);
  assert.equal(c.flight.allowOffboard, false);
  assert.equal(c.flight.setpointRateHz, 50);
  assert.equal(c.flight.heartbeatTimeoutS, 1.5);
});

test('an error names the file, the field and what was expected', () => {
  const p = file('bad-type.json', JSON.stringify({ flight: { setpointRateHz: 'fast' } }));
  assert.throws(
    () => loadConfig(p),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /bad-type\.json/);
      assert.match(err.message, /flight\.setpointRateHz/);
      assert.match(err.message, /expected number, got string/);
      assert.equal(err.exitCode, 78);
      return true;
    },
  );
});

test('unknown fields, bad enums and out-of-range values are refused with their path', () => {
  assert.throws(() => parseConfig({ flight: { setpointRate: 50 } }, 'x.json'), /x\.json: flight: unknown field "setpointRate"/);
  assert.throws(() => parseConfig({ log: { level: 'loud' } }, 'x.json'), /log\.level: expected one of/);
  assert.throws(() => parseConfig({ flight: { setpointRateHz: 1 } }, 'x.json'), /flight\.setpointRateHz: expected at least 5/);
  assert.throws(
    () => parseConfig({ flight: { transport: { kind: 'serial', path: '/dev/ttyTHS0', baudRate: 12345 } } }, 'x.json'),
    /flight\.transport\.baudRate: a standard baud rate/,
  );
  assert.throws(() => parseConfig({ flight: { transport: { kind: 'carrier-pigeon' } } }, 'x.json'), /flight\.transport\.kind: expected one of/);
  assert.throws(() => parseConfig({ flight: { transport: { kind: 'udp' } } }, 'x.json'), /flight\.transport: a UDP link needs bindPort/);
});

test('missing file and broken JSON are clear errors naming the file', () => {
  assert.throws(() => loadConfig(join(dir, 'nope.json')), /nope\.json: file not found/);
  assert.throws(() => loadConfig(file('broken.json', '{ "flight": ')), /broken\.json: not valid JSON/);
});
