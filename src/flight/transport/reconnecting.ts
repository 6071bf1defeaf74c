import { RetrySchedule, type BackoffPolicy } from './backoff.js';
import { TransportBase } from './transport.js';

/** What a reconnecting transport writes to: a serial port or a TCP socket. */
export interface WritableStreamLike {
  write(data: Uint8Array): unknown;
}

/**
 * A byte stream that is opened, may be lost, and is reopened with backoff until the transport is closed (serial and
 * TCP; UDP has no connection to lose). Subclasses open their stream and tear it down; the state around them (open,
 * connected, closed, the retry schedule, reconnect counting, dropping bytes sent while down) lives here once.
 */
export abstract class ReconnectingTransport<S extends WritableStreamLike> extends TransportBase {
  protected stream: S | null = null;
  protected connected = false;
  protected closed = false;
  private everConnected = false;
  protected readonly retry: RetrySchedule;

  constructor(reconnect: BackoffPolicy) {
    super();
    this.retry = new RetrySchedule(reconnect);
  }

  /** Starts one attempt to open the stream; calls `settled` once it has opened or failed (a retry is scheduled). */
  protected abstract open(settled?: () => void): void;
  /** Releases a stream the transport is closing. */
  protected abstract destroy(stream: S): Promise<void>;

  /** Resolves once the first open has succeeded or failed (and a retry is scheduled). */
  start(): Promise<void> {
    if (this.stream || this.retry.pending || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.open(resolve));
  }

  send(bytes: Uint8Array): void {
    if (!this.connected || !this.stream) {
      this.stats.bytesDropped += bytes.length;
      return;
    }
    this.stats.bytesOut += bytes.length;
    this.stream.write(bytes);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.retry.cancel();
    const stream = this.stream;
    this.stream = null;
    this.connected = false;
    if (stream) await this.destroy(stream);
    this.emitStatus(false, 'closed');
  }

  /** The stream is up: count a reconnect if it was up before, reset the backoff and say so. */
  protected opened(message: string): void {
    this.connected = true;
    if (this.everConnected) this.stats.reconnects++;
    this.everConnected = true;
    this.retry.reset();
    this.emitStatus(true, message);
  }
}
