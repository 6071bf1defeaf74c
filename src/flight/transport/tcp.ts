import net from 'node:net';
import { RetrySchedule, formatDelay, type BackoffPolicy } from './backoff.js';
import { TransportBase } from './transport.js';

export interface TcpOptions {
  host: string;
  port: number;
  reconnect: BackoffPolicy;
  /** Give up on one connection attempt after this long (s); default 3. A silent host otherwise takes minutes. */
  connectTimeoutS?: number;
}

/**
 * MAVLink over a TCP client connection (ArduPilot SITL's 5760, a telemetry bridge). A refused or dropped connection
 * is reported and retried with backoff for as long as the transport is open; start() resolves once the first
 * attempt has connected or failed, so the caller's first status is a real one.
 */
export class TcpTransport extends TransportBase {
  readonly name: string;
  private socket: net.Socket | null = null;
  private connected = false;
  private closed = false;
  private everConnected = false;
  private readonly retry: RetrySchedule;

  constructor(private readonly options: TcpOptions) {
    super();
    this.name = `tcp:${options.host}:${options.port}`;
    this.retry = new RetrySchedule(options.reconnect);
  }

  start(): Promise<void> {
    if (this.socket || this.retry.pending || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.connect(resolve));
  }

  send(bytes: Uint8Array): void {
    if (!this.connected || !this.socket) {
      this.stats.bytesDropped += bytes.length;
      return;
    }
    this.stats.bytesOut += bytes.length;
    this.socket.write(bytes);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.retry.cancel();
    const socket = this.socket;
    this.socket = null;
    this.connected = false;
    if (socket) {
      await new Promise<void>((resolve) => {
        socket.once('close', () => resolve());
        socket.destroy();
      });
    }
    this.emitStatus(false, 'closed');
  }

  private connect(settled?: () => void): void {
    if (this.closed) return settled?.();
    const socket = net.connect({ host: this.options.host, port: this.options.port });
    this.socket = socket;
    let failure: string | null = null;
    socket.setNoDelay(true); // setpoints are small and latency matters more than packing
    socket.setTimeout((this.options.connectTimeoutS ?? 3) * 1000, () => {
      failure = 'connection timed out';
      socket.destroy();
    });
    socket.once('connect', () => {
      socket.setTimeout(0);
      this.connected = true;
      if (this.everConnected) this.stats.reconnects++;
      this.everConnected = true;
      this.retry.reset();
      this.emitStatus(true, `connected to ${this.options.host}:${this.options.port}`);
      settled?.();
    });
    socket.on('data', (chunk: Buffer) => this.emitData(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      failure = err.code ?? err.message;
    });
    socket.once('close', () => {
      if (this.socket !== socket) return; // closed by us
      const wasConnected = this.connected;
      this.connected = false;
      this.socket = null;
      if (this.closed) return;
      const delay = this.retry.schedule(() => this.connect());
      const what = wasConnected ? `connection lost${failure ? ` (${failure})` : ''}` : `cannot connect: ${failure ?? 'closed'}`;
      this.emitStatus(false, `tcp ${this.options.host}:${this.options.port}: ${what}; retrying in ${formatDelay(delay)}`);
      settled?.();
    });
  }
}
