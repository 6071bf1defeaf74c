import type { GcsEndpointConfig } from '../core/config/telemetry.js';
import type { Logger } from '../core/logger.js';
import type { MavlinkBytes } from '../core/messages.js';
import { MavlinkParser, type ParserStats } from './mavlink/parser.js';
import type { ByteTransport } from './transport/transport.js';
import { UdpTransport } from './transport/udp.js';

/** The one thing the forwarder needs of the bus: the link's packets (TopicBus<Topics> satisfies it). */
export interface MavlinkBytesTap {
  subscribe(topic: 'mavlink/bytes', handler: (msg: MavlinkBytes) => void): () => void;
}

export interface GcsForwarderOptions {
  endpoints: GcsEndpointConfig[];
  /** Sends bytes to the flight controller: the FC link's own transport, so the daemon holds the only handle. */
  toFc: (bytes: Uint8Array) => void;
  log?: Logger;
  /** Builds the transport of an endpoint (tests may substitute one); default: UDP as configured. */
  createTransport?: (endpoint: GcsEndpointConfig) => ByteTransport;
}

export interface GcsEndpointStats {
  name: string;
  /** Packets from the flight controller sent to this ground station. */
  toGcs: number;
  /** Valid packets from this ground station passed on to the flight controller. */
  fromGcs: number;
  /** Its parser's counters: what it sent that was not a valid MAVLink packet. */
  parser: ParserStats;
}

interface Endpoint {
  transport: ByteTransport;
  parser: MavlinkParser;
  stats: GcsEndpointStats;
}

/**
 * MAVLink forwarding between the flight controller and ground stations, as mavlink-router does, for a daemon that
 * holds the flight controller's only serial port. Packet level: what goes either way is whole packets exactly as
 * their sender wrote them (sequence numbers, signatures and all), never decoded and re-encoded; bytes from a ground
 * station are cut into packets first so that a half packet or noise never reaches the autopilot's parser.
 *
 * Nothing is filtered: the pilot's commands (mode changes, disarm, RTL) pass whatever the daemon's control state,
 * which is what makes "the pilot can always take over" true from the ground station as well as from the RC. The
 * daemon's own traffic to the autopilot (setpoints at 50 Hz) is not mirrored to the ground: it would fill a
 * telemetry radio.
 */
export class GcsForwarder {
  private readonly endpoints: Endpoint[] = [];
  private unsubscribe: (() => void) | null = null;

  constructor(private readonly opts: GcsForwarderOptions) {
    const create = opts.createTransport ?? udpTransportFor;
    for (const cfg of opts.endpoints) {
      const transport = create(cfg);
      const ep: Endpoint = {
        transport,
        parser: new MavlinkParser(),
        stats: { name: transport.name, toGcs: 0, fromGcs: 0, parser: undefined as unknown as ParserStats },
      };
      ep.stats.parser = ep.parser.stats;
      transport.onData((chunk) => this.fromGcs(ep, chunk));
      transport.onStatus((s) => opts.log?.debug({ endpoint: transport.name, connected: s.connected }, `ground station link: ${s.reason}`));
      this.endpoints.push(ep);
    }
  }

  get stats(): GcsEndpointStats[] {
    return this.endpoints.map((e) => e.stats);
  }

  /** Where each endpoint's socket is bound (for logs, and for tests that asked for an ephemeral port). */
  localAddresses(): ({ address: string; port: number } | null)[] {
    return this.endpoints.map((e) => (e.transport instanceof UdpTransport ? e.transport.localAddress() : null));
  }

  /** Opens every endpoint; a bad address or a port in use rejects with a LinkError naming the endpoint. */
  async start(): Promise<void> {
    await Promise.all(this.endpoints.map((e) => e.transport.start()));
    if (this.endpoints.length > 0) {
      this.opts.log?.info({ endpoints: this.endpoints.map((e) => e.transport.name) }, 'forwarding MAVLink to ground stations');
    }
  }

  /** Forwards the flight controller's packets as the FC link publishes them (`mavlink/bytes`, rx: one packet each). */
  attach(bus: MavlinkBytesTap): void {
    this.unsubscribe?.();
    this.unsubscribe = bus.subscribe('mavlink/bytes', (m) => {
      if (m.direction === 'rx') this.fromFc(m.bytes);
    });
  }

  /** One whole packet from the flight controller, to every ground station. */
  fromFc(packet: Uint8Array): void {
    for (const ep of this.endpoints) {
      ep.transport.send(packet);
      ep.stats.toGcs++;
    }
  }

  async close(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = null;
    await Promise.all(this.endpoints.map((e) => e.transport.close()));
  }

  private fromGcs(from: Endpoint, chunk: Buffer): void {
    for (const p of from.parser.push(chunk)) {
      this.opts.toFc(p.bytes);
      from.stats.fromGcs++;
      // Ground stations see each other's commands, as through mavlink-router.
      for (const ep of this.endpoints) if (ep !== from) ep.transport.send(p.bytes);
    }
  }
}

function udpTransportFor(ep: GcsEndpointConfig): ByteTransport {
  return ep.kind === 'to'
    ? new UdpTransport({ bindHost: ep.host.includes(':') ? '::' : '0.0.0.0', bindPort: 0, peerHost: ep.host, peerPort: ep.port })
    : new UdpTransport({ bindHost: ep.bindHost, bindPort: ep.bindPort });
}
