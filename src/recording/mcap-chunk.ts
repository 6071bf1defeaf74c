import zlib from 'node:zlib';
import { crc32Final, crc32Update } from '@foxglove/crc';
import { McapConstants, type McapTypes } from '@mcap/core';

/**
 * The records of one MCAP chunk (schemas, channels, messages) in a buffer that is kept and reused from chunk to
 * chunk, with the message index of each channel.
 *
 * Why not @mcap/core's McapChunkBuilder: its `buffer` (and McapRecordBuilder's) returns a copy in freshly
 * allocated memory, and the chunk then goes through a record builder and out again as another fresh copy. For
 * telemetry that is nothing; for camera images at four stereo rigs × 30 Hz (220 MB/s of RGB) first-touching that
 * much new memory cost about 0.7 of a core in the recorder worker (`racepilot bench record --images --image-format
 * raw`, profiled), where writing into warm memory costs a few percent. The record layouts are the MCAP
 * specification's (opcodes from @mcap/core), and every test reads the files back with @mcap/core's readers.
 */
export class ChunkRecords {
  private bytes = new Uint8Array(1 << 16);
  private view = new DataView(this.bytes.buffer);
  private offset = 0;
  private readonly encoder = new TextEncoder();
  private readonly index = new Map<number, [bigint, bigint][]>();
  numMessages = 0;
  messageStartTime = 0n;
  messageEndTime = 0n;

  get byteLength(): number {
    return this.offset;
  }

  /** The records written so far: a view into the reused buffer, valid until the next write or reset. */
  records(): Uint8Array {
    return this.bytes.subarray(0, this.offset);
  }

  /** Message index records' content per channel: (log time, offset of the message in the chunk's records). */
  indices(): McapTypes.MessageIndex[] {
    return [...this.index].map(([channelId, records]) => ({ channelId, records }));
  }

  addSchema(s: McapTypes.Schema): void {
    const name = this.encoder.encode(s.name);
    const encoding = this.encoder.encode(s.encoding);
    this.record(McapConstants.Opcode.SCHEMA, 2 + 4 + name.length + 4 + encoding.length + 4 + s.data.length, (o) => {
      this.view.setUint16(o, s.id, true);
      o = this.prefixed(o + 2, name);
      o = this.prefixed(o, encoding);
      this.prefixed(o, s.data);
    });
  }

  addChannel(c: McapTypes.Channel): void {
    const topic = this.encoder.encode(c.topic);
    const encoding = this.encoder.encode(c.messageEncoding);
    const meta = [...c.metadata].map(([k, v]) => [this.encoder.encode(k), this.encoder.encode(v)] as const);
    const metaBytes = meta.reduce((a, [k, v]) => a + 8 + k.length + v.length, 0);
    this.record(McapConstants.Opcode.CHANNEL, 2 + 2 + 4 + topic.length + 4 + encoding.length + 4 + metaBytes, (o) => {
      this.view.setUint16(o, c.id, true);
      this.view.setUint16(o + 2, c.schemaId, true);
      o = this.prefixed(o + 4, topic);
      o = this.prefixed(o, encoding);
      this.view.setUint32(o, metaBytes, true);
      o += 4;
      for (const [k, v] of meta) o = this.prefixed(this.prefixed(o, k), v);
    });
  }

  addMessage(m: McapTypes.Message): void {
    const at = BigInt(this.offset);
    this.record(McapConstants.Opcode.MESSAGE, 2 + 4 + 8 + 8 + m.data.length, (o) => {
      this.view.setUint16(o, m.channelId, true);
      this.view.setUint32(o + 2, m.sequence, true);
      this.view.setBigUint64(o + 6, m.logTime, true);
      this.view.setBigUint64(o + 14, m.publishTime, true);
      this.bytes.set(m.data, o + 22);
    });
    let idx = this.index.get(m.channelId);
    if (!idx) this.index.set(m.channelId, (idx = []));
    idx.push([m.logTime, at]);
    if (this.numMessages === 0 || m.logTime < this.messageStartTime) this.messageStartTime = m.logTime;
    if (this.numMessages === 0 || m.logTime > this.messageEndTime) this.messageEndTime = m.logTime;
    this.numMessages++;
  }

  reset(): void {
    this.offset = 0;
    this.index.clear();
    this.numMessages = 0;
    this.messageStartTime = 0n;
    this.messageEndTime = 0n;
  }

  /** opcode, u64 content length, content written by `fill` at the offset it is given. */
  private record(opcode: number, length: number, fill: (contentOffset: number) => void): void {
    this.ensure(9 + length);
    this.bytes[this.offset] = opcode;
    this.view.setBigUint64(this.offset + 1, BigInt(length), true);
    fill(this.offset + 9);
    this.offset += 9 + length;
  }

  /** u32 length, then the bytes; returns the offset after them. */
  private prefixed(o: number, b: Uint8Array): number {
    this.view.setUint32(o, b.length, true);
    this.bytes.set(b, o + 4);
    return o + 4 + b.length;
  }

  private ensure(extra: number): void {
    if (this.offset + extra <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.offset + extra, this.bytes.length * 2));
    grown.set(this.bytes.subarray(0, this.offset));
    this.bytes = grown;
    this.view = new DataView(grown.buffer);
  }
}

/** The header of a Chunk record, up to and including its records' length (the records follow it in the file). */
export function chunkHeader(c: { start: bigint; end: bigint; uncompressedSize: number; uncompressedCrc: number; compression: string; recordsLength: number }): Uint8Array {
  const comp = new TextEncoder().encode(c.compression);
  const contentLength = 8 + 8 + 8 + 4 + 4 + comp.length + 8 + c.recordsLength;
  const out = new Uint8Array(1 + 8 + contentLength - c.recordsLength);
  const v = new DataView(out.buffer);
  out[0] = McapConstants.Opcode.CHUNK;
  v.setBigUint64(1, BigInt(contentLength), true);
  v.setBigUint64(9, c.start, true);
  v.setBigUint64(17, c.end, true);
  v.setBigUint64(25, BigInt(c.uncompressedSize), true);
  v.setUint32(33, c.uncompressedCrc, true);
  v.setUint32(37, comp.length, true);
  out.set(comp, 41);
  v.setBigUint64(41 + comp.length, BigInt(c.recordsLength), true);
  return out;
}

const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

/**
 * CRC-32 of `data` continuing from the CRC of what came before it (0 to start). zlib's (Node ≥ 20.15) is native
 * and about three times faster than @foxglove/crc's JavaScript, which is the fallback.
 */
export function crc32Continue(crc: number, data: Uint8Array): number {
  if (nativeCrc32) return nativeCrc32(data, crc);
  return crc32Final(crc32Update((crc ^ 0xffffffff) >>> 0, data));
}
