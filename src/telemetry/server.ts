import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createHash, timingSafeEqual } from 'node:crypto';
import { cpus } from 'node:os';
import { Writable } from 'node:stream';
import { WebSocketServer, WebSocket } from 'ws';
import type { Clock, Timer } from '../core/clock.js';
import type { TelemetryConfig } from '../core/config/telemetry.js';
import { isLoopbackHost } from '../core/config/telemetry.js';
import { ConfigError, LinkError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { TELEMETRY_PROTOCOL, type TelemetryEvent, type TelemetryFrame } from './protocol.js';
import { StatusBuilder } from './status-builder.js';
import { startTegrastats } from './tegrastats.js';

/** The one thing the server needs of the bus: every message (TopicBus satisfies it). */
export interface BusTap {
  subscribeAll(handler: (topic: string, msg: unknown) => void): () => void;
}

export interface TelemetryServerOptions {
  bus: BusTap;
  config: TelemetryConfig;
  clock: Clock;
  log: Logger;
  /** Sample CPU load and tegrastats (off in tests: they read the machine). Default true. */
  sampleSystem?: boolean;
}

interface Client {
  ws: WebSocket;
  peer: string;
  dropsInRow: number;
  dropped: number;
}

export interface TelemetryServerStats {
  clients: number;
  accepted: number;
  refused: number;
  framesSent: number;
  framesDropped: number;
  /** Clients cut off for reading too slowly, not answering pings, or writing to a read-only stream. */
  clientsCut: number;
}

/**
 * The live telemetry server: a WebSocket (package `ws`) streaming, read-only, a status at `statusRateHz`, events
 * and log lines. It is an edge: the bus handlers only feed the status builder and queue events; frames leave from a
 * timer or an immediate, never inside a publish, so a control-loop publish costs the same with 0 or 50 clients.
 *
 * Hostile or slow clients: a wrong or missing token is refused at the HTTP upgrade (401); messages from a client
 * are limited to 1 KiB by ws and any message at all closes it (the stream is read-only); per client, frames are
 * dropped while more than `dropAboveBytes` wait in its socket, and the client is cut after `closeAfterDrops`
 * drops in a row, past `closeAboveBytes` queued, or when a ping goes unanswered for 5 s.
 */
export class TelemetryServer {
  readonly stats: TelemetryServerStats = { clients: 0, accepted: 0, refused: 0, framesSent: 0, framesDropped: 0, clientsCut: 0 };
  private readonly builder = new StatusBuilder();
  private readonly clients = new Set<Client>();
  private readonly alive = new WeakSet<WebSocket>();
  private http: Server | null = null;
  private wss: WebSocketServer | null = null;
  private timers: Timer[] = [];
  private unsubscribe: (() => void) | null = null;
  private pending: TelemetryFrame[] = [];
  private flushScheduled = false;
  private tegra: { stop: () => void } | null = null;
  private lastCpu: { idle: number; total: number } | null = null;
  private readonly tokenHash: Buffer | null;

  constructor(private readonly opts: TelemetryServerOptions) {
    const { config } = opts;
    if (!isLoopbackHost(config.host) && !config.token) {
      // The schema says so too; this guards a config built in code.
      throw new ConfigError(`a token is required to bind to ${config.host}`, 'telemetry.token');
    }
    this.tokenHash = config.token ? sha256(config.token) : null;
  }

  async start(): Promise<{ host: string; port: number; url: string }> {
    const { config, bus, clock, log } = this.opts;
    const http = createServer((_req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain' }).end('racepilot telemetry: connect with a WebSocket\n');
    });
    // A peer that opens a TCP connection and never finishes its request is dropped quickly.
    http.headersTimeout = 5000;
    http.requestTimeout = 5000;
    http.on('clientError', (_err, socket) => socket.destroy());
    const wss = new WebSocketServer({ noServer: true, maxPayload: 1024, perMessageDeflate: false });
    http.on('upgrade', (req, socket: Socket, head) => this.upgrade(wss, req, socket, head));
    await new Promise<void>((resolve, reject) => {
      http.once('error', (err: NodeJS.ErrnoException) =>
        reject(new LinkError(`cannot listen (${err.code ?? err.message})`, `telemetry ${config.host}:${config.port}`, { cause: err })),
      );
      http.listen(config.port, config.host, () => resolve());
    });
    http.on('error', (err) => log.error({ err }, 'telemetry server error'));
    this.http = http;
    this.wss = wss;

    this.unsubscribe = bus.subscribeAll((topic, msg) => {
      const ev = this.builder.observe(String(topic), msg);
      // Events cost nothing until someone listens.
      if (ev && this.clients.size > 0) this.queue({ type: 'event', event: ev });
    });
    const periodUs = Math.round(1e6 / config.statusRateHz);
    this.timers.push(clock.every(periodUs, () => this.sendStatus()));
    this.timers.push(clock.every(5_000_000, () => this.ping()));
    if (this.opts.sampleSystem !== false) {
      this.timers.push(clock.every(1_000_000, () => this.sampleCpu()));
      if (config.tegrastats) {
        this.tegra = startTegrastats((s) => this.builder.setSystem({ gpuLoad: s.gpuLoad, temperaturesC: s.temperaturesC }), {
          onError: (err) => log.debug({ err: err.message }, 'tegrastats unavailable (not a Jetson?)'),
        });
      }
    }
    const addr = http.address() as AddressInfo;
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    const url = `ws://${host}:${addr.port}/`;
    log.info({ url, token: this.tokenHash ? 'required' : 'none' }, 'telemetry server listening');
    return { host: addr.address, port: addr.port, url };
  }

  /** Streams a log line to clients (e.g. from a pino destination); dropped when nobody listens. */
  logLine(line: Record<string, unknown>): void {
    if (this.clients.size === 0) return;
    this.queue({ type: 'log', line });
  }

  /** A Writable that takes pino's JSON lines (for pino.multistream), forwarding them as `log` frames. */
  logStream(): Writable {
    return new Writable({
      write: (chunk: Buffer | string, _enc, cb) => {
        if (this.clients.size > 0) {
          for (const text of String(chunk).split('\n')) {
            if (!text) continue;
            try {
              this.logLine(JSON.parse(text) as Record<string, unknown>);
            } catch {
              this.logLine({ msg: text.slice(0, 1000) });
            }
          }
        }
        cb();
      },
    });
  }

  async close(): Promise<void> {
    for (const t of this.timers) t.cancel();
    this.timers = [];
    this.unsubscribe?.();
    this.tegra?.stop();
    for (const c of this.clients) c.ws.terminate();
    this.clients.clear();
    this.wss?.close();
    await new Promise<void>((resolve) => (this.http ? this.http.close(() => resolve()) : resolve()));
    this.http = null;
  }

  private upgrade(wss: WebSocketServer, req: IncomingMessage, socket: Socket, head: Buffer): void {
    const peer = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
    socket.on('error', () => socket.destroy());
    const refuse = (code: number, reason: string) => {
      this.stats.refused++;
      this.opts.log.warn({ peer, reason }, 'telemetry client refused');
      socket.end(`HTTP/1.1 ${code} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${reason.length + 1}\r\n\r\n${reason}\n`);
    };
    if (!this.tokenOk(req)) return refuse(401, 'Unauthorized');
    if (this.clients.size >= this.opts.config.maxClients) return refuse(503, 'Too many clients');
    wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, peer));
  }

  private tokenOk(req: IncomingMessage): boolean {
    if (!this.tokenHash) return true;
    const url = new URL(req.url ?? '/', 'ws://x');
    const auth = req.headers.authorization;
    const given = url.searchParams.get('token') ?? (auth?.startsWith('Bearer ') ? auth.slice(7) : null);
    // Compare digests: constant time whatever the length of what was given.
    return given !== null && timingSafeEqual(sha256(given), this.tokenHash);
  }

  private accept(ws: WebSocket, peer: string): void {
    const client: Client = { ws, peer, dropsInRow: 0, dropped: 0 };
    this.clients.add(client);
    this.alive.add(ws);
    this.stats.accepted++;
    this.stats.clients = this.clients.size;
    this.opts.log.info({ peer }, 'telemetry client connected');
    ws.on('pong', () => this.alive.add(ws));
    ws.on('message', () => this.cut(client, 'wrote to a read-only stream'));
    ws.on('error', () => ws.terminate());
    ws.on('close', () => {
      this.clients.delete(client);
      this.stats.clients = this.clients.size;
    });
    this.sendTo(client, JSON.stringify({ type: 'hello', protocol: TELEMETRY_PROTOCOL, statusRateHz: this.opts.config.statusRateHz } satisfies TelemetryFrame));
    this.sendTo(client, this.statusText());
  }

  private statusText(): string {
    const status = this.builder.snapshot(this.opts.clock.nowUs(), {
      clients: this.clients.size,
      framesDropped: this.stats.framesDropped,
      clientsCut: this.stats.clientsCut,
    });
    return JSON.stringify({ type: 'status', status } satisfies TelemetryFrame);
  }

  private sendStatus(): void {
    if (this.clients.size === 0) return;
    this.broadcast(this.statusText());
  }

  private queue(frame: TelemetryFrame): void {
    this.pending.push(frame);
    // Bounded: if the event loop cannot even flush, old events go (and are counted) rather than memory.
    if (this.pending.length > 1000) {
      this.pending.shift();
      this.stats.framesDropped++;
    }
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    const frames = this.pending;
    this.pending = [];
    for (const f of frames) this.broadcast(JSON.stringify(f));
  }

  private broadcast(text: string): void {
    for (const c of this.clients) this.sendTo(c, text);
  }

  private sendTo(c: Client, text: string): void {
    if (c.ws.readyState !== WebSocket.OPEN) return;
    const { dropAboveBytes, closeAboveBytes, closeAfterDrops } = this.opts.config;
    const queued = c.ws.bufferedAmount;
    if (queued > closeAboveBytes) return this.cut(c, `${queued} bytes unread`);
    if (queued > dropAboveBytes) {
      c.dropsInRow++;
      c.dropped++;
      this.stats.framesDropped++;
      if (c.dropsInRow >= closeAfterDrops) this.cut(c, `${c.dropsInRow} frames dropped in a row`);
      return;
    }
    if (c.dropsInRow > 0) {
      const note: TelemetryFrame = { type: 'notice', message: `${c.dropsInRow} frames dropped: reading too slowly` };
      c.dropsInRow = 0;
      c.ws.send(JSON.stringify(note));
    }
    c.ws.send(text);
    this.stats.framesSent++;
  }

  private cut(c: Client, reason: string): void {
    if (!this.clients.has(c)) return;
    this.clients.delete(c);
    this.stats.clients = this.clients.size;
    this.stats.clientsCut++;
    this.opts.log.warn({ peer: c.peer, reason }, 'telemetry client cut off');
    // terminate(), not close(): a close handshake would queue behind the very bytes it is not reading.
    c.ws.terminate();
  }

  private ping(): void {
    for (const c of this.clients) {
      if (!this.alive.has(c.ws)) {
        this.cut(c, 'no pong within 5 s');
        continue;
      }
      this.alive.delete(c.ws);
      c.ws.ping();
    }
  }

  private sampleCpu(): void {
    let idle = 0;
    let total = 0;
    for (const c of cpus()) {
      idle += c.times.idle;
      total += c.times.idle + c.times.user + c.times.nice + c.times.sys + c.times.irq;
    }
    if (this.lastCpu && total > this.lastCpu.total) {
      const load = 1 - (idle - this.lastCpu.idle) / (total - this.lastCpu.total);
      this.builder.setSystem({ cpuLoad: Math.round(load * 1000) / 1000 });
    }
    this.lastCpu = { idle, total };
  }
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

export type { TelemetryEvent };
