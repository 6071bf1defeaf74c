import net from 'node:net';
import { formatDelay, type BackoffPolicy } from './backoff.js';
import { ReconnectingTransport } from './reconnecting.js';

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
export class TcpTransport extends ReconnectingTransport<net.Socket> {
  readonly name: string;

  constructor(private readonly options: TcpOptions) {
    super(options.reconnect);
    this.name = `tcp:${options.host}:${options.port}`;
  }

  protected destroy(socket: net.Socket): Promise<void> {
    return new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      socket.destroy();
    });
  }

  protected open(settled?: () => void): void {
    if (this.closed) return settled?.();
    const socket = net.connect({ host: this.options.host, port: this.options.port });
    this.stream = socket;
    let failure: string | null = null;
    socket.setNoDelay(true); // setpoints are small and latency matters more than packing
    socket.setTimeout((this.options.connectTimeoutS ?? 3) * 1000, () => {
      failure = 'connection timed out';
      socket.destroy();
    });
    socket.once('connect', () => {
      socket.setTimeout(0);
      this.opened(`connected to ${this.options.host}:${this.options.port}`);
      settled?.();
    });
    socket.on('data', (chunk: Buffer) => this.emitData(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      failure = err.code ?? err.message;
    });
    socket.once('close', () => {
      if (this.stream !== socket) return; // closed by us
      const wasConnected = this.connected;
      this.connected = false;
      this.stream = null;
      if (this.closed) return;
      const delay = this.retry.schedule(() => this.open());
      const what = wasConnected ? `connection lost${failure ? ` (${failure})` : ''}` : `cannot connect: ${failure ?? 'closed'}`;
      this.emitStatus(false, `tcp ${this.options.host}:${this.options.port}: ${what}; retrying in ${formatDelay(delay)}`);
      settled?.();
    });
  }
}
