/**
 * The port every flight-controller byte link implements (serial, UDP, TCP, in-memory). The link layer above it
 * parses MAVLink and never knows which transport it has. A transport never throws from `send`: bytes written while
 * it is down are dropped and counted, because the setpoint stream must not stall on a cable.
 */
export interface TransportStats {
  bytesIn: number;
  bytesOut: number;
  /** Bytes `send` was given while the transport was down or had no peer yet. */
  bytesDropped: number;
  reconnects: number;
}

export interface TransportStatus {
  connected: boolean;
  /** A sentence a person can act on, e.g. "serial /dev/ttyTHS0: no such device; retrying in 2.0 s". */
  reason: string;
}

export interface ByteTransport {
  /** What it is, for logs: "serial:/dev/ttyTHS0@921600", "udp:0.0.0.0:14540", "tcp:10.0.0.2:5760". */
  readonly name: string;
  readonly stats: TransportStats;
  /**
   * Opens it. Rejects with a LinkError only when it can never work as configured (a port in use, a bad address);
   * a device that is absent or a peer that is down is retried with backoff and reported through onStatus.
   */
  start(): Promise<void>;
  send(bytes: Uint8Array): void;
  onData(handler: (chunk: Buffer) => void): void;
  onStatus(handler: (status: TransportStatus) => void): void;
  close(): Promise<void>;
}

/**
 * The bookkeeping every transport shares: handler lists, counters and the last status (repeated to a handler that
 * subscribes late, so a status reported during start() is not lost). A handler that throws is the caller's bug; it
 * must not kill the socket's event loop, so it is caught and reported through `onHandlerError`.
 */
export abstract class TransportBase implements ByteTransport {
  abstract readonly name: string;
  readonly stats: TransportStats = { bytesIn: 0, bytesOut: 0, bytesDropped: 0, reconnects: 0 };
  private readonly dataHandlers: Array<(chunk: Buffer) => void> = [];
  private readonly statusHandlers: Array<(status: TransportStatus) => void> = [];
  private lastStatus: TransportStatus | null = null;
  /** Where a throwing handler is reported; by default it is rethrown on a later turn (an uncaught error). */
  onHandlerError: (err: unknown) => void = (err) => queueMicrotask(() => { throw err; });

  abstract start(): Promise<void>;
  abstract send(bytes: Uint8Array): void;
  abstract close(): Promise<void>;

  onData(handler: (chunk: Buffer) => void): void {
    this.dataHandlers.push(handler);
  }

  onStatus(handler: (status: TransportStatus) => void): void {
    this.statusHandlers.push(handler);
    if (this.lastStatus) this.call(handler, this.lastStatus);
  }

  /** The most recent status, or null before the first. */
  get status(): TransportStatus | null {
    return this.lastStatus;
  }

  protected emitData(chunk: Buffer): void {
    this.stats.bytesIn += chunk.length;
    for (const h of this.dataHandlers) this.call(h, chunk);
  }

  protected emitStatus(connected: boolean, reason: string): void {
    const status = { connected, reason };
    this.lastStatus = status;
    for (const h of this.statusHandlers) this.call(h, status);
  }

  private call<T>(handler: (arg: T) => void, arg: T): void {
    try {
      handler(arg);
    } catch (err) {
      this.onHandlerError(err);
    }
  }
}
