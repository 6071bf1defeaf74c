import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { McapRecordBuilder, McapConstants, type McapTypes } from '@mcap/core';
import * as zstd from '@foxglove/wasm-zstd';
import { ChunkRecords, chunkHeader, crc32Continue } from './mcap-chunk.js';

/**
 * Our profile in the MCAP header, and the log format version in its metadata (see mcap-reader.ts). A reader
 * replays every version up to its own and refuses newer ones by name.
 * 1: every channel JSON. 2: camera images as CDR (foxglove_msgs/msg/RawImage and CompressedImage, ros2-image.ts).
 */
export const LOG_PROFILE = 'racepilot';
export const LOG_VERSION = 2;
export const LOG_METADATA_NAME = 'racepilot';

export interface McapFileWriterOptions {
  compression: 'zstd' | 'none';
  zstdLevel: number;
  chunkBytes: number;
  /**
   * fsync on sync() (the recorder calls it every flush interval) and on close: what makes "at most one flush interval
   * lost" true on a power cut, not only on kill -9. Not after every chunk: camera images get chunks of their own, two
   * per FrameSet, and sixty fsyncs a second would stall the worker on a slow card.
   */
  fsync: boolean;
}

/**
 * Writes one MCAP file with synchronous fs calls (it runs in the recorder worker, where blocking is the point).
 *
 * Why not @mcap/core's McapWriter: it closes a chunk only when the chunk outgrows chunkSize, and has no way to close
 * one on demand, so at telemetry rates a chunk could stay in memory for minutes and a `kill -9` would lose all of
 * it. This class uses the library's McapRecordBuilder for every record outside chunks and writes the same records
 * in the same order (schemas and channels inside the chunk that first uses them, message indexes after each
 * chunk, a full summary with chunk indexes at the end), and adds `flushChunk()`. A chunk's own records are built
 * in reused memory (mcap-chunk.ts says why) and written without being copied again.
 */
export class McapFileWriter {
  private readonly fd: number;
  private readonly rec = new McapRecordBuilder();
  private readonly chunk = new ChunkRecords();
  private readonly schemas = new Map<number, McapTypes.Schema>();
  private readonly channels = new Map<number, McapTypes.Channel>();
  private readonly writtenInChunk = { schemas: new Set<number>(), channels: new Set<number>() };
  private readonly chunkIndexes: McapTypes.ChunkIndex[] = [];
  private readonly metadataIndexes: McapTypes.MetadataIndex[] = [];
  private pos = 0n;
  private syncedPos = 0n;
  private closed = false;
  /** Whether the open chunk is compressed when it is written (with `compression: zstd`); the caller's choice per chunk. */
  compressOpenChunk = true;
  readonly stats: McapTypes.Statistics = {
    messageCount: 0n,
    schemaCount: 0,
    channelCount: 0,
    attachmentCount: 0,
    metadataCount: 0,
    chunkCount: 0,
    messageStartTime: 0n,
    messageEndTime: 0n,
    channelMessageCounts: new Map(),
  };

  constructor(
    readonly path: string,
    private readonly opts: McapFileWriterOptions,
    header: McapTypes.Header,
  ) {
    this.fd = openSync(path, 'wx');
    this.rec.writeMagic();
    this.rec.writeHeader(header);
    this.emit();
  }

  /** zstd is a WebAssembly module: await this once before writing compressed chunks. */
  static ready(): Promise<boolean> {
    return zstd.isLoaded;
  }

  get bytesWritten(): number {
    return Number(this.pos);
  }

  /** Bytes waiting in the open chunk (uncompressed). */
  get pendingBytes(): number {
    return this.chunk.byteLength;
  }

  addSchema(name: string, encoding: string, data: Uint8Array): number {
    const id = this.schemas.size + 1; // 0 means "no schema" in MCAP
    this.schemas.set(id, { id, name, encoding, data });
    this.stats.schemaCount++;
    return id;
  }

  addChannel(topic: string, schemaId: number, messageEncoding: string, metadata = new Map<string, string>()): number {
    const id = this.channels.size;
    this.channels.set(id, { id, topic, schemaId, messageEncoding, metadata });
    this.stats.channelCount++;
    return id;
  }

  /** Written outside chunks, straight away: a truncated log still says what it is. */
  addMetadata(name: string, metadata: Map<string, string>): void {
    this.flushChunk();
    const offset = this.pos;
    const length = this.rec.writeMetadata({ name, metadata });
    this.metadataIndexes.push({ offset, length, name });
    this.stats.metadataCount++;
    this.emit();
  }

  addMessage(channelId: number, sequence: number, logTime: bigint, publishTime: bigint, data: Uint8Array): void {
    const channel = this.channels.get(channelId);
    if (!channel) throw new Error(`McapFileWriter: no channel ${channelId}`);
    // Every chunk carries the schemas and channels its messages use, so each chunk decodes on its own: a reader
    // that starts after damage, or a truncated file, still knows what every message is.
    if (channel.schemaId !== 0 && !this.writtenInChunk.schemas.has(channel.schemaId)) {
      this.chunk.addSchema(this.schemas.get(channel.schemaId)!);
      this.writtenInChunk.schemas.add(channel.schemaId);
    }
    if (!this.writtenInChunk.channels.has(channelId)) {
      this.chunk.addChannel(channel);
      this.writtenInChunk.channels.add(channelId);
    }
    this.chunk.addMessage({ channelId, sequence, logTime, publishTime, data });
    const s = this.stats;
    if (s.messageCount === 0n || logTime < s.messageStartTime) s.messageStartTime = logTime;
    if (s.messageCount === 0n || logTime > s.messageEndTime) s.messageEndTime = logTime;
    s.messageCount++;
    s.channelMessageCounts.set(channelId, (s.channelMessageCounts.get(channelId) ?? 0n) + 1n);
    if (this.chunk.byteLength >= this.opts.chunkBytes) this.flushChunk();
  }

  /** Compresses and writes the open chunk (and its message indexes); a no-op when it is empty. */
  flushChunk(): void {
    if (this.chunk.numMessages === 0) return;
    const raw = this.chunk.records();
    let compression = '';
    let records: Uint8Array = raw;
    if (this.opts.compression === 'zstd' && this.compressOpenChunk) {
      compression = 'zstd';
      records = zstd.compress(raw, this.opts.zstdLevel);
    }
    const chunkStartOffset = this.pos;
    const { messageStartTime, messageEndTime } = this.chunk;
    // The chunk's header, then its records straight from the reused buffer (no copy of the records in between).
    const header = chunkHeader({
      start: messageStartTime, end: messageEndTime, uncompressedSize: raw.length, uncompressedCrc: crc32Continue(0, raw),
      compression, recordsLength: records.byteLength,
    });
    this.writeOut(header);
    this.writeOut(records);
    const chunkLength = BigInt(header.length + records.byteLength);
    const messageIndexOffsets = new Map<number, bigint>();
    let messageIndexLength = 0n;
    for (const index of this.chunk.indices()) {
      messageIndexOffsets.set(index.channelId, this.pos + messageIndexLength);
      messageIndexLength += this.rec.writeMessageIndex(index);
    }
    this.emit();
    this.chunkIndexes.push({
      messageStartTime,
      messageEndTime,
      chunkStartOffset,
      chunkLength,
      messageIndexOffsets,
      messageIndexLength,
      compression,
      compressedSize: BigInt(records.byteLength),
      uncompressedSize: BigInt(raw.length),
    });
    this.stats.chunkCount++;
    this.chunk.reset();
    this.writtenInChunk.schemas.clear();
    this.writtenInChunk.channels.clear();
  }

  /** Flushes, writes DataEnd, the summary (schemas, channels, statistics, indexes) and the footer; closes. */
  close(): void {
    if (this.closed) return;
    this.flushChunk();
    // 0: not computed, which MCAP allows. Every chunk carries the CRC of its records, and that is what finds damage
    // (mcap-reader.ts); a second pass over every byte of camera images for the whole file bought nothing more.
    this.rec.writeDataEnd({ dataSectionCrc: 0 });
    this.emit();
    const summaryStart = this.pos;
    let summaryCrc = 0;
    const offsets: McapTypes.SummaryOffset[] = [];
    const group = (opcode: number, write: () => bigint) => {
      const groupStart = this.pos;
      const groupLength = write();
      if (groupLength > 0n) offsets.push({ groupOpcode: opcode, groupStart, groupLength });
      summaryCrc = crc32Continue(summaryCrc, this.rec.buffer);
      this.emit();
    };
    const sum = (items: Iterable<bigint>) => [...items].reduce((a, b) => a + b, 0n);
    const Op = McapConstants.Opcode;
    group(Op.SCHEMA, () => sum([...this.schemas.values()].map((s) => this.rec.writeSchema(s))));
    group(Op.CHANNEL, () => sum([...this.channels.values()].map((c) => this.rec.writeChannel(c))));
    group(Op.STATISTICS, () => this.rec.writeStatistics(this.stats));
    group(Op.METADATA_INDEX, () => sum(this.metadataIndexes.map((m) => this.rec.writeMetadataIndex(m))));
    group(Op.CHUNK_INDEX, () => sum(this.chunkIndexes.map((c) => this.rec.writeChunkIndex(c))));
    const summaryOffsetStart = this.pos;
    for (const o of offsets) this.rec.writeSummaryOffset(o);
    summaryCrc = crc32Continue(summaryCrc, this.rec.buffer);
    // The footer's CRC covers the summary up to and including the footer's own first fields.
    const footerHead = new DataView(new ArrayBuffer(1 + 8 + 8 + 8));
    footerHead.setUint8(0, Op.FOOTER);
    footerHead.setBigUint64(1, 20n, true);
    footerHead.setBigUint64(9, summaryStart, true);
    footerHead.setBigUint64(17, summaryOffsetStart, true);
    summaryCrc = crc32Continue(summaryCrc, new Uint8Array(footerHead.buffer));
    this.rec.writeFooter({ summaryStart, summaryOffsetStart, summaryCrc });
    this.rec.writeMagic();
    this.emit();
    if (this.opts.fsync) fsyncSync(this.fd);
    closeSync(this.fd);
    this.closed = true;
  }

  /** Puts what was written since the last sync on the disk (fsync), when the options ask for it. */
  sync(): void {
    if (!this.opts.fsync || this.pos === this.syncedPos) return;
    fsyncSync(this.fd);
    this.syncedPos = this.pos;
  }

  /** Writes what the record builder holds. */
  private emit(): void {
    const buf = this.rec.buffer;
    if (buf.length === 0) return;
    this.writeOut(buf);
    this.rec.reset();
  }

  private writeOut(buf: Uint8Array): void {
    let off = 0;
    while (off < buf.length) off += writeSync(this.fd, buf, off, buf.length - off);
    this.pos += BigInt(buf.length);
  }
}
