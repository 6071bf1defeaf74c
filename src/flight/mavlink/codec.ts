import { MavLinkProtocolV1, MavLinkProtocolV2 } from 'node-mavlink';
import type { MavLinkData } from 'mavlink-mappings';
import type { RawPacket } from './parser.js';
import { REGISTRY } from './registry.js';

const v1 = new MavLinkProtocolV1();
const v2 = new MavLinkProtocolV2();

/** Decodes a packet's payload into node-mavlink's data class, or null for an id outside our dialects. */
export function decode(packet: RawPacket): MavLinkData | null {
  const clazz = REGISTRY[packet.msgid];
  if (!clazz) return null;
  const protocol = packet.version === 2 ? v2 : v1;
  // protocol.payload() pads a trimmed MAVLink 2 payload back to full length, as data() needs.
  return protocol.data(protocol.payload(packet.bytes), clazz);
}

/**
 * Serialises our outgoing messages (MAVLink 2) with our system/component id and a per-link sequence number, which
 * lets the autopilot and a ground station count what was lost.
 */
export class MavlinkEncoder {
  private seq = 0;
  private readonly protocol: MavLinkProtocolV2;

  constructor(
    readonly systemId: number,
    readonly componentId: number,
  ) {
    this.protocol = new MavLinkProtocolV2(systemId, componentId);
  }

  encode(message: MavLinkData): Buffer {
    const bytes = this.protocol.serialize(message, this.seq);
    this.seq = (this.seq + 1) & 0xff;
    return bytes;
  }
}
