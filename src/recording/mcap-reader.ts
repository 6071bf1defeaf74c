import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { McapIndexedReader, McapStreamReader, type McapTypes } from '@mcap/core';
import * as zstd from '@foxglove/wasm-zstd';
import { InputError } from '../core/errors.js';
import { LOG_METADATA_NAME, LOG_PROFILE, LOG_VERSION } from './mcap-writer.js';
import { codecForText } from './ros2-image.js';
import { decodeJson, type JsonSchema } from './schemas.js';

const MCAP_MAGIC = Buffer.from([0x89, 0x4d, 0x43, 0x41, 0x50, 0x30, 0x0d, 0x0a]);
const READ_SIZE = 1 << 20;

/** How a log ended: a complete file, one cut short (power loss, kill -9), or damaged bytes at an offset. */
export type LogEnding =
  | { kind: 'clean' }
  | { kind: 'truncated'; atOffset: number }
  | { kind: 'corrupt'; atOffset: number; message: string };

export interface LogChannel {
  id: number;
  topic: string;
  schemaName: string;
  schemaEncoding: string;
  messageEncoding: string;
  /** The channel's JSON Schema when it has one (encoding jsonschema), else null. */
  schema: JsonSchema | null;
  /** The channel's ROS 2 message definition when it has one (encoding ros2msg: the camera images), else null. */
  ros2msg: string | null;
  count: number;
}

export interface LogInfo {
  file: string;
  fileBytes: number;
  /** Bytes up to the end of the last record read completely: everything before it is usable. */
  intactBytes: number;
  header: McapTypes.Header | null;
  /** Our metadata record (log version, clock), or null for a foreign MCAP. */
  meta: Record<string, string> | null;
  /** A racepilot log (profile and metadata), as opposed to another program's MCAP. */
  ours: boolean;
  logVersion: number | null;
  channels: LogChannel[];
  messages: number;
  chunks: number;
  startNs: bigint | null;
  endNs: bigint | null;
  ending: LogEnding;
}

export interface LogMessage {
  topic: string;
  channel: LogChannel;
  sequence: number;
  logTimeNs: bigint;
  publishTimeNs: bigint;
  data: Uint8Array;
}

/** zstd is WebAssembly: await this once before reading compressed logs. */
export function readerReady(): Promise<boolean> {
  return zstd.isLoaded;
}

/**
 * Reads a log front to back with @mcap/core's streaming reader, so that a file without its summary (cut short)
 * yields every message up to the last complete chunk, and damage stops the read at its offset instead of losing
 * the whole file. Never throws for a damaged racepilot log: the damage is in `ending`. Throws InputError for a file
 * that is not MCAP at all, or that cannot be opened. Yields messages; returns the LogInfo.
 */
export function* iterateLog(file: string): Generator<LogMessage, LogInfo, void> {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ENOENT' ? 'file not found' : `cannot open (${code ?? String(err)})`, file, { cause: err });
  }
  try {
    const fileBytes = fstatSync(fd).size;
    const head = Buffer.alloc(8);
    const got = readSync(fd, head, 0, 8, 0);
    if (got < 8 || !head.equals(MCAP_MAGIC)) {
      const what = got === 0 ? 'the file is empty' : `it starts with ${JSON.stringify(head.subarray(0, got).toString('latin1'))}`;
      throw new InputError(`not an MCAP log (${what}; a racepilot log starts with the MCAP magic "\\x89MCAP0")`, file);
    }
    const info: LogInfo = {
      file,
      fileBytes,
      intactBytes: 0,
      header: null,
      meta: null,
      ours: false,
      logVersion: null,
      channels: [],
      messages: 0,
      chunks: 0,
      startNs: null,
      endNs: null,
      ending: { kind: 'truncated', atOffset: 0 },
    };
    const reader = new McapStreamReader({
      includeChunks: true,
      decompressHandlers: { zstd: (buf, size) => zstd.decompress(buf, Number(size)) },
      validateCrcs: true,
    });
    const channels = new Map<number, LogChannel>();
    const schemas = new Map<number, McapTypes.Schema>();
    const buf = Buffer.alloc(READ_SIZE);
    let appended = 0;
    let eof = false;
    // A chunk's damage shows when its contents are read, just after the chunk record itself: blame its start.
    let chunkStart: number | null = null;
    for (;;) {
      let rec: McapTypes.TypedMcapRecord | undefined;
      const before = appended - reader.bytesRemaining();
      try {
        rec = reader.nextRecord();
      } catch (err) {
        info.ending = { kind: 'corrupt', atOffset: chunkStart ?? before, message: (err as Error).message };
        break;
      }
      if (rec === undefined) {
        if (reader.done()) {
          info.ending = { kind: 'clean' };
          info.intactBytes = fileBytes;
          break;
        }
        if (eof) {
          info.ending = { kind: 'truncated', atOffset: info.intactBytes };
          break;
        }
        const n = readSync(fd, buf, 0, READ_SIZE, appended);
        if (n === 0) eof = true;
        else {
          reader.append(buf.subarray(0, n));
          appended += n;
        }
        continue;
      }
      // Chunk records come before their contents: the chunk is intact once its messages follow, so count the chunk's
      // end as intact at its first content record, or now if it is empty.
      if (rec.type !== 'Chunk') info.intactBytes = appended - reader.bytesRemaining();
      chunkStart = rec.type === 'Chunk' ? before : null;
      switch (rec.type) {
        case 'Header':
          info.header = rec;
          break;
        case 'Metadata':
          if (rec.name === LOG_METADATA_NAME && !info.meta) {
            info.meta = Object.fromEntries(rec.metadata);
            const v = Number(info.meta.logVersion);
            info.logVersion = Number.isFinite(v) ? v : null;
          }
          break;
        case 'Chunk':
          info.chunks++;
          break;
        case 'Schema':
          schemas.set(rec.id, rec);
          break;
        case 'Channel':
          if (!channels.has(rec.id)) {
            const schema = schemas.get(rec.schemaId);
            const ch: LogChannel = {
              id: rec.id,
              topic: rec.topic,
              schemaName: schema?.name ?? '',
              schemaEncoding: schema?.encoding ?? '',
              messageEncoding: rec.messageEncoding,
              schema: schema?.encoding === 'jsonschema' ? parseSchema(schema.data) : null,
              ros2msg: ros2msgText(schema),
              count: 0,
            };
            channels.set(rec.id, ch);
            info.channels.push(ch);
          }
          break;
        case 'Message': {
          const ch = channels.get(rec.channelId)!;
          ch.count++;
          info.messages++;
          if (info.startNs === null || rec.logTime < info.startNs) info.startNs = rec.logTime;
          if (info.endNs === null || rec.logTime > info.endNs) info.endNs = rec.logTime;
          yield { topic: ch.topic, channel: ch, sequence: rec.sequence, logTimeNs: rec.logTime, publishTimeNs: rec.publishTime, data: rec.data };
          break;
        }
        default:
          break;
      }
    }
    info.ours = info.header?.profile === LOG_PROFILE && info.meta !== null;
    return info;
  } finally {
    closeSync(fd);
  }
}

/** Reads a whole log for its summary (counts, span, ending), discarding messages. */
export async function readLogInfo(file: string): Promise<LogInfo> {
  await readerReady();
  const it = iterateLog(file);
  for (;;) {
    const r = it.next();
    if (r.done) return r.value;
  }
}

/** Throws a clear InputError unless this is a racepilot log of a version this build can replay. */
export function checkReplayable(info: LogInfo): void {
  if (!info.ours) {
    const h = info.header;
    throw new InputError(
      `not a racepilot log (MCAP profile ${JSON.stringify(h?.profile ?? '')}, library ${JSON.stringify(h?.library ?? '')}); ` +
        'log-info can list its channels, replay needs a log recorded by racepilot',
      info.file,
    );
  }
  if (info.logVersion === null || info.logVersion > LOG_VERSION) {
    throw new InputError(
      `log format version ${info.meta?.logVersion ?? '(missing)'} is newer than this racepilot reads (${LOG_VERSION}); replay it with the racepilot that recorded it`,
      info.file,
    );
  }
}

/**
 * Decodes one of our messages: a JSON one into its typed topic message (bytes fields revived), a CDR one (camera
 * images) with its own ros2msg schema. A message that does not decode is an InputError naming channel and sequence.
 */
export function decodeMessage(m: LogMessage): unknown {
  const where = `${m.topic} message ${m.sequence}`;
  if (m.channel.messageEncoding === 'cdr') {
    if (m.channel.ros2msg === null) throw new InputError('CDR message on a channel without a ros2msg schema', where);
    try {
      return codecForText(m.channel.schemaName, m.channel.ros2msg).reader.readMessage(m.data);
    } catch (err) {
      throw new InputError(`CDR message does not decode with its schema ${m.channel.schemaName}: ${(err as Error).message}`, where, { cause: err });
    }
  }
  const text = Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength).toString('utf8');
  try {
    return decodeJson(text, m.channel.schema ?? {});
  } catch (err) {
    throw new InputError(`message is not JSON: ${(err as Error).message}`, where, { cause: err });
  }
}

function ros2msgText(schema: McapTypes.Schema | undefined): string | null {
  return schema?.encoding === 'ros2msg' ? Buffer.from(schema.data).toString('utf8') : null;
}

function parseSchema(data: Uint8Array): JsonSchema | null {
  try {
    const s = JSON.parse(Buffer.from(data).toString('utf8')) as unknown;
    return s && typeof s === 'object' ? (s as JsonSchema) : null;
  } catch {
    return null;
  }
}

/** A clean log opened through its summary: the LogInfo without reading a chunk, and messages of chosen topics. */
export interface IndexedLog {
  info: LogInfo;
  /** Messages of these topics in log-time order (ties in file order), reading only the chunks that hold them. */
  messages(topics: readonly string[]): AsyncGenerator<LogMessage, void, void>;
  close(): Promise<void>;
}

/**
 * Opens a log by its summary section (chunk indexes, statistics, metadata index), which a cleanly closed racepilot
 * log has: the time span and channel counts without reading the file, and a replay that reads only the chunks with
 * the topics it needs (camera images are written in chunks of their own, so a flight-layer replay skips them).
 * Null when the file has no usable summary (cut short, damaged, or another program's MCAP without statistics):
 * the caller reads it front to back with iterateLog, which recovers what can be recovered.
 */
export async function openIndexedLog(file: string): Promise<IndexedLog | null> {
  const handle = await open(file, 'r');
  try {
    const fileBytes = (await handle.stat()).size;
    const reader = await McapIndexedReader.Initialize({
      readable: {
        size: async () => BigInt(fileBytes),
        read: async (offset: bigint, size: bigint) => {
          const buf = Buffer.alloc(Number(size));
          await handle.read(buf, 0, buf.length, Number(offset));
          return buf;
        },
      },
      decompressHandlers: { zstd: (buf, size) => zstd.decompress(buf, Number(size)) },
    });
    const stats = reader.statistics;
    if (!stats) throw new Error('no statistics record');
    let meta: Record<string, string> | null = null;
    for await (const m of reader.readMetadata({ name: LOG_METADATA_NAME })) {
      meta ??= Object.fromEntries(m.metadata);
    }
    const channels = new Map<number, LogChannel>();
    for (const [id, c] of reader.channelsById) {
      const schema = reader.schemasById.get(c.schemaId);
      channels.set(id, {
        id, topic: c.topic, schemaName: schema?.name ?? '', schemaEncoding: schema?.encoding ?? '', messageEncoding: c.messageEncoding,
        schema: schema?.encoding === 'jsonschema' ? parseSchema(schema.data) : null,
        ros2msg: ros2msgText(schema),
        count: Number(stats.channelMessageCounts.get(id) ?? 0n),
      });
    }
    const v = Number(meta?.logVersion);
    const info: LogInfo = {
      file, fileBytes, intactBytes: fileBytes, header: reader.header, meta, ours: reader.header.profile === LOG_PROFILE && meta !== null,
      logVersion: meta && Number.isFinite(v) ? v : null, channels: [...channels.values()], messages: Number(stats.messageCount),
      chunks: reader.chunkIndexes.length, startNs: stats.messageCount > 0n ? stats.messageStartTime : null,
      endNs: stats.messageCount > 0n ? stats.messageEndTime : null, ending: { kind: 'clean' },
    };
    return {
      info,
      async *messages(topics) {
        for await (const rec of reader.readMessages({ topics: [...topics], validateCrcs: true })) {
          const ch = channels.get(rec.channelId)!;
          yield { topic: ch.topic, channel: ch, sequence: rec.sequence, logTimeNs: rec.logTime, publishTimeNs: rec.publishTime, data: rec.data };
        }
      },
      close: () => handle.close(),
    };
  } catch {
    await handle.close();
    return null;
  }
}

/**
 * What a log says about itself (metadata, channels, span) as cheaply as it can be had: from the summary of a clean
 * log, else from a full pass (readLogInfo). Not an integrity check: `log-info` reads every chunk for that.
 */
export async function logSummary(file: string): Promise<LogInfo> {
  await readerReady();
  const indexed = await openIndexedLog(file);
  if (!indexed) return readLogInfo(file);
  await indexed.close();
  return indexed.info;
}
