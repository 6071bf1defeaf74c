import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import { LinkError } from '../../core/errors.js';
import { TransportBase } from './transport.js';

export interface UdpOptions {
  /** Address to listen on (default 0.0.0.0). */
  bindHost?: string;
  /** Port to listen on; 0 or absent: an ephemeral port (enough when a fixed peer is given). */
  bindPort?: number;
  /** A peer to send to before any packet has arrived (PX4 SITL's 14580, a radio modem's address). */
  peerHost?: string;
  peerPort?: number;
}

interface Peer {
  host: string;
  port: number;
}

/**
 * MAVLink over UDP, as PX4 and ArduPilot speak it: no connection, so the peer is whoever sent last. Replies go to
 * the address the autopilot last sent from (it may come up on a new port after a reboot); a fixed peer only seeds
 * that until the first packet arrives. Send errors (an unreachable peer) are reported through status, never thrown,
 * so the setpoint stream keeps its cadence.
 */
export class UdpTransport extends TransportBase {
  readonly name: string;
  private socket: dgram.Socket | null = null;
  private peer: Peer | null;
  private closed = false;
  private lastSendError: string | null = null;

  constructor(private readonly options: UdpOptions) {
    super();
    const bind = `${options.bindHost ?? '0.0.0.0'}:${options.bindPort ?? 0}`;
    const hasPeer = options.peerHost !== undefined && options.peerPort !== undefined;
    this.peer = hasPeer ? { host: options.peerHost!, port: options.peerPort! } : null;
    this.name = `udp:${bind}${hasPeer ? `->${options.peerHost}:${options.peerPort}` : ''}`;
  }

  /** Binds the socket. A port in use or an address this machine does not have rejects with a LinkError. */
  async start(): Promise<void> {
    if (this.socket) return;
    const host = this.options.bindHost ?? '0.0.0.0';
    const socket = dgram.createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4' });
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => {
        socket.close();
        reject(new LinkError(`cannot listen on UDP ${host}:${this.options.bindPort ?? 0}: ${err.code ?? err.message}`, this.name, { cause: err }));
      };
      socket.once('error', onError);
      socket.bind(this.options.bindPort ?? 0, host, () => {
        socket.off('error', onError);
        resolve();
      });
    });
    this.socket = socket;
    socket.on('message', (msg, rinfo) => this.received(msg, rinfo));
    socket.on('error', (err: NodeJS.ErrnoException) => this.emitStatus(this.peer !== null, `socket error: ${err.code ?? err.message}`));
    const addr = socket.address();
    this.emitStatus(
      this.peer !== null,
      this.peer ? `listening on ${addr.address}:${addr.port}, sending to ${this.peer.host}:${this.peer.port}` : `listening on ${addr.address}:${addr.port}, waiting for the autopilot`,
    );
  }

  /** The bound address (for tests and logs that asked for an ephemeral port), or null before start. */
  localAddress(): { address: string; port: number } | null {
    if (!this.socket) return null;
    const a = this.socket.address();
    return { address: a.address, port: a.port };
  }

  /** Where replies go now, or null while no peer is known. */
  currentPeer(): Peer | null {
    return this.peer ? { ...this.peer } : null;
  }

  send(bytes: Uint8Array): void {
    const socket = this.socket;
    const peer = this.peer;
    if (!socket || this.closed || !peer) {
      this.stats.bytesDropped += bytes.length;
      return;
    }
    this.stats.bytesOut += bytes.length;
    socket.send(bytes, peer.port, peer.host, (err) => {
      if (!err) {
        if (this.lastSendError) {
          this.lastSendError = null;
          this.emitStatus(true, `sending to ${peer.host}:${peer.port} again`);
        }
        return;
      }
      // Counted as sent above, dropped here: the datagram never left. Report once per kind of error, not per packet.
      this.stats.bytesOut -= bytes.length;
      this.stats.bytesDropped += bytes.length;
      const reason = `cannot send to ${peer.host}:${peer.port}: ${(err as NodeJS.ErrnoException).code ?? err.message}`;
      if (reason !== this.lastSendError) {
        this.lastSendError = reason;
        this.emitStatus(false, reason);
      }
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const socket = this.socket;
    this.socket = null;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
    this.emitStatus(false, 'closed');
  }

  private received(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const peer = this.peer;
    if (!peer || peer.host !== rinfo.address || peer.port !== rinfo.port) {
      this.peer = { host: rinfo.address, port: rinfo.port };
      this.emitStatus(true, `${peer ? 'peer moved to' : 'peer is'} ${rinfo.address}:${rinfo.port}`);
    }
    this.emitData(msg);
  }
}
