import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import type { Clock, Timer } from './clock.js';

/**
 * The systemd notify protocol (sd_notify(3)): READY=1, STATUS=, WATCHDOG=1, STOPPING=1 sent as datagrams to the
 * AF_UNIX socket named by $NOTIFY_SOCKET. Node has no AF_UNIX datagram sockets and native addons are out (npm install
 * scripts do not run on our build machines), so the datagrams leave through a helper process:
 *
 * - `python3` (preferred): one long-lived child that reads JSON lines on stdin and sends each as one datagram. Being
 *   long-lived it stays in the unit's cgroup, so systemd can always attribute its messages to the unit; the
 *   well-known race of `systemd-notify` (the sender exits before systemd looks up its cgroup, and the message is
 *   dropped) cannot happen. python3 is part of every JetPack image; deploy/install-jetson.sh makes sure.
 * - `systemd-notify` (fallback): one short-lived process per message; subject to that race, so a READY may need the
 *   unit's start timeout to notice, and the watchdog has slack (keep-alives at a quarter of WatchdogSec).
 *
 * Either way the sender is not the main PID, hence `NotifyAccess=all` in deploy/racepilot.service.
 */
export interface NotifyTransport {
  readonly name: string;
  /** One sd_notify message: newline-separated VARIABLE=value assignments. Never throws. */
  send(message: string): void;
  close(): Promise<void>;
}

export type NotifyErrorHandler = (err: Error) => void;

/** Sends JSON lines to a python3 child that turns each into one datagram on the notify socket. */
const PY_HELPER = String.raw`
import json, os, socket, sys
addr = os.environ["NOTIFY_SOCKET"]
if addr.startswith("@"):
    addr = "\0" + addr[1:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
for line in sys.stdin:
    try:
        s.sendto(json.loads(line).encode("utf-8"), addr)
    except Exception as e:
        sys.stderr.write("sd-notify: %s\n" % e)
        sys.stderr.flush()
`;

export class PythonNotifyTransport implements NotifyTransport {
  readonly name: string;
  private readonly child: ChildProcess;
  private dead = false;

  constructor(socketPath: string, onError: NotifyErrorHandler, python = 'python3') {
    this.name = `python3→${socketPath}`;
    this.child = spawn(python, ['-u', '-c', PY_HELPER], {
      env: { ...process.env, NOTIFY_SOCKET: socketPath },
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    this.child.on('error', (err) => {
      this.dead = true;
      onError(new Error(`sd-notify helper ${python}: ${err.message}`));
    });
    this.child.on('exit', (code, signal) => {
      this.dead = true;
      if (code !== 0) onError(new Error(`sd-notify helper ${python} exited (${signal ?? code})`));
    });
    this.child.stderr?.setEncoding('utf8').on('data', (d: string) => onError(new Error(d.trim())));
    // A broken pipe after the helper died must not crash the daemon: the exit handler has reported it.
    this.child.stdin?.on('error', () => {});
    // The helper must never keep the daemon alive on its own at exit.
    this.child.unref();
    (this.child.stdin as unknown as { unref?: () => void })?.unref?.();
    (this.child.stderr as unknown as { unref?: () => void })?.unref?.();
  }

  send(message: string): void {
    if (this.dead || !this.child.stdin?.writable) return;
    this.child.stdin.write(JSON.stringify(message) + '\n');
  }

  close(): Promise<void> {
    if (this.dead) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.stdin?.end();
    });
  }
}

export class SystemdNotifyCommandTransport implements NotifyTransport {
  readonly name = 'systemd-notify';
  constructor(
    private readonly socketPath: string,
    private readonly onError: NotifyErrorHandler,
  ) {}

  send(message: string): void {
    const child = spawn('systemd-notify', message.split('\n').filter(Boolean), {
      env: { ...process.env, NOTIFY_SOCKET: this.socketPath },
      stdio: 'ignore',
    });
    child.on('error', (err) => this.onError(new Error(`systemd-notify: ${err.message}`)));
    child.unref();
  }

  async close(): Promise<void> {}
}

/** What the environment systemd gives a Type=notify service says (sd_watchdog_enabled(3)). */
export interface NotifyEnv {
  socketPath: string | null;
  /** Keep-alives are expected within this (µs), or null: no watchdog for this process. */
  watchdogUs: number | null;
}

export function readNotifyEnv(env: NodeJS.ProcessEnv = process.env, pid = process.pid): NotifyEnv {
  const socketPath = env.NOTIFY_SOCKET && env.NOTIFY_SOCKET.length > 0 ? env.NOTIFY_SOCKET : null;
  let watchdogUs: number | null = null;
  const usec = Number(env.WATCHDOG_USEC);
  const wdPid = env.WATCHDOG_PID === undefined ? null : Number(env.WATCHDOG_PID);
  if (Number.isFinite(usec) && usec > 0 && (wdPid === null || wdPid === pid)) watchdogUs = usec;
  return { socketPath, watchdogUs };
}

/** Picks the helper that works here: python3 if it runs, else systemd-notify, else none (reported). */
export function createNotifyTransport(socketPath: string, onError: NotifyErrorHandler): NotifyTransport | null {
  if (spawnSync('python3', ['-c', 'import socket'], { stdio: 'ignore' }).status === 0) {
    return new PythonNotifyTransport(socketPath, onError);
  }
  if (spawnSync('systemd-notify', ['--help'], { stdio: 'ignore' }).status === 0) {
    return new SystemdNotifyCommandTransport(socketPath, onError);
  }
  onError(new Error(`NOTIFY_SOCKET is set (${socketPath}) but neither python3 nor systemd-notify can be run: systemd will not see READY`));
  return null;
}

/** The daemon's side of the protocol. Without a transport (not started by systemd) every call does nothing. */
export class SdNotifier {
  private readySent = false;

  constructor(private readonly transport: NotifyTransport | null) {}

  /**
   * Reads $NOTIFY_SOCKET/$WATCHDOG_USEC and removes them from `env` (as sd_notify's unset_environment does): with
   * NotifyAccess=all, a child such as gst-launch must not inherit the right to speak for the daemon. The helper
   * is given the socket explicitly.
   */
  static fromEnv(onError: NotifyErrorHandler, env: NodeJS.ProcessEnv = process.env): { notifier: SdNotifier; env: NotifyEnv } {
    const ne = readNotifyEnv(env);
    delete env.NOTIFY_SOCKET;
    delete env.WATCHDOG_USEC;
    delete env.WATCHDOG_PID;
    const transport = ne.socketPath ? createNotifyTransport(ne.socketPath, onError) : null;
    return { notifier: new SdNotifier(transport), env: ne };
  }

  get active(): boolean {
    return this.transport !== null;
  }

  get isReady(): boolean {
    return this.readySent;
  }

  ready(status?: string): void {
    this.readySent = true;
    this.transport?.send(status ? `READY=1\nSTATUS=${oneLine(status)}` : 'READY=1');
  }

  status(text: string): void {
    this.transport?.send(`STATUS=${oneLine(text)}`);
  }

  watchdog(): void {
    this.transport?.send('WATCHDOG=1');
  }

  /**
   * Asks for more start (or stop) time: a first TensorRT engine build can take minutes, longer than a start timeout
   * that should catch a daemon that hangs. EXTEND_TIMEOUT_USEC needs systemd 236+ (JetPack 5: 245).
   */
  extendTimeout(us: number, status?: string): void {
    const msg = `EXTEND_TIMEOUT_USEC=${Math.max(0, Math.round(us))}`;
    this.transport?.send(status ? `${msg}\nSTATUS=${oneLine(status)}` : msg);
  }

  stopping(status?: string): void {
    this.transport?.send(status ? `STOPPING=1\nSTATUS=${oneLine(status)}` : 'STOPPING=1');
  }

  close(): Promise<void> {
    return this.transport?.close() ?? Promise.resolve();
  }
}

function oneLine(s: string): string {
  return s.replace(/[\r\n]+/g, ' ').slice(0, 400);
}

/** A check that must pass before the daemon says READY (model inference, FC link up, cameras delivering). */
export interface SelfTest {
  name: string;
  /** Resolves when the check passes; rejects with the reason it failed. */
  run: () => Promise<void>;
}

export interface SelfTestResult {
  ok: boolean;
  failed: { name: string; reason: string }[];
}

/**
 * Runs the self-tests in order, reporting progress as STATUS=, and sends READY=1 only when every one passed. On a
 * failure there is no READY: the caller exits non-zero and systemd (Restart=on-failure) tries again.
 */
export async function readyAfterSelfTests(notifier: SdNotifier, tests: SelfTest[]): Promise<SelfTestResult> {
  const failed: SelfTestResult['failed'] = [];
  for (const t of tests) {
    notifier.status(`self-test: ${t.name}`);
    try {
      await t.run();
    } catch (err) {
      failed.push({ name: t.name, reason: (err as Error)?.message ?? String(err) });
    }
  }
  if (failed.length > 0) {
    notifier.status(`self-test failed: ${failed.map((f) => `${f.name}: ${f.reason}`).join('; ')}`);
    return { ok: false, failed };
  }
  notifier.ready(`ready: ${tests.map((t) => t.name).join(', ')} passed`);
  return { ok: true, failed };
}

export interface WatchdogOptions {
  clock: Clock;
  /** WatchdogSec as systemd gives it (WATCHDOG_USEC). */
  watchdogUs: number;
  send: () => void;
  /**
   * How old the control loop's last healthy tick may be for a keep-alive to go out (µs). Default: a quarter of the
   * watchdog, so a loop that stops for that long lets systemd's timer run out.
   */
  maxTickAgeUs?: number;
  /** Keep-alive period; default a quarter of the watchdog (slack for a busy machine and the helper process). */
  periodUs?: number;
}

/**
 * Sends WATCHDOG=1 only while the control loop proves it is alive: the loop calls `tick()` on every healthy cycle,
 * and a keep-alive goes out only if the last tick is recent. A hung or unhealthy loop (the event loop still turning,
 * the setpoint stream not) therefore stops the keep-alives and systemd restarts the daemon; a blocked event loop
 * stops them anyway.
 */
export class Watchdog {
  private lastTickUs: number | null = null;
  private timer: Timer | null = null;
  private readonly maxAgeUs: number;
  private readonly periodUs: number;
  kicks = 0;
  withheld = 0;

  constructor(private readonly opts: WatchdogOptions) {
    if (!(opts.watchdogUs > 0)) throw new RangeError(`watchdog interval must be positive, got ${opts.watchdogUs} µs`);
    this.maxAgeUs = opts.maxTickAgeUs ?? opts.watchdogUs / 4;
    this.periodUs = opts.periodUs ?? opts.watchdogUs / 4;
  }

  start(): void {
    if (this.timer) return;
    this.timer = this.opts.clock.every(this.periodUs, () => this.check());
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = null;
  }

  /** The control loop completed a healthy cycle at tUs. */
  tick(tUs: number = this.opts.clock.nowUs()): void {
    this.lastTickUs = tUs;
  }

  private check(): void {
    const now = this.opts.clock.nowUs();
    if (this.lastTickUs !== null && now - this.lastTickUs <= this.maxAgeUs) {
      this.kicks++;
      this.opts.send();
    } else {
      this.withheld++;
    }
  }
}

/**
 * The daemon's one call: the notifier for $NOTIFY_SOCKET and, when systemd set WatchdogSec for this process, a
 * started Watchdog that sends WATCHDOG=1 while `watchdog.tick()` is called by the control loop. Outside systemd
 * the notifier does nothing and the watchdog is null.
 */
export function systemdFromEnv(opts: {
  clock: Clock;
  onError: NotifyErrorHandler;
  env?: NodeJS.ProcessEnv;
  maxTickAgeUs?: number;
}): { notifier: SdNotifier; watchdog: Watchdog | null } {
  const { notifier, env } = SdNotifier.fromEnv(opts.onError, opts.env ?? process.env);
  if (env.watchdogUs === null || !notifier.active) return { notifier, watchdog: null };
  const watchdog = new Watchdog({
    clock: opts.clock,
    watchdogUs: env.watchdogUs,
    send: () => notifier.watchdog(),
    ...(opts.maxTickAgeUs === undefined ? {} : { maxTickAgeUs: opts.maxTickAgeUs }),
  });
  watchdog.start();
  return { notifier, watchdog };
}
