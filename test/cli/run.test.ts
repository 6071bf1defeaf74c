import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
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

const haveGst = spawnSync('gst-launch-1.0', ['--version']).status === 0;

// The real flight's daemon end to end: `racepilot run --start` with the race on live cameras (four videotestsrc rigs
// standing in for the CSI cameras, the shipped detector on the CPU) against `racepilot sim-fc`, PX4's stand-in, over
// UDP on loopback. The test patterns hold no gate: the race takes off, flies toward the track's gates, and the
// failsafe for gates not seen holds and lands. SIGTERM then stops it cleanly, and the flight is in its log.
test('run --start with race.cameras "live" against the simulated PX4: detector, cameras, race, failsafe, clean stop, flight log', {
  skip: haveGst ? false : 'gst-launch-1.0 not installed (apt-get install gstreamer1.0-tools gstreamer1.0-plugins-base)',
  timeout: 90_000,
}, async () => {
  const daemonPort = 20000 + Math.floor(Math.random() * 20000);
  const fcPort = daemonPort + 1;
  const { defaultRigs } = await import('../../src/core/config/camera.js');
  const config = writeConfig('live.json', {
    log: { level: 'info', format: 'json' },
    flight: { transport: { kind: 'udp', bindHost: '127.0.0.1', bindPort: daemonPort }, allowArm: true, allowOffboard: true },
    telemetry: { enabled: false },
    race: { track: join(ROOT, 'config/tracks/line.json'), cameras: 'live' },
    recording: { enabled: true, dir: join(dir, 'flight-logs') },
    perception: { providers: ['cpu'] },
    camera: {
      rigs: defaultRigs.map((r) => ({ ...r, width: 160, height: 120, fps: 15, source: { preset: 'videotestsrc', pattern: 'smpte' } })),
      sync: { maxSkewMs: 34, timeoutMs: 60 },
    },
  });
  const fc = spawn(process.execPath, [BIN, 'sim-fc', '--bind', `127.0.0.1:${fcPort}`, '--peer', `127.0.0.1:${daemonPort}`, '--status-every', '0'], { cwd: ROOT });
  const daemon = spawn(process.execPath, [BIN, 'run', '--config', config, '--start'], { cwd: ROOT });
  let out = '';
  daemon.stdout.on('data', (d) => (out += d));
  daemon.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => daemon.on('close', (code) => resolve(code)));
  try {
    const end = Date.now() + 60_000;
    while (Date.now() < end && !/"msg":"race: landed: on the ground"/.test(out)) await new Promise((r) => setTimeout(r, 100));
    daemon.kill('SIGTERM');
    const code = await exited;
    for (const line of [
      'perception: detector runs on cpu',
      'live cameras and perception started',
      'race: takeoff: start given; climbing to 1.5 m',
      'race: racing: at the start hover; flying to gate 1',
      'race: landed: on the ground',
      'race: live cameras closed',
      'stopped',
    ]) assert.ok(out.includes(`"msg":"${line}"`), `missing "${line}" in the daemon's log:\n${out.slice(-3000)}`);
    assert.match(out, /"msg":"race: failsafe_hold: no gate seen for [\d.]+ s"/);
    assert.doesNotMatch(out, /camera format and model input differ/);
    assert.equal(code, 0, out.slice(-2000));
    // The flight log: closed cleanly after the landing, with the link, the cameras, perception and the race in it.
    assert.match(out, /"msg":"recording closed"/);
    const logs = readdirSync(join(dir, 'flight-logs')).filter((f) => f.endsWith('.mcap'));
    assert.equal(logs.length, 1, logs.join(' '));
    const info = await racepilot(['log-info', join(dir, 'flight-logs', logs[0]!), '--json']);
    const j = JSON.parse(info.stdout) as { ending: { kind: string }; channels: { topic: string; count: number }[] };
    assert.equal(j.ending.kind, 'clean');
    const count = (t: string) => j.channels.find((c) => c.topic === t)?.count ?? 0;
    for (const t of ['mavlink/bytes', 'fc/vehicle_state', 'fc/setpoint', 'camera/frameset', 'perception/gates', 'race/event', '/camera/front/left']) {
      assert.ok(count(t) > 0, `${t} not in the flight log: ${JSON.stringify(j.channels)}`);
    }
  } finally {
    daemon.kill('SIGKILL');
    fc.kill('SIGKILL');
  }
});
