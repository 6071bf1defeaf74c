import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { TopicBus } from '../../src/core/bus.js';
import { ManualClock } from '../../src/core/clock.js';
import { telemetrySchema, type TelemetryConfig } from '../../src/core/config/telemetry.js';
import { silentLogger } from '../../src/core/logger.js';
import type { Topics } from '../../src/core/messages.js';
import { tail, TelemetryRefusedError } from '../../src/cli/tail.js';
import type { TelemetryStatus } from '../../src/telemetry/protocol.js';
import { TelemetryServer } from '../../src/telemetry/server.js';
import { formatEvent, formatStatusLine } from '../../src/telemetry/tail-format.js';

const TOKEN = 'tail-test-token-0123456789';

function setup(overrides: Partial<TelemetryConfig> = {}) {
  const config = telemetrySchema.parse({ host: '127.0.0.1', port: 0, tegrastats: false, ...overrides });
  const bus = new TopicBus<Topics>();
  const clock = new ManualClock('sim', 5_000_000);
  const server = new TelemetryServer({ bus, config, clock, log: silentLogger(), sampleSystem: false });
  return { bus, clock, server };
}

class Collect {
  text = '';
  write(s: string): void {
    this.text += s;
  }
  lines(): unknown[] {
    return this.text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as unknown);
  }
}

function status(over: Partial<TelemetryStatus> = {}): TelemetryStatus {
  return {
    tUs: 1,
    fc: { linkUp: true, mode: 'OFFBOARD', armed: true, autopilot: 'px4', batteryV: 16.2, batteryRemaining: 0.8 },
    control: 'in_control',
    race: { state: 'racing', gateIndex: 3, gateCount: 7 },
    speedMps: 12.345,
    altitudeM: 2.5,
    detectionsPerS: 30,
    latencyMs: { 'perception/detections': 31.4 },
    cameraFps: {},
    link: null,
    system: { cpuLoad: 0.45, gpuLoad: 0.87, temperaturesC: { GPU: 52.5, CPU: 48 } },
    telemetry: { clients: 1, framesDropped: 0, clientsCut: 0 },
    ...over,
  };
}

test('status line and event formatting', () => {
  const line = formatStatusLine(status());
  assert.equal(line, 'OFFBOARD ARMED  in_control  race racing gate 3/7  12.3 m/s  alt 2.5 m  det 30/s  lat detections 31ms  cpu 45% gpu 87% 53°C  16.2 V');
  const unknown = formatStatusLine(status({ fc: { linkUp: null, mode: null, armed: null, autopilot: null, batteryV: null, batteryRemaining: null }, control: null, race: { state: null, gateIndex: null, gateCount: null }, speedMps: null, altitudeM: null, detectionsPerS: null, latencyMs: {}, system: { cpuLoad: null, gpuLoad: null, temperaturesC: {} } }));
  assert.equal(unknown, '- -  - m/s  alt - m  cpu -');
  assert.equal(formatStatusLine(status({ fc: { ...status().fc, linkUp: false } })).startsWith('FC LINK DOWN'), true);
  assert.equal(formatEvent({ tUs: 12_345_678, topic: 'fc/event', severity: 'warning', kind: 'safety', message: 'stale perception' }), '    12.346  WARN  fc/event/safety: stale perception');
});

test('piped: JSON lines with status and events', async () => {
  const { bus, clock, server } = setup();
  const { url } = await server.start();
  try {
    const out = new Collect();
    const done = tail({ url, format: 'json', count: 3 }, out);
    // The first status arrives on connect; then an event and a status.
    await waitUntil(() => out.text.length > 0, 'the first status');
    bus.publish('fc/event', { tUs: clock.nowUs(), kind: 'link', message: 'heartbeat lost', severity: 'error' });
    clock.advanceBy(100_000);
    assert.equal(await done, 0);
    const frames = out.lines() as { type: string; event?: { message: string } }[];
    assert.equal(frames.length, 3);
    assert.ok(frames.some((f) => f.type === 'status'));
    assert.equal(frames.find((f) => f.type === 'event')?.event?.message, 'heartbeat lost');
  } finally {
    await server.close();
  }
});

test('terminal: status line redrawn, events scroll above it', async () => {
  const { bus, clock, server } = setup();
  const { url } = await server.start();
  try {
    const out = new Collect();
    const done = tail({ url, format: 'tty', count: 2, columns: 200 }, out);
    await waitUntil(() => out.text.includes('m/s'), 'a status line');
    bus.publish('fc/event', { tUs: clock.nowUs(), kind: 'control_state', state: 'in_control', message: 'offboard active', severity: 'info' });
    assert.equal(await done, 0);
    assert.match(out.text, /\r\x1b\[2K.*fc\/event\/control_state: offboard active\n/);
    // After the event the status line is drawn again under it.
    assert.match(out.text, /offboard active\n[^\n]*m\/s/);
  } finally {
    await server.close();
  }
});

test('a wrong token ends the tail at once with exit code 77; the right one gets in', async () => {
  const { server } = setup({ token: TOKEN });
  const { url } = await server.start();
  try {
    await assert.rejects(tail({ url, token: 'not-the-token-at-all!', format: 'json', count: 1 }, new Collect()), (err: unknown) => {
      assert.ok(err instanceof TelemetryRefusedError);
      assert.equal(err.exitCode, 77);
      assert.match(err.message, /wrong or missing token/);
      return true;
    });
    const out = new Collect();
    assert.equal(await tail({ url, token: TOKEN, format: 'json', count: 1 }, out), 0);
    assert.equal((out.lines()[0] as { type: string }).type, 'status');
  } finally {
    await server.close();
  }
});

test('reconnects by itself when the daemon restarts', async () => {
  const first = setup();
  const { port, url } = await first.server.start();
  const out = new Collect();
  const done = tail({ url, format: 'json', count: 2, backoffMs: { initial: 20, max: 100 } }, out);
  await waitUntil(() => out.lines().length === 1, 'the first status');
  await first.server.close(); // the daemon goes away ...
  const second = setup({ port }); // ... and comes back on the same port
  await second.server.start();
  try {
    assert.equal(await done, 0);
    assert.equal(out.lines().length, 2);
  } finally {
    await second.server.close();
  }
});

test('the CLI: usage errors and --help', () => {
  const bin = fileURLToPath(new URL('../../../bin/racepilot.js', import.meta.url));
  const help = spawnSync(process.execPath, [bin, 'tail', '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /usage: racepilot tail URL/);
  const bad = spawnSync(process.execPath, [bin, 'tail', 'http://x'], { encoding: 'utf8' });
  assert.equal(bad.status, 64);
  assert.match(bad.stderr, /expected a ws:\/\/ or wss:\/\/ URL/);
});

async function waitUntil(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out: ${what}`);
}
