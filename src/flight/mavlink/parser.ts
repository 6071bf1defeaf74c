import { x25crc } from 'mavlink-mappings';
import { CRC_EXTRA } from './registry.js';

export const STX_V1 = 0xfe;
export const STX_V2 = 0xfd;
const V1_HEADER = 6;
const V2_HEADER = 10;
const CHECKSUM = 2;
const SIGNATURE = 13;
const IFLAG_SIGNED = 0x01;
/** Longest possible packet: v2 header + 255 payload + checksum + signature. */
export const MAX_PACKET = V2_HEADER + 255 + CHECKSUM + SIGNATURE;
/** Shortest possible packet: a v1 header and checksum around an empty payload. */
export const MIN_PACKET = V1_HEADER + CHECKSUM;
/**
 * A big chunk (a whole file) is parsed in slices of this size, so the working buffer stays at a few kilobytes
 * whatever the caller hands in.
 */
const SLICE = 4096;

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
  /** Bytes inside valid packets. */
  packetBytes: number;
  /** Candidate packets whose checksum failed: corrupted bytes, or a start byte that was really data. */
  badCrc: number;
  /** Candidates with a message id we do not know (no CRC_EXTRA to check them with): see frameAt. */
  unknownIds: number;
  /**
   * Bytes that were not part of a valid packet: noise between packets, the bytes of corrupted and unknown
   * packets. Always bytesIn = packetBytes + junkBytes + pending.
   */
  junkBytes: number;
  bytesIn: number;
}

/** What the bytes at one start byte turned out to be. */
export type Frame =
  /** Not enough bytes yet to decide. */
  | { kind: 'short' }
  | { kind: 'packet'; packet: RawPacket }
  /** A well-formed header whose checksum does not match: `length` is what the header claimed. */
  | { kind: 'badCrc'; msgid: number; length: number }
  /** A header with an id we have no CRC_EXTRA for, so it cannot be checked. */
  | { kind: 'unknownId'; msgid: number; length: number };

/**
 * Examines the candidate packet that starts at b[s] (which must be a start byte), looking no further than `end`.
 * A pure function of the bytes: the stream parser below and the tlog reader (which knows where each record's packet
 * starts) share it.
 */
export function frameAt(b: Uint8Array, s: number, end: number): Frame {
  if (end - s < 3) return { kind: 'short' };
  const v2 = b[s] === STX_V2;
  const len = b[s + 1]!;
  const header = v2 ? V2_HEADER : V1_HEADER;
  const signed = v2 && (b[s + 2]! & IFLAG_SIGNED) !== 0;
  const total = header + len + CHECKSUM + (signed ? SIGNATURE : 0);
  if (end - s < total) return { kind: 'short' };
  const msgid = v2 ? b[s + 7]! | (b[s + 8]! << 8) | (b[s + 9]! << 16) : b[s + 5]!;
  const extra = CRC_EXTRA[msgid];
  if (extra === undefined) return { kind: 'unknownId', msgid, length: total };
  const crcEnd = s + header + len; // the checksum covers bytes s+1 .. crcEnd-1, then CRC_EXTRA
  const crc = x25crc(b as Buffer, s + 1, b.length - crcEnd, extra);
  const got = b[crcEnd]! | (b[crcEnd + 1]! << 8);
  if (crc !== got) return { kind: 'badCrc', msgid, length: total };
  const bytes = Buffer.from(b.subarray(s, s + total)); // a copy: the caller's buffer is reused
  return {
    kind: 'packet',
    packet: {
      version: v2 ? 2 : 1,
      msgid,
      sysid: v2 ? b[s + 5]! : b[s + 3]!,
      compid: v2 ? b[s + 6]! : b[s + 4]!,
      seq: v2 ? b[s + 4]! : b[s + 2]!,
      payload: bytes.subarray(header, header + len),
      bytes,
      signed,
    },
  };
}

/**
 * Cuts a MAVLink v1/v2 byte stream into packets. Synchronous and allocation-light (one fixed working buffer,
 * offsets instead of slicing per byte), and it never throws on input: bad bytes are counted and skipped, and after a
 * failed CRC or an unknown id it resynchronises on the next start byte after the false one, so a corrupted packet
 * loses only itself. (An unknown id cannot be checked, so skipping its claimed length could swallow a good packet
 * behind a start byte that was really noise.)
 *
 * node-mavlink's MavLinkPacketSplitter does the same job as a stream, but concatenates its whole buffer on every
 * chunk and only counts; this one is a plain function of bytes, which the link, the tlog reader and the fuzz test
 * share. Decoding of payloads stays with node-mavlink (see codec.ts).
 */
export class MavlinkParser {
  readonly stats: ParserStats = { packets: 0, packetBytes: 0, badCrc: 0, unknownIds: 0, junkBytes: 0, bytesIn: 0 };
  // Live bytes never exceed one unfinished packet plus one slice (see push), so this never grows.
  private readonly buf: Buffer = Buffer.alloc(2 * (MAX_PACKET + SLICE));
  private start = 0;
  private end = 0;

  /** Feeds bytes in; returns the complete, valid packets they finished. */
  push(chunk: Uint8Array): RawPacket[] {
    const out: RawPacket[] = [];
    for (let off = 0; off < chunk.length; off += SLICE) {
      const slice = chunk.subarray(off, Math.min(chunk.length, off + SLICE));
      this.stats.bytesIn += slice.length;
      this.append(slice);
      this.drain(out);
    }
    return out;
  }

  /** Bytes held back waiting for the rest of a packet (fewer than one packet's worth). */
  get pending(): number {
    return this.end - this.start;
  }

  /**
   * Ends the stream (a file read to its end). A false start byte whose claimed length runs past the end was holding
   * back the bytes behind it; now it can never complete, so it is dropped and the rest is parsed. Returns the packets
   * that frees; what is left counts as junk.
   */
  flush(): RawPacket[] {
    const out: RawPacket[] = [];
    this.drain(out, true);
    this.stats.junkBytes += this.end - this.start;
    this.start = this.end = 0;
    return out;
  }

  private drain(out: RawPacket[], final = false): void {
    const b = this.buf;
    for (;;) {
      let i = this.start;
      while (i < this.end && b[i] !== STX_V1 && b[i] !== STX_V2) i++;
      this.stats.junkBytes += i - this.start;
      this.start = i;
      const frame = frameAt(b, i, this.end);
      if (frame.kind === 'short') {
        if (!final || i >= this.end) return; // wait for the rest
        this.stats.junkBytes++;
        this.start = i + 1;
        continue;
      }
      if (frame.kind === 'packet') {
        out.push(frame.packet);
        this.stats.packets++;
        this.stats.packetBytes += frame.packet.bytes.length;
        this.start = i + frame.packet.bytes.length;
        continue;
      }
      if (frame.kind === 'badCrc') this.stats.badCrc++;
      else this.stats.unknownIds++;
      this.stats.junkBytes++; // the false start byte; the scan above counts the rest
      this.start = i + 1;
    }
  }

  private append(chunk: Uint8Array): void {
    if (this.end + chunk.length > this.buf.length) {
      this.buf.copy(this.buf, 0, this.start, this.end);
      this.end -= this.start;
      this.start = 0;
    }
    this.buf.set(chunk, this.end);
    this.end += chunk.length;
  }
}
