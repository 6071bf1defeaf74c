import { readFileSync, statSync } from 'node:fs';
import { InputError } from '../core/errors.js';
import { MavlinkParser, MIN_PACKET, STX_V1, STX_V2, frameAt, type RawPacket } from '../flight/mavlink/parser.js';

/**
 * Reads MAVLink captures: `.tlog` files (each record an 8-byte big-endian UNIX timestamp in µs, then one packet, as
 * QGroundControl and Mission Planner write them) and bare MAVLink byte streams (a serial capture). Which one a file
 * is gets decided from its bytes, not its name: both framings are tried on the start of the file and the one that
 * explains more of the bytes wins. Corrupt input never throws: bad records are counted and the reader resynchronises.
 */

export type CaptureFormat = 'tlog' | 'raw';

export interface CapturePacket {
  packet: RawPacket;
  /** UNIX time (µs) of the tlog record; null in a raw stream or when the record's timestamp is implausible. */
  timeUs: number | null;
}

export interface CaptureStats {
  format: CaptureFormat;
  bytes: number;
  packets: number;
  /** Bytes inside valid packets. */
  packetBytes: number;
  /** Bytes of the timestamps of good tlog records (8 per packet); 0 for raw. */
  timestampBytes: number;
  /** Candidate packets whose CRC failed (in a tlog: records whose packet failed). */
  badCrc: number;
  /** Candidate packets with an id we cannot check. */
  unknownIds: number;
  /** Everything else: noise, corrupted records, a truncated last packet. bytes = packetBytes + timestampBytes + junkBytes. */
  junkBytes: number;
  /** tlog records with a timestamp outside 2000..2100: garbage, and left out of the time span. */
  badTimestamps: number;
  /** tlog records whose timestamp is earlier than the previous good one. */
  timestampsBackwards: number;
  /** First and last plausible timestamps (UNIX µs), null when there are none. */
  firstTimeUs: number | null;
  lastTimeUs: number | null;
}

const TLOG_HEADER = 8;
const PLAUSIBLE_MIN_US = 946_684_800e6; // 2000-01-01
const PLAUSIBLE_MAX_US = 4_102_444_800e6; // 2100-01-01
/** How much of a file the format detection looks at. */
const DETECT_BYTES = 64 * 1024;

function emptyStats(format: CaptureFormat, bytes: number): CaptureStats {
  return {
    format, bytes, packets: 0, packetBytes: 0, timestampBytes: 0, badCrc: 0, unknownIds: 0, junkBytes: 0,
    badTimestamps: 0, timestampsBackwards: 0, firstTimeUs: null, lastTimeUs: null,
  };
}

function isStx(byte: number | undefined): boolean {
  return byte === STX_V1 || byte === STX_V2;
}

/** Packets of a bare MAVLink stream, through the same parser the live link uses. */
export function* readRaw(bytes: Uint8Array, stats: CaptureStats = emptyStats('raw', bytes.length)): Generator<CapturePacket> {
  const parser = new MavlinkParser();
  for (let off = 0; off < bytes.length; off += DETECT_BYTES) {
    for (const packet of parser.push(bytes.subarray(off, off + DETECT_BYTES))) {
      stats.packets++;
      stats.packetBytes += packet.bytes.length;
      yield { packet, timeUs: null };
    }
  }
  for (const packet of parser.flush()) {
    stats.packets++;
    stats.packetBytes += packet.bytes.length;
    yield { packet, timeUs: null };
  }
  stats.badCrc = parser.stats.badCrc;
  stats.unknownIds = parser.stats.unknownIds;
  stats.junkBytes = parser.stats.junkBytes;
}

/**
 * Packets of a tlog. Record by record while the framing holds; after a broken record (bad CRC, unknown id, noise)
 * it searches forward for the next place where 8 bytes are followed by a valid packet, and counts what it skipped.
 */
export function* readTlog(bytes: Uint8Array, stats: CaptureStats = emptyStats('tlog', bytes.length)): Generator<CapturePacket> {
  const n = bytes.length;
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let p = 0;
  let prevTime: number | null = null;
  while (p + TLOG_HEADER + MIN_PACKET <= n) {
    const q = p + TLOG_HEADER;
    const frame = isStx(bytes[q]) ? frameAt(bytes, q, n) : null;
    if (frame?.kind === 'packet') {
      const raw = Number(view.readBigUInt64BE(p));
      let timeUs: number | null = null;
      if (raw >= PLAUSIBLE_MIN_US && raw < PLAUSIBLE_MAX_US) {
        timeUs = raw;
        if (prevTime !== null && raw < prevTime) stats.timestampsBackwards++;
        prevTime = raw;
        stats.firstTimeUs ??= raw;
        stats.lastTimeUs = raw;
      } else {
        stats.badTimestamps++;
      }
      stats.packets++;
      stats.packetBytes += frame.packet.bytes.length;
      stats.timestampBytes += TLOG_HEADER;
      p = q + frame.packet.bytes.length;
      yield { packet: frame.packet, timeUs };
      continue;
    }
    if (frame?.kind === 'badCrc') stats.badCrc++;
    else if (frame?.kind === 'unknownId') stats.unknownIds++;
    // Resynchronise: the next offset whose packet (8 bytes on) is valid starts the next record.
    let r = p + 1;
    while (r + TLOG_HEADER + MIN_PACKET <= n) {
      if (isStx(bytes[r + TLOG_HEADER]) && frameAt(bytes, r + TLOG_HEADER, n).kind === 'packet') break;
      r++;
    }
    if (r + TLOG_HEADER + MIN_PACKET > n) r = n;
    stats.junkBytes += r - p;
    p = r;
  }
  stats.junkBytes += n - p; // a record cut off at the end of the file
}

/** Which framing explains more of the first 64 KiB: tlog records, or a bare stream. Ties (e.g. no packets) are raw. */
export function detectFormat(bytes: Uint8Array): CaptureFormat {
  const head = bytes.subarray(0, DETECT_BYTES);
  const tlog = emptyStats('tlog', head.length);
  for (const _ of readTlog(head, tlog));
  const raw = emptyStats('raw', head.length);
  for (const _ of readRaw(head, raw));
  return tlog.packets > 0 && tlog.junkBytes < raw.junkBytes ? 'tlog' : 'raw';
}

export interface Capture {
  format: CaptureFormat;
  packets: CapturePacket[];
  stats: CaptureStats;
}

/** Reads a whole capture from memory; `format` 'auto' (default) detects it. */
export function readCapture(bytes: Uint8Array, format: CaptureFormat | 'auto' = 'auto'): Capture {
  const chosen = format === 'auto' ? detectFormat(bytes) : format;
  const stats = emptyStats(chosen, bytes.length);
  const packets = [...(chosen === 'tlog' ? readTlog(bytes, stats) : readRaw(bytes, stats))];
  return { format: chosen, packets, stats };
}

/**
 * Reads a capture file. A missing file, a directory or an unreadable file is an InputError naming the path; any
 * content, even none, is a capture (an empty file or a JPEG honestly has 0 packets).
 */
export function readCaptureFile(path: string, format: CaptureFormat | 'auto' = 'auto'): Capture {
  let bytes: Buffer;
  try {
    if (statSync(path).isDirectory()) throw new InputError('is a directory, not a MAVLink capture', path);
    bytes = readFileSync(path);
  } catch (err) {
    if (err instanceof InputError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new InputError(`cannot read capture: ${why}`, path, { cause: err });
  }
  return readCapture(bytes, format);
}
