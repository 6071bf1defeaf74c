import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { SerialPortMock } from 'serialport';
import { LinkError } from '../../src/core/errors.js';
import { backoffDelayS } from '../../src/flight/transport/backoff.js';
import { createTransport } from '../../src/flight/transport/create.js';
import { createMemoryPair } from '../../src/flight/transport/memory.js';
import { SerialTransport, type SerialPortLike } from '../../src/flight/transport/serial.js';
import { TcpTransport } from '../../src/flight/transport/tcp.js';
import type { ByteTransport, TransportStatus } from '../../src/flight/transport/transport.js';
import { UdpTransport } from '../../src/flight/transport/udp.js';

const FAST = { initialS: 0.02, maxS: 0.1 };

/** Resolves with the first status matching `pred` (including the current one), or rejects after `ms`. */
function statusWhere(t: ByteTransport, pred: (s: TransportStatus) => boolean, ms = 5000): Promise<TransportStatus> {
  return new Promise((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => !done && reject(new Error(`${t.name}: no matching status within ${ms} ms`)), ms);
    t.onStatus((s) => {
      if (done || !pred(s)) return;
      done = true;
      clearTimeout(timer);
      resolve(s);
    });
  });
}

function nextData(t: ByteTransport, ms = 5000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => !done && reject(new Error(`${t.name}: no data within ${ms} ms`)), ms);
    t.onData((chunk) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(chunk);
    });
  });
}

test('backoff: exponential from initialS, capped at maxS, sane for odd inputs', () => {
  const policy = { initialS: 0.5, maxS: 5 };
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6].map((n) => backoffDelayS(n, policy)), [0.5, 1, 2, 4, 5, 5, 5]);
  assert.equal(backoffDelayS(10_000, policy), 5, 'a long outage does not overflow');
  assert.equal(backoffDelayS(-3, policy), 0.5);
  assert.equal(backoffDelayS(2, { initialS: 1, maxS: 100, factor: 3 }), 9);
  assert.equal(backoffDelayS(5, { initialS: 2, maxS: 1 }), 2, 'maxS below initialS: initialS wins');
  assert.equal(backoffDelayS(5, { initialS: 0, maxS: 1 }), 0);
});

test('memory pair: bytes cross in order, a cut link drops and counts them', async () => {
  const { a, b, setLinkUp } = createMemoryPair();
  await a.start();
  await b.start();
  const got: Buffer[] = [];
  b.onData((c) => got.push(c));
  a.send(Uint8Array.of(1, 2));
  a.send(Uint8Array.of(3));
  assert.equal(got.length, 0, 'delivery is asynchronous by default');
  await Promise.resolve();
  assert.deepEqual(Buffer.concat(got), Buffer.from([1, 2, 3]));
  const statuses: boolean[] = [];
  a.onStatus((s) => statuses.push(s.connected));
  setLinkUp(false);
  a.send(Uint8Array.of(4, 5, 6));
  await Promise.resolve();
  assert.equal(got.length, 2);
  assert.deepEqual(a.stats, { bytesIn: 0, bytesOut: 3, bytesDropped: 3, reconnects: 0 });
  setLinkUp(true);
  assert.deepEqual(statuses, [true, false, true]);
  const sync = createMemoryPair({ delivery: 'sync' });
  await sync.a.start();
  await sync.b.start();
  let n = 0;
  sync.b.onData((c) => (n += c.length));
  sync.a.send(Uint8Array.of(9));
  assert.equal(n, 1);
  assert.equal(sync.b.stats.bytesIn, 1);
});

test('UDP: learns the peer from what arrives, replies to where the autopilot last sent from, counts bytes', async () => {
  const link = new UdpTransport({ bindHost: '127.0.0.1', bindPort: 0 });
  await link.start();
  const port = link.localAddress()!.port;
  const fc1 = dgram.createSocket('udp4');
  const fc2 = dgram.createSocket('udp4');
  await new Promise<void>((r) => fc1.bind(0, '127.0.0.1', r));
  await new Promise<void>((r) => fc2.bind(0, '127.0.0.1', r));
  try {
    link.send(Uint8Array.of(0xaa)); // nobody to send to yet
    assert.equal(link.stats.bytesDropped, 1);
    assert.equal(link.currentPeer(), null);

    const arrived = nextData(link);
    fc1.send(Buffer.from('hello'), port, '127.0.0.1');
    assert.deepEqual(await arrived, Buffer.from('hello'));
    assert.deepEqual(link.currentPeer(), { host: '127.0.0.1', port: fc1.address().port });
    const reply = new Promise<Buffer>((r) => fc1.once('message', (m) => r(m)));
    link.send(Buffer.from('ack1'));
    assert.deepEqual(await reply, Buffer.from('ack1'));

    // The autopilot comes back from another port (a reboot): replies follow it.
    const moved = statusWhere(link, (s) => /peer moved/.test(s.reason));
    fc2.send(Buffer.from('again'), port, '127.0.0.1');
    await moved;
    const reply2 = new Promise<Buffer>((r) => fc2.once('message', (m) => r(m)));
    link.send(Buffer.from('ack2'));
    assert.deepEqual(await reply2, Buffer.from('ack2'));
    assert.equal(link.stats.bytesIn, 10);
    assert.equal(link.stats.bytesOut, 8);
  } finally {
    fc1.close();
    fc2.close();
    await link.close();
  }
});

test('UDP: a fixed peer gets bytes before anything arrives; a port in use is a LinkError', async () => {
  const fc = dgram.createSocket('udp4');
  await new Promise<void>((r) => fc.bind(0, '127.0.0.1', r));
  const link = new UdpTransport({ bindHost: '127.0.0.1', peerHost: '127.0.0.1', peerPort: fc.address().port });
  try {
    await link.start();
    const got = new Promise<Buffer>((r) => fc.once('message', (m) => r(m)));
    link.send(Buffer.from('setpoint'));
    assert.deepEqual(await got, Buffer.from('setpoint'));
    const clash = new UdpTransport({ bindHost: '127.0.0.1', bindPort: fc.address().port });
    await assert.rejects(clash.start(), (e: unknown) => e instanceof LinkError && /EADDRINUSE/.test(e.message) && e.message.includes(String(fc.address().port)));
  } finally {
    fc.close();
    await link.close();
  }
});

/** A TCP server that echoes and can be stopped and started again on the same port. */
async function echoServer(port = 0): Promise<{ server: net.Server; port: number; stop: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('data', (d) => s.write(d));
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    server,
    port: (server.address() as net.AddressInfo).port,
    stop: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

test('TCP: reconnects with backoff after the server restarts', async () => {
  const first = await echoServer();
  const link = new TcpTransport({ host: '127.0.0.1', port: first.port, reconnect: FAST });
  try {
    await link.start();
    assert.equal(link.status?.connected, true);
    const echo = nextData(link);
    link.send(Buffer.from('ping'));
    assert.deepEqual(await echo, Buffer.from('ping'));

    const lost = statusWhere(link, (s) => !s.connected);
    await first.stop();
    assert.match((await lost).reason, /connection lost.*retrying in/);
    link.send(Buffer.from('into the void'));
    assert.equal(link.stats.bytesDropped, 13);

    const back = statusWhere(link, (s) => s.connected);
    const second = await echoServer(first.port);
    try {
      await back;
      assert.equal(link.stats.reconnects, 1);
      const echo2 = nextData(link);
      link.send(Buffer.from('pong'));
      assert.deepEqual(await echo2, Buffer.from('pong'));
    } finally {
      await link.close();
      await second.stop();
    }
  } finally {
    await link.close();
  }
});

test('TCP: a refused connection is reported with the peer and retried, not thrown', async () => {
  const probe = await echoServer();
  await probe.stop(); // a port nobody listens on now
  const link = new TcpTransport({ host: '127.0.0.1', port: probe.port, reconnect: FAST });
  try {
    await link.start();
    assert.equal(link.status?.connected, false);
    assert.match(link.status!.reason, new RegExp(`tcp 127.0.0.1:${probe.port}: cannot connect: ECONNREFUSED; retrying in 0.0 s`));
    await statusWhere(link, (s) => /retrying in 0\.1 s/.test(s.reason)); // the delays grow to the cap
  } finally {
    await link.close();
  }
});

test('serial: a missing device is reported with its name and retried with backoff, never thrown', async () => {
  const path = '/dev/racepilot-does-not-exist';
  const link = new SerialTransport({ path, baudRate: 921600, reconnect: FAST });
  const seen: string[] = [];
  link.onStatus((s) => seen.push(s.reason));
  try {
    await link.start();
    assert.equal(link.status?.connected, false);
    assert.equal(link.status?.reason, `serial ${path}: no such device; retrying in 0.0 s`);
    await statusWhere(link, () => seen.length >= 5); // 0.02, 0.04, 0.08, 0.1, 0.1 s: still trying
    assert.ok(seen.every((r) => r.startsWith(`serial ${path}: no such device; retrying in`)), seen.join('\n'));
    link.send(Uint8Array.of(1, 2, 3));
    assert.equal(link.stats.bytesDropped, 3);
  } finally {
    await link.close();
  }
  assert.equal(link.status?.reason, 'closed');
});

test('serial: bytes in and out through serialport (mock binding), and a device that appears late is picked up', async () => {
  const path = '/dev/racepilot-mock-fc';
  SerialPortMock.binding.reset();
  const ports: SerialPortMock[] = [];
  const openPort = (o: { path: string; baudRate: number }) => {
    const p = new SerialPortMock({ ...o, autoOpen: false });
    ports.push(p);
    return p as unknown as SerialPortLike;
  };
  const link = new SerialTransport({ path, baudRate: 57600, reconnect: FAST, openPort });
  try {
    await link.start();
    assert.equal(link.status?.connected, false, 'not plugged in yet');
    SerialPortMock.binding.createPort(path, { record: true });
    await statusWhere(link, (s) => s.connected);
    assert.equal(link.status?.reason, `serial ${path}: open at 57600 baud`);
    const port = ports.at(-1)!;
    const got = nextData(link);
    port.port!.emitData(Buffer.from([0xfd, 0x01]));
    assert.deepEqual(await got, Buffer.from([0xfd, 0x01]));
    link.send(Buffer.from('out'));
    await new Promise((r) => setTimeout(r, 20)); // the mock writes asynchronously
    assert.deepEqual(port.port!.recording, Buffer.from('out'));
    assert.equal(link.stats.bytesIn, 2);
    assert.equal(link.stats.bytesOut, 3);
  } finally {
    await link.close();
    SerialPortMock.binding.reset();
  }
});

test('createTransport builds what the configuration names', () => {
  const reconnect = { initialS: 0.5, maxS: 5 };
  assert.equal(createTransport({ kind: 'serial', path: '/dev/ttyTHS0', baudRate: 921600 }, reconnect).name, 'serial:/dev/ttyTHS0@921600');
  assert.equal(createTransport({ kind: 'udp', bindHost: '0.0.0.0', bindPort: 14540 }, reconnect).name, 'udp:0.0.0.0:14540');
  assert.equal(
    createTransport({ kind: 'udp', bindHost: '127.0.0.1', peerHost: '127.0.0.1', peerPort: 14580 }, reconnect).name,
    'udp:127.0.0.1:0->127.0.0.1:14580',
  );
  assert.ok(createTransport({ kind: 'tcp', host: '10.0.0.2', port: 5760 }, reconnect) instanceof TcpTransport);
});
