import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ManualClock } from '../../src/core/clock.js';
import {
  PythonNotifyTransport,
  SdNotifier,
  Watchdog,
  readNotifyEnv,
  readyAfterSelfTests,
  systemdFromEnv,
  type NotifyTransport,
} from '../../src/core/sd-notify.js';

/** Records messages in memory: the protocol logic without sockets. */
class RecordingTransport implements NotifyTransport {
  readonly name = 'memory';
  readonly messages: string[] = [];
  send(m: string): void {
    this.messages.push(m);
  }
  async close(): Promise<void> {}
}

test('readNotifyEnv: socket, watchdog, and a watchdog meant for another pid', () => {
  assert.deepEqual(readNotifyEnv({}, 10), { socketPath: null, watchdogUs: null });
  assert.deepEqual(readNotifyEnv({ NOTIFY_SOCKET: '/run/s', WATCHDOG_USEC: '5000000' }, 10), { socketPath: '/run/s', watchdogUs: 5_000_000 });
  assert.equal(readNotifyEnv({ NOTIFY_SOCKET: '/run/s', WATCHDOG_USEC: '5000000', WATCHDOG_PID: '11' }, 10).watchdogUs, null);
  assert.equal(readNotifyEnv({ NOTIFY_SOCKET: '/run/s', WATCHDOG_USEC: '5000000', WATCHDOG_PID: '10' }, 10).watchdogUs, 5_000_000);
  assert.equal(readNotifyEnv({ WATCHDOG_USEC: 'x' }, 10).watchdogUs, null);
});

test('fromEnv takes the variables out of the environment children inherit', () => {
  const env: NodeJS.ProcessEnv = { WATCHDOG_USEC: '3000000', PATH: '/bin' };
  const { notifier, env: ne } = SdNotifier.fromEnv(() => {}, env);
  assert.equal(notifier.active, false, 'no NOTIFY_SOCKET: not under systemd, nothing to send');
  assert.equal(ne.watchdogUs, 3_000_000);
  assert.deepEqual(env, { PATH: '/bin' });
});

test('READY only after every self-test passed; a failure reports why and sends no READY', async () => {
  const t = new RecordingTransport();
  const n = new SdNotifier(t);
  const failing = await readyAfterSelfTests(n, [
    { name: 'model', run: async () => {} },
    { name: 'fc-link', run: async () => Promise.reject(new Error('no heartbeat in 5 s')) },
  ]);
  assert.equal(failing.ok, false);
  assert.deepEqual(failing.failed, [{ name: 'fc-link', reason: 'no heartbeat in 5 s' }]);
  assert.ok(!t.messages.some((m) => m.includes('READY=1')), 'no READY after a failed self-test');
  assert.match(t.messages.at(-1)!, /^STATUS=self-test failed: fc-link: no heartbeat/);
  assert.equal(n.isReady, false);

  const order: string[] = [];
  const passing = await readyAfterSelfTests(n, [
    { name: 'model', run: async () => void order.push('model') },
    { name: 'cameras', run: async () => void order.push('cameras') },
  ]);
  assert.equal(passing.ok, true);
  assert.deepEqual(order, ['model', 'cameras']);
  assert.match(t.messages.at(-1)!, /^READY=1\nSTATUS=ready/);
  assert.equal(n.isReady, true);
});

test('watchdog: keep-alives while the loop ticks, none once it hangs, again when it recovers', () => {
  const clock = new ManualClock();
  let sent = 0;
  const wd = new Watchdog({ clock, watchdogUs: 2_000_000, send: () => sent++ }); // keep-alive every 0.5 s
  wd.start();
  // Before the first healthy tick: nothing.
  clock.advanceBy(1_000_000);
  assert.equal(sent, 0);
  // A healthy 50 Hz loop for 3 s: one keep-alive per 0.5 s.
  const loop = clock.every(20_000, (t) => wd.tick(t));
  clock.advanceBy(3_000_000);
  assert.equal(sent, 6);
  // The loop hangs (stops ticking) while the event loop still turns: keep-alives stop within one period.
  loop.cancel();
  clock.advanceBy(10_000_000);
  assert.ok(sent <= 7, `at most one keep-alive after the hang, got ${sent - 6}`);
  const afterHang = sent;
  assert.ok(wd.withheld >= 19);
  // It recovers.
  const loop2 = clock.every(20_000, (t) => wd.tick(t));
  clock.advanceBy(1_000_000);
  assert.ok(sent > afterHang);
  loop2.cancel();
  wd.stop();
});

const hasPython = spawnSync('python3', ['-c', 'import socket'], { stdio: 'ignore' }).status === 0;

/** Stands in for systemd: binds an AF_UNIX datagram socket (a path, or @name: abstract) and prints each datagram as a JSON line. */
function fakeSystemd(path: string): { child: ChildProcess; next: () => Promise<string>; ready: Promise<void> } {
  const child = spawn(
    'python3',
    [
      '-u',
      '-c',
      'import json,socket,sys\na=sys.argv[1]\na="\\0"+a[1:] if a.startswith("@") else a\ns=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM)\ns.bind(a)\nprint("BOUND",flush=True)\nwhile True:\n  d=s.recv(4096)\n  print(json.dumps(d.decode()),flush=True)',
      path,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const lines: string[] = [];
  const waiters: ((l: string) => void)[] = [];
  let bound!: () => void;
  const ready = new Promise<void>((r) => (bound = r));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (line === 'BOUND') return bound();
    const msg = JSON.parse(line) as string;
    const w = waiters.shift();
    if (w) w(msg);
    else lines.push(msg);
  });
  const next = () =>
    new Promise<string>((resolve, reject) => {
      const l = lines.shift();
      if (l !== undefined) return resolve(l);
      const timer = setTimeout(() => reject(new Error('no datagram within 10 s')), 10_000);
      waiters.push((m) => {
        clearTimeout(timer);
        resolve(m);
      });
    });
  return { child, next, ready };
}

test('over a real AF_UNIX datagram socket standing in for systemd', { skip: hasPython ? false : 'python3 not installed' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'racepilot-notify-'));
  const sock = join(dir, 'notify');
  const systemd = fakeSystemd(sock);
  try {
    await systemd.ready;
    const errors: Error[] = [];
    const transport = new PythonNotifyTransport(sock, (e) => errors.push(e));
    const n = new SdNotifier(transport);
    const clock = new ManualClock();
    const wd = new Watchdog({ clock, watchdogUs: 4_000_000, send: () => n.watchdog() });
    wd.start();

    // Self-tests first: STATUS lines, then READY with the summary.
    const result = await readyAfterSelfTests(n, [{ name: 'model', run: async () => {} }]);
    assert.equal(result.ok, true);
    assert.equal(await systemd.next(), 'STATUS=self-test: model');
    assert.equal(await systemd.next(), 'READY=1\nSTATUS=ready: model passed');

    // A ticking loop: keep-alives arrive.
    const loop = clock.every(20_000, (t) => wd.tick(t));
    clock.advanceBy(2_000_000); // two keep-alive periods of 1 s
    assert.equal(await systemd.next(), 'WATCHDOG=1');
    assert.equal(await systemd.next(), 'WATCHDOG=1');

    // The loop hangs: no more keep-alives. Datagrams from one sender keep their order, so a sentinel sent after
    // the hang proves nothing was sent in between, without waiting on a timer.
    loop.cancel();
    clock.advanceBy(1_000_000); // one check right at the hang may still see the last tick
    clock.advanceBy(20_000_000);
    n.status('sentinel');
    const seen: string[] = [];
    for (;;) {
      const m = await systemd.next();
      if (m === 'STATUS=sentinel') break;
      seen.push(m);
    }
    assert.ok(seen.filter((m) => m === 'WATCHDOG=1').length <= 1, `keep-alives after the hang: ${JSON.stringify(seen)}`);

    n.stopping('shutting down');
    assert.equal(await systemd.next(), 'STOPPING=1\nSTATUS=shutting down');
    wd.stop();
    await n.close();
    assert.deepEqual(errors, []);
  } finally {
    systemd.child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('systemdFromEnv: notifier and a started watchdog under systemd, neither outside it', { skip: hasPython ? false : 'python3 not installed' }, async () => {
  const outside = systemdFromEnv({ clock: new ManualClock(), onError: () => {}, env: { WATCHDOG_USEC: '3000000' } });
  assert.equal(outside.notifier.active, false);
  assert.equal(outside.watchdog, null);

  const dir = mkdtempSync(join(tmpdir(), 'racepilot-notify-'));
  const sock = join(dir, 'notify');
  const systemd = fakeSystemd(sock);
  try {
    await systemd.ready;
    const clock = new ManualClock();
    const { notifier, watchdog } = systemdFromEnv({ clock, onError: (e) => assert.fail(e), env: { NOTIFY_SOCKET: sock, WATCHDOG_USEC: '3000000' } });
    assert.ok(watchdog);
    watchdog.tick(clock.nowUs());
    clock.advanceBy(750_000); // a quarter of WatchdogSec
    assert.equal(await systemd.next(), 'WATCHDOG=1');
    watchdog.stop();
    await notifier.close();
  } finally {
    systemd.child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an abstract-namespace NOTIFY_SOCKET (@name) works too', { skip: hasPython ? false : 'python3 not installed' }, async () => {
  const name = `@racepilot-test-${process.pid}-${Math.floor(Math.random() * 1e9)}`;
  const systemd = fakeSystemd(name);
  try {
    await systemd.ready;
    const n = new SdNotifier(new PythonNotifyTransport(name, (e) => assert.fail(e)));
    n.ready();
    assert.equal(await systemd.next(), 'READY=1');
    await n.close();
  } finally {
    systemd.child.kill();
  }
});
