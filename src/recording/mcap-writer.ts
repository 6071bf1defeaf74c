import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { McapChunkBuilder, McapRecordBuilder, McapConstants, type McapTypes } from '@mcap/core';
import { crc32, crc32Final, crc32Init, crc32Update } from '@foxglove/crc';
import * as zstd from '@foxglove/wasm-zstd';

/** Our profile in the MCAP header, and the log format version in its metadata (see mcap-reader.ts). */
export const LOG_PROFILE = 'racepilot';
export const LOG_VERSION = 1;
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
 * it. This class uses the same library builders (McapRecordBuilder, McapChunkBuilder) and writes the same records
 * in the same order (schemas and channels inside the chunk that first uses them, message indexes after each
 * chunk, a full summary with chunk indexes at the end), and adds `flushChunk()`.
 */
export class McapFileWriter {
  private readonly fd: number;
  private readonly rec = new McapRecordBuilder();
  private readonly chunk = new McapChunkBuilder({ useMessageIndex: true });
  private readonly schemas = new Map<number, McapTypes.Schema>();
  private readonly channels = new Map<number, McapTypes.Channel>();
  private readonly writtenInChunk = { schemas: new Set<number>(), channels: new Set<number>() };
  private readonly chunkIndexes: McapTypes.ChunkIndex[] = [];
  private readonly metadataIndexes: McapTypes.MetadataIndex[] = [];
  private dataCrc = crc32Init();
  private pos = 0n;
  private syncedPos = 0n;
  private closed = false;
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
    this.emit(true);
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
    this.emit(true);
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
    const raw = this.chunk.buffer;
    let compression = '';
    let records: Uint8Array = raw;
    if (this.opts.compression === 'zstd') {
      compression = 'zstd';
      records = zstd.compress(raw, this.opts.zstdLevel);
    }
    const chunkStartOffset = this.pos;
    const chunkLength = this.rec.writeChunk({
      messageStartTime: this.chunk.messageStartTime,
      messageEndTime: this.chunk.messageEndTime,
      uncompressedSize: BigInt(raw.length),
      uncompressedCrc: crc32(raw),
      compression,
      records,
    });
    this.emit(true);
    const messageIndexOffsets = new Map<number, bigint>();
    let messageIndexLength = 0n;
    for (const index of this.chunk.indices) {
      messageIndexOffsets.set(index.channelId, this.pos + messageIndexLength);
      messageIndexLength += this.rec.writeMessageIndex(index);
    }
    this.emit(true);
    this.chunkIndexes.push({
      messageStartTime: this.chunk.messageStartTime,
      messageEndTime: this.chunk.messageEndTime,
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
    this.rec.writeDataEnd({ dataSectionCrc: crc32Final(this.dataCrc) });
    this.emit(false);
    const summaryStart = this.pos;
    let summaryCrc = crc32Init();
    const offsets: McapTypes.SummaryOffset[] = [];
    const group = (opcode: number, write: () => bigint) => {
      const groupStart = this.pos;
      const groupLength = write();
      if (groupLength > 0n) offsets.push({ groupOpcode: opcode, groupStart, groupLength });
      summaryCrc = crc32Update(summaryCrc, this.rec.buffer);
      this.emit(false);
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
    summaryCrc = crc32Update(summaryCrc, this.rec.buffer);
    // The footer's CRC covers the summary up to and including the footer's own first fields.
    const footerHead = new DataView(new ArrayBuffer(1 + 8 + 8 + 8));
    footerHead.setUint8(0, Op.FOOTER);
    footerHead.setBigUint64(1, 20n, true);
    footerHead.setBigUint64(9, summaryStart, true);
    footerHead.setBigUint64(17, summaryOffsetStart, true);
    summaryCrc = crc32Update(summaryCrc, footerHead);
    this.rec.writeFooter({ summaryStart, summaryOffsetStart, summaryCrc: crc32Final(summaryCrc) });
    this.rec.writeMagic();
    this.emit(false);
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

  /** Writes what the record builder holds; `data` says whether it belongs to the data section's CRC. */
  private emit(data: boolean): void {
    const buf = this.rec.buffer;
    if (buf.length === 0) return;
    if (data) this.dataCrc = crc32Update(this.dataCrc, buf);
    let off = 0;
    while (off < buf.length) off += writeSync(this.fd, buf, off, buf.length - off);
    this.pos += BigInt(buf.length);
    this.rec.reset();
  }
}
