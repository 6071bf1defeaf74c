import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { WebSocket } from 'ws';
import { pino } from 'pino';
import { TopicBus } from '../../src/core/bus.js';
import { ManualClock } from '../../src/core/clock.js';
import { telemetrySchema, type TelemetryConfig } from '../../src/core/config/telemetry.js';
import { silentLogger } from '../../src/core/logger.js';
import type { FcStatus, Topics } from '../../src/core/messages.js';
import type { TelemetryFrame } from '../../src/telemetry/protocol.js';
import { TelemetryServer } from '../../src/telemetry/server.js';

const TOKEN = 'correct-horse-battery-staple';

function setup(overrides: Partial<TelemetryConfig> = {}) {
  const config = telemetrySchema.parse({ host: '127.0.0.1', port: 0, tegrastats: false, ...overrides });
  const bus = new TopicBus<Topics>();
  const clock = new ManualClock('sim', 1_000_000);
  const server = new TelemetryServer({ bus, config, clock, log: silentLogger(), sampleSystem: false });
  return { bus, clock, server, config };
}

function fcStatus(tUs: number, mode: string, armed: boolean): FcStatus {
  return {
    tUs,
    linkUp: true,
    lastHeartbeatUs: tUs,
    autopilot: 'px4',
    vehicleType: 'QUADROTOR',
    systemId: 1,
    mode,
    externalControl: mode === 'OFFBOARD',
    armed,
    batteryV: 16.4,
    batteryRemaining: 0.9,
  };
}

interface TestClient {
  ws: WebSocket;
  frames: TelemetryFrame[];
  count: number;
  closed: boolean;
  waitFor(pred: (f: TelemetryFrame) => boolean, what: string): Promise<TelemetryFrame>;
}

/** A reading client. With `keep: false` it only counts frames (cheap, for the 50-client test). */
function client(url: string, opts: { keep?: boolean; headers?: Record<string, string> } = {}): Promise<TestClient> {
  const keep = opts.keep ?? true;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: opts.headers, skipUTF8Validation: true });
    const c: TestClient = {
      ws,
      frames: [],
      count: 0,
      closed: false,
      waitFor(pred, what) {
        const found = c.frames.find(pred);
        if (found) return Promise.resolve(found);
        return new Promise((res, rej) => {
          const timer = setTimeout(() => rej(new Error(`timed out waiting for ${what}`)), 10_000);
          const onMsg = (data: Buffer) => {
            const f = JSON.parse(data.toString()) as TelemetryFrame;
            if (pred(f)) {
              clearTimeout(timer);
              ws.off('message', onMsg);
              res(f);
            }
          };
          ws.on('message', onMsg);
        });
      },
    };
    ws.on('message', (data: Buffer) => {
      c.count++;
      if (keep) c.frames.push(JSON.parse(data.toString()) as TelemetryFrame);
    });
    ws.on('close', () => (c.closed = true));
    ws.once('open', () => resolve(c));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

test('status arrives, built from bus topics; events stream; absent topics stay null', async () => {
  const { bus, clock, server } = setup();
  const { url } = await server.start();
  try {
    const c = await client(url);
    await c.waitFor((f) => f.type === 'hello', 'hello');
    bus.publish('fc/status', fcStatus(clock.nowUs(), 'OFFBOARD', true));
    bus.publish('fc/vehicle_state', {
      tUs: clock.nowUs(),
      tSampleUs: clock.nowUs() - 4000,
      p_ned_m: [1, 2, -3],
      v_ned_mps: [3, 4, 0],
      q_ned_body: [1, 0, 0, 0],
      w_body_radps: null,
      source: 'sim',
    });
    bus.publish('fc/event', { tUs: clock.nowUs(), kind: 'control_state', state: 'in_control', message: 'offboard active', severity: 'info' });
    clock.advanceBy(100_000); // one status period at 10 Hz
    const st = await c.waitFor((f) => f.type === 'status' && f.status.fc.mode === 'OFFBOARD', 'a status with the mode');
    assert.equal(st.type, 'status');
    if (st.type !== 'status') return;
    assert.equal(st.status.fc.armed, true);
    assert.equal(st.status.speedMps, 5);
    assert.equal(st.status.altitudeM, 3);
    assert.equal(st.status.control, 'in_control');
    assert.equal(st.status.latencyMs['fc/vehicle_state'], 4);
    assert.equal(st.status.race.gateIndex, null, 'no race topic yet: null, not a made-up 0');
    assert.equal(st.status.detectionsPerS, null);
    const ev = await c.waitFor((f) => f.type === 'event', 'the event');
    assert.equal(ev.type === 'event' && ev.event.message, 'offboard active');
    // Log lines.
    server.logLine({ level: 30, msg: 'hello from the log' });
    const lg = await c.waitFor((f) => f.type === 'log', 'a log line');
    assert.equal(lg.type === 'log' && lg.line.msg, 'hello from the log');
    // The daemon's pino logger can tee into the stream.
    pino({ base: null }, server.logStream()).warn({ gate: 3 }, 'via pino');
    const viaPino = await c.waitFor((f) => f.type === 'log' && f.line.msg === 'via pino', 'a pino line');
    assert.equal(viaPino.type === 'log' && viaPino.line.gate, 3);
    c.ws.close();
  } finally {
    await server.close();
  }
});

test('token: wrong and missing are refused with 401; right one via query or Bearer header is accepted', async () => {
  const { server } = setup({ token: TOKEN });
  const { url } = await server.start();
  try {
    await assert.rejects(client(`${url}?token=wrong-token-wrong-token`), /HTTP 401/);
    await assert.rejects(client(url), /HTTP 401/);
    assert.equal(server.stats.refused, 2);
    const a = await client(`${url}?token=${TOKEN}`);
    const b = await client(url, { headers: { authorization: `Bearer ${TOKEN}` } });
    await a.waitFor((f) => f.type === 'status', 'status (query token)');
    await b.waitFor((f) => f.type === 'status', 'status (header token)');
    a.ws.close();
    b.ws.close();
  } finally {
    await server.close();
  }
});

test('config: a non-loopback bind without a token does not validate', () => {
  const r = telemetrySchema.safeParse({ host: '0.0.0.0' });
  assert.equal(r.success, false);
  assert.match(JSON.stringify(r.error?.issues), /required when telemetry binds to a non-loopback address/);
  assert.equal(telemetrySchema.safeParse({ host: '0.0.0.0', token: TOKEN }).success, true);
  assert.equal(telemetrySchema.safeParse({ host: '127.0.0.1' }).success, true);
  assert.equal(telemetrySchema.safeParse({ host: '0.0.0.0', token: 'short' }).success, false);
});

test('a client that writes (the stream is read-only) or sends a huge message is cut off', async () => {
  const { server } = setup();
  const { url } = await server.start();
  try {
    const a = await client(url);
    const closedA = new Promise((r) => a.ws.once('close', r));
    a.ws.send('{"type":"command","arm":true}');
    await closedA;
    const b = await client(url);
    const closedB = new Promise((r) => b.ws.once('close', r));
    b.ws.send(Buffer.alloc(1 << 20, 0x41)); // 1 MiB against a 1 KiB limit
    await closedB;
    const c = await client(url);
    await c.waitFor((f) => f.type === 'status', 'status after the hostile ones');
    c.ws.close();
  } finally {
    await server.close();
  }
});

test('past maxClients a newcomer is refused with 503, and gets in once a place is free', async () => {
  const { server } = setup({ maxClients: 2 });
  const { url } = await server.start();
  try {
    const a = await client(url);
    const b = await client(url);
    await assert.rejects(client(url), /HTTP 503/);
    const closed = new Promise((r) => a.ws.once('close', r));
    a.ws.close();
    await closed;
    await waitUntil(() => server.stats.clients === 1, 'the server notices the close');
    const c = await client(url);
    await c.waitFor((f) => f.type === 'status', 'status for the newcomer');
    b.ws.close();
    c.ws.close();
  } finally {
    await server.close();
  }
});

/** Opens a WebSocket by hand and then never reads another byte. */
function nonReadingClient(port: number): Promise<{ drainAndWaitClosed: () => Promise<void> }> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => {
      s.write(
        `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    const closed = new Promise<void>((r) => s.once('close', () => r()));
    // Once the test is done with it, read again: the FIN of a server-side close queues behind the unread bytes.
    const drainAndWaitClosed = () => {
      s.resume();
      return withTimeout(closed, 20_000, 'the stuck client is closed by the server');
    };
    s.on('error', () => {});
    s.once('data', (d) => {
      if (!d.toString().startsWith('HTTP/1.1 101')) return reject(new Error(`upgrade failed: ${d.toString().split('\r\n')[0]}`));
      s.pause(); // from here on the kernel buffers fill and stay full
      resolve({ drainAndWaitClosed });
    });
  });
}

test('50 clients, one never reading: it is cut off, the 49 others keep receiving, new clients still get in', async () => {
  const { bus, clock, server } = setup({ dropAboveBytes: 64 * 1024, closeAboveBytes: 1024 * 1024, closeAfterDrops: 10 });
  const { url, port } = await server.start();
  const readers: TestClient[] = [];
  try {
    for (let i = 0; i < 49; i++) readers.push(await client(url, { keep: false }));
    const stuck = await nonReadingClient(port);
    assert.equal(server.stats.clients, 50);
    let cutAt = -1;
    const line = { level: 30, msg: 'x'.repeat(32 * 1024) };
    // Push log lines in small bursts (the readers read between them) until the server gives up on the stuck one.
    // Its kernel buffers take a few MB first; the cap only keeps a broken server from looping forever.
    for (let burst = 0; burst < 2000; burst++) {
      server.logLine(line);
      server.logLine(line);
      bus.publish('fc/status', fcStatus(clock.nowUs(), 'POSCTL', false));
      clock.advanceBy(100_000);
      await new Promise((r) => setTimeout(r, 1));
      if (server.stats.clientsCut > 0) {
        cutAt = burst;
        break;
      }
    }
    assert.ok(cutAt >= 0, 'the non-reading client was never cut off');
    await stuck.drainAndWaitClosed();
    assert.equal(server.stats.clientsCut, 1, 'only the stuck client is cut');
    assert.equal(server.stats.clients, 49);
    assert.ok(server.stats.framesDropped >= 10);
    // Every reader is still connected and receives what comes next.
    const before = readers.map((r) => r.count);
    bus.publish('fc/status', fcStatus(clock.nowUs(), 'OFFBOARD', true));
    clock.advanceBy(100_000);
    await Promise.all(readers.map((r, i) => waitUntil(() => r.count > before[i]!, `reader ${i} receives after the cut`)));
    assert.ok(readers.every((r) => !r.closed));
    const late = await client(url);
    const st = await late.waitFor((f) => f.type === 'status', 'status for a newcomer');
    assert.equal(st.type === 'status' && st.status.fc.mode, 'OFFBOARD');
    late.ws.close();
  } finally {
    for (const r of readers) r.ws.terminate();
    await server.close();
  }
});

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_r, rej) => (timer = setTimeout(() => rej(new Error(`timed out: ${what}`)), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}

async function waitUntil(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out: ${what}`);
}
