import { WebSocket } from 'ws';
import { RacepilotError, UsageError } from '../core/errors.js';
import { expectPositionals, parseCommandArgs } from './args.js';
import type { TelemetryFrame } from '../telemetry/protocol.js';
import { formatEvent, formatLogLine, formatStatusLine } from '../telemetry/tail-format.js';

const USAGE = `usage: racepilot tail URL [--token T] [--json] [--count N]

Follows a running daemon's telemetry (racepilot run / sim): on a terminal, a live status line with events and log
lines scrolling above it; piped, one JSON object per line (every frame as the server sent it). Reconnects by itself
with backoff (0.5 s doubling to 10 s) when the daemon restarts or the link drops. Ctrl-C ends it.

  URL          ws://HOST:PORT/ of the daemon's telemetry server (config telemetry.host/port)
  --token T    the telemetry token (config telemetry.token; or env RACEPILOT_TELEMETRY_TOKEN)
  --json       JSON lines even on a terminal
  --count N    exit after N status/event/log frames (for scripts)
  --help       this text

Exit codes: 0 done, 77 refused (wrong or missing token), 64 usage.
`;

/** Refused by the server: retrying will not help. EX_NOPERM. */
export class TelemetryRefusedError extends RacepilotError {
  constructor(message: string, where: string) {
    super(message, where, 77);
  }
}

export interface TailOptions {
  url: string;
  token?: string;
  /** 'tty': status line + scrolling events; 'json': JSON lines. */
  format: 'tty' | 'json';
  count?: number;
  /** First reconnect delay and the ceiling of its doubling (ms). */
  backoffMs?: { initial: number; max: number };
  /** Terminal width for the status line. */
  columns?: number;
  /** Ends the tail (Ctrl-C); resolves with 0. */
  signal?: AbortSignal;
}

export interface TailOutput {
  write(s: string): unknown;
}

/**
 * The tail loop: connect, print frames, reconnect with backoff on any drop; a 401/403 rejects with
 * TelemetryRefusedError at once, since the token will not get better by retrying.
 */
export async function tail(o: TailOptions, out: TailOutput): Promise<number> {
  const backoff = o.backoffMs ?? { initial: 500, max: 10_000 };
  let delay = backoff.initial;
  let seen = 0;
  let statusLine = '';
  const width = Math.max(20, (o.columns ?? 120) - 1);
  const tty = o.format === 'tty';
  const scroll = (line: string) => {
    // Clear the status line, print the event, redraw the status under it.
    if (tty) out.write(`\r\x1b[2K${line}\n${statusLine}`);
    else out.write(line + '\n');
  };

  const connectOnce = () =>
    new Promise<'closed' | 'done' | 'aborted'>((resolve, reject) => {
      const headers: Record<string, string> = o.token ? { authorization: `Bearer ${o.token}` } : {};
      const ws = new WebSocket(o.url, { headers, handshakeTimeout: 5000, maxPayload: 16 * 1024 * 1024 });
      let finished = false;
      const finish = (r: 'closed' | 'done' | 'aborted') => {
        if (finished) return;
        finished = true;
        o.signal?.removeEventListener('abort', onAbort);
        ws.terminate();
        resolve(r);
      };
      const onAbort = () => finish('aborted');
      o.signal?.addEventListener('abort', onAbort);
      ws.on('unexpected-response', (_req, res) => {
        finished = true;
        o.signal?.removeEventListener('abort', onAbort);
        ws.terminate();
        if (res.statusCode === 401 || res.statusCode === 403) {
          reject(new TelemetryRefusedError(`refused (HTTP ${res.statusCode}): wrong or missing token; pass --token`, o.url));
        } else {
          if (tty) out.write(`\r\x1b[2K[tail] server answered HTTP ${res.statusCode}; retrying\n`);
          resolve('closed');
        }
      });
      ws.on('open', () => {
        delay = backoff.initial;
        if (tty) scroll(`[tail] connected to ${o.url}`);
      });
      ws.on('message', (data: Buffer) => {
        let f: TelemetryFrame;
        try {
          f = JSON.parse(data.toString()) as TelemetryFrame;
        } catch {
          return; // not ours; a later frame will do
        }
        if (!tty) {
          if (f.type !== 'hello') out.write(JSON.stringify(f) + '\n');
        } else if (f.type === 'status') {
          statusLine = formatStatusLine(f.status).slice(0, width);
          out.write(`\r\x1b[2K${statusLine}`);
        } else if (f.type === 'event') scroll(formatEvent(f.event));
        else if (f.type === 'log') scroll(formatLogLine(f.line));
        else if (f.type === 'notice') scroll(`[server] ${f.message}`);
        if (f.type !== 'hello' && f.type !== 'notice') {
          seen++;
          if (o.count !== undefined && seen >= o.count) finish('done');
        }
      });
      ws.on('error', () => {}); // 'close' follows; the reason is shown by the reconnect line
      ws.on('close', () => finish('closed'));
    });

  for (;;) {
    const r = await connectOnce();
    if (r === 'done' || r === 'aborted') {
      if (tty) out.write('\n');
      return 0;
    }
    if (tty) scroll(`[tail] disconnected; reconnecting in ${(delay / 1000).toFixed(1)} s`);
    const aborted = await sleep(delay, o.signal);
    if (aborted) {
      if (tty) out.write('\n');
      return 0;
    }
    delay = Math.min(backoff.max, delay * 2);
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(true);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(true);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(false);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(argv, { token: { type: 'string' }, json: { type: 'boolean', default: false }, count: { type: 'string' } }, USAGE, true);
  if (!parsed) return 0;
  const { values, positionals } = parsed;
  expectPositionals(positionals, 1, 'URL', USAGE);
  const url = positionals[0]!;
  let parsedUrl: URL;
  try {
    parsedUrl = new URL(url);
  } catch {
    throw new UsageError(`not a URL: "${url}" (expected ws://HOST:PORT/)`);
  }
  if (parsedUrl.protocol !== 'ws:' && parsedUrl.protocol !== 'wss:') throw new UsageError(`expected a ws:// or wss:// URL, got "${url}"`);
  let count: number | undefined;
  if (values.count !== undefined) {
    count = Number(values.count);
    if (!Number.isInteger(count) || count < 1) throw new UsageError(`--count: expected a positive integer, got "${values.count}"`);
  }
  const ac = new AbortController();
  const onSigint = () => ac.abort();
  process.once('SIGINT', onSigint);
  process.once('SIGTERM', onSigint);
  try {
    return await tail(
      {
        url,
        token: values.token ?? process.env.RACEPILOT_TELEMETRY_TOKEN,
        format: values.json || !process.stdout.isTTY ? 'json' : 'tty',
        count,
        columns: process.stdout.columns,
        signal: ac.signal,
      },
      process.stdout,
    );
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
}
