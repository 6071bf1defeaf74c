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
