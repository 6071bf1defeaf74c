import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** `racepilot run` as a child process, on bad input: each a clear message, a non-zero exit, nothing armed. */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'racepilot.js');
const dir = mkdtempSync(join(tmpdir(), 'racepilot-run-'));

function writeConfig(name: string, config: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(config));
  return file;
}

function racepilot(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, RACEPILOT_LOG_LEVEL: 'info' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const kill = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('close', (code) => {
      clearTimeout(kill);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Nothing in the daemon's log says it armed or sent an arm. */
function assertNothingArmed(stdout: string): void {
  assert.doesNotMatch(stdout, /"msg":"(armed|arm: accepted)"/);
  assert.doesNotMatch(stdout, /→ arming/);
}

test('a configuration error exits 78 naming the file and the field', async () => {
  const file = writeConfig('bad.json', { flight: { setpointRateHz: 1000, allowArm: 'yes' } });
  const r = await racepilot(['run', '--config', file]);
  assert.equal(r.code, 78);
  assert.ok(r.stderr.includes(file), r.stderr);
  assert.match(r.stderr, /flight\.setpointRateHz: expected at most 250/);
  assert.match(r.stderr, /flight\.allowArm: expected boolean, got string/);
});

test('a missing serial device: a clear message and a non-zero exit after the link timeout, nothing armed', async () => {
  const file = writeConfig('serial.json', { flight: { transport: { kind: 'serial', path: join(dir, 'no-such-tty'), baudRate: 921600 }, allowArm: true, allowOffboard: true } });
  const r = await racepilot(['run', '--config', file, '--start', '--link-timeout', '1']);
  assert.equal(r.code, 69);
  assert.match(r.stderr, /no-such-tty/);
  assert.match(r.stderr, /no heartbeat from an autopilot within 1 s: nothing received/);
  assertNothingArmed(r.stdout);
});

test('garbage bytes (a wrong baud rate) give no link and say so', async () => {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff), seed & 0xff);
  // Answer every datagram from the daemon with noise, as a port at the wrong baud rate delivers.
  sock.on('message', (_m, rinfo) => sock.send(Buffer.from(Array.from({ length: 200 }, rnd)), rinfo.port, rinfo.address));
  try {
    const port = (sock.address() as { port: number }).port;
    const file = writeConfig('garbage.json', { flight: { transport: { kind: 'udp', bindHost: '127.0.0.1', peerHost: '127.0.0.1', peerPort: port }, allowArm: true, allowOffboard: true } });
    const r = await racepilot(['run', '--config', file, '--start', '--link-timeout', '2']);
    assert.equal(r.code, 69);
    assert.match(r.stderr, /bytes received but not one valid MAVLink packet/);
    assert.match(r.stderr, /wrong baud rate/);
    assertNothingArmed(r.stdout);
  } finally {
    sock.close();
  }
});

test('an unreachable UDP peer: a clear message and a non-zero exit', async () => {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  const port = (sock.address() as { port: number }).port;
  await new Promise<void>((r) => sock.close(() => r())); // nobody listens there now
  const file = writeConfig('unreachable.json', { flight: { transport: { kind: 'udp', bindHost: '127.0.0.1', peerHost: '127.0.0.1', peerPort: port } } });
  const r = await racepilot(['run', '--config', file, '--link-timeout', '1']);
  assert.equal(r.code, 69);
  assert.ok(r.stderr.includes(`127.0.0.1:${port}`), r.stderr);
  assert.match(r.stderr, /no heartbeat from an autopilot within 1 s: nothing received/);
  assertNothingArmed(r.stdout);
});
