import { x25crc } from 'mavlink-mappings';
import { CRC_EXTRA } from './registry.js';

const STX_V1 = 0xfe;
const STX_V2 = 0xfd;
const V1_HEADER = 6;
const V2_HEADER = 10;
const CHECKSUM = 2;
const SIGNATURE = 13;
const IFLAG_SIGNED = 0x01;
/** Longest possible packet: v2 header + 255 payload + checksum + signature. */
const MAX_PACKET = V2_HEADER + 255 + CHECKSUM + SIGNATURE;

/** One packet that passed its CRC check, cut out of the byte stream. */
export interface RawPacket {
  version: 1 | 2;
  msgid: number;
  sysid: number;
  compid: number;
  seq: number;
  /** The payload as sent (MAVLink 2 trims trailing zeros; decoding pads it back). */
  payload: Buffer;
  /** The whole packet, header to checksum (and signature), for recording and forwarding. */
  bytes: Buffer;
  signed: boolean;
}

export interface ParserStats {
  packets: number;
  /** Candidate packets whose checksum failed: corrupted bytes, or a start byte that was really data. */
  badCrc: number;
  /** Well-formed packets with a message id we do not know (no CRC_EXTRA to check them with). */
  unknownIds: number;
  /** Bytes dropped while looking for the next start byte. */
  junkBytes: number;
  bytesIn: number;
}

/**
 * Cuts a MAVLink v1/v2 byte stream into packets. Synchronous and allocation-light (one growing buffer, offsets
 * instead of slicing per byte), and it never throws on input: bad bytes are counted and skipped, and after a failed
 * CRC it resynchronises on the next start byte after the false one, so a corrupted packet loses only itself.
 *
 * node-mavlink's MavLinkPacketSplitter does the same job as a stream, but concatenates its whole buffer on every
 * chunk and only counts; this one is a plain function of bytes, which the link, the tlog reader and the fuzz test
 * share. Decoding of payloads stays with node-mavlink (see decode.ts).
 */
export class MavlinkParser {
  readonly stats: ParserStats = { packets: 0, badCrc: 0, unknownIds: 0, junkBytes: 0, bytesIn: 0 };
  private buf: Buffer = Buffer.alloc(0);
  private start = 0;
  private end = 0;

  /** Feeds bytes in; returns the complete, valid packets they finished. */
  push(chunk: Uint8Array): RawPacket[] {
    this.stats.bytesIn += chunk.length;
    this.append(chunk);
    const out: RawPacket[] = [];
    for (;;) {
      // Find the next start byte.
      let i = this.start;
      while (i < this.end && this.buf[i] !== STX_V1 && this.buf[i] !== STX_V2) i++;
      this.stats.junkBytes += i - this.start;
      this.start = i;
      if (this.end - this.start < 3) break;
      const b = this.buf;
      const s = this.start;
      const v2 = b[s] === STX_V2;
      const len = b[s + 1]!;
      const header = v2 ? V2_HEADER : V1_HEADER;
      const signed = v2 && (b[s + 2]! & IFLAG_SIGNED) !== 0;
      const total = header + len + CHECKSUM + (signed ? SIGNATURE : 0);
      if (this.end - s < total) break; // wait for the rest
      const msgid = v2 ? b[s + 7]! | (b[s + 8]! << 8) | (b[s + 9]! << 16) : b[s + 5]!;
      const extra = CRC_EXTRA[msgid];
      if (extra === undefined) {
        // Unknown id: we cannot check it, so we cannot tell a real packet from noise. Count it and step past the
        // start byte only; a real unknown packet then costs its own bytes as junk, never a following good packet.
        this.stats.unknownIds++;
        this.start = s + 1;
        continue;
      }
      const crcEnd = s + header + len; // checksum covers bytes 1..crcEnd-1
      const crc = x25crc(b, s + 1, b.length - crcEnd, extra);
      const got = b[crcEnd]! | (b[crcEnd + 1]! << 8);
      if (crc !== got) {
        this.stats.badCrc++;
        this.start = s + 1;
        continue;
      }
      const bytes = Buffer.from(b.subarray(s, s + total)); // copy: the ring buffer is reused
      out.push({
        version: v2 ? 2 : 1,
        msgid,
        sysid: v2 ? b[s + 5]! : b[s + 3]!,
        compid: v2 ? b[s + 6]! : b[s + 4]!,
        seq: v2 ? b[s + 4]! : b[s + 2]!,
        payload: bytes.subarray(header, header + len),
        bytes,
        signed,
      });
      this.stats.packets++;
      this.start = s + total;
    }
    return out;
  }

  /** Bytes held back waiting for the rest of a packet. */
  get pending(): number {
    return this.end - this.start;
  }

  private append(chunk: Uint8Array): void {
    const live = this.end - this.start;
    if (this.end + chunk.length > this.buf.length) {
      // Compact, and grow only if the live part plus the chunk does not fit.
      const size = Math.max(this.buf.length, live + chunk.length, 4 * MAX_PACKET);
      const next = size > this.buf.length ? Buffer.alloc(size * 2) : this.buf;
      this.buf.copy(next, 0, this.start, this.end);
      this.buf = next;
      this.start = 0;
      this.end = live;
    }
    this.buf.set(chunk, this.end);
    this.end += chunk.length;
    // A stream that never yields a start byte must not grow without bound.
    if (this.end - this.start > 64 * MAX_PACKET) {
      const drop = this.end - this.start - MAX_PACKET;
      this.stats.junkBytes += drop;
      this.start += drop;
    }
  }
}
