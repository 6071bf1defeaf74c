import type { FlightConfig, TransportConfig } from '../../core/config/flight.js';
import type { BackoffPolicy } from './backoff.js';
import { SerialTransport } from './serial.js';
import { TcpTransport } from './tcp.js';
import type { ByteTransport } from './transport.js';
import { UdpTransport } from './udp.js';

/** The transport the configuration names (flight.transport), with the reconnect policy of flight.reconnect. */
export function createTransport(transport: TransportConfig, reconnect: BackoffPolicy): ByteTransport {
  switch (transport.kind) {
    case 'serial':
      return new SerialTransport({ path: transport.path, baudRate: transport.baudRate, reconnect });
    case 'udp':
      return new UdpTransport({
        bindHost: transport.bindHost,
        bindPort: transport.bindPort,
        peerHost: transport.peerHost,
        peerPort: transport.peerPort,
      });
    case 'tcp':
      return new TcpTransport({ host: transport.host, port: transport.port, reconnect });
  }
}

/** Shorthand for the daemon: the transport of a validated flight section. */
export function createFlightTransport(flight: Pick<FlightConfig, 'transport' | 'reconnect'>): ByteTransport {
  return createTransport(flight.transport, flight.reconnect);
}
