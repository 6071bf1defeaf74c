import { mkdirSync, statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import { parentPort } from 'node:worker_threads';
import { LOG_METADATA_NAME, LOG_PROFILE, LOG_VERSION, McapFileWriter } from './mcap-writer.js';
import type { FromWorker, RecordItem, RecordingSummary, ToWorker } from './recorder-protocol.js';
import { encodeJson, LOG_VIEW_CHANNEL, logLine, topicSchema, topicViews, type TopicSchema } from './schemas.js';

/**
 * The recorder's worker: JSON encoding, Foxglove views, chunking, zstd and file writes all happen here, so the
 * event loop only posts messages. It closes a chunk every flush interval (what bounds the loss on `kill -9`),
 * rotates files at the configured size, and watches free space: images go first, then everything, and it says so
 * both in the log file (viz/log) and to the daemon's logger.
 */
const port = parentPort;
if (!port) throw new Error('recorder-worker.ts must run as a worker thread');

type Start = Extract<ToWorker, { type: 'start' }>;
type DiskState = 'ok' | 'no_images' | 'full';

interface ChannelRef {
  id: number;
  seq: number;
}

const encoder = new TextEncoder();
let start: Start | null = null;
let writer: McapFileWriter | null = null;
let fileIndex = 0;
const channels = new Map<string, ChannelRef>();
const schemaIds = new Map<string, number>();
let disk: DiskState = 'ok';
let timer: NodeJS.Timeout | null = null;
const summary: RecordingSummary = { files: [], messages: 0, bytes: 0, droppedImages: 0, droppedAll: 0, abortedReason: null };

function post(m: FromWorker): void {
  port!.postMessage(m);
}

function note(severity: 'info' | 'warning' | 'error', message: string, tUs: number): void {
  post({ type: 'note', severity, message });
  if (writer) write(LOG_VIEW_CHANNEL, 'foxglove.Log', null, tUs, logLine(timeNs(tUs), severity, 'recorder', message));
}

function timeNs(tUs: number): bigint {
  return BigInt(Math.round(tUs + start!.unixOffsetUs)) * 1000n;
}

function openFile(): void {
  const s = start!;
  const path = `${s.basePath}-${String(fileIndex++).padStart(3, '0')}.mcap`;
  mkdirSync(dirname(path), { recursive: true });
  writer = new McapFileWriter(
    path,
    { compression: s.config.compression, zstdLevel: s.config.zstdLevel, chunkBytes: s.config.chunkBytes, fsync: true },
    { profile: LOG_PROFILE, library: `racepilot log v${LOG_VERSION} (@mcap/core builders)` },
  );
  writer.addMetadata(
    LOG_METADATA_NAME,
    new Map(Object.entries({ logVersion: String(LOG_VERSION), clockKind: s.clockKind, unixOffsetUs: String(s.unixOffsetUs), part: String(fileIndex - 1), ...s.metadata })),
  );
  channels.clear();
  schemaIds.clear();
  summary.files.push(path);
  post({ type: 'file', path });
}

function closeFile(): void {
  if (!writer) return;
  writer.close();
  summary.bytes += writer.bytesWritten;
  writer = null;
}

/** Writes one JSON message on `channel`; `schemaName`/`schema` null means "the foxglove.Log view schema". */
function write(channel: string, schemaName: string, schema: TopicSchema['schema'] | null, tUs: number, msg: unknown, publishUs = tUs): void {
  const w = writer!;
  let ref = channels.get(channel);
  if (!ref) {
    const sch = schema ?? (topicViews('fc/event')[0]!.schema as TopicSchema['schema']);
    let schemaId = schemaIds.get(schemaName);
    if (schemaId === undefined) {
      schemaId = w.addSchema(schemaName, 'jsonschema', encoder.encode(JSON.stringify(sch)));
      schemaIds.set(schemaName, schemaId);
    }
    ref = { id: w.addChannel(channel, schemaId, 'json'), seq: 0 };
    channels.set(channel, ref);
  }
  w.addMessage(ref.id, ref.seq++, timeNs(tUs), timeNs(publishUs), encoder.encode(encodeJson(msg)));
  summary.messages++;
}

function record(item: RecordItem): void {
  const ts = topicSchema(item.topic);
  if (disk === 'full' || !writer) {
    summary.droppedAll++;
    return;
  }
  if (disk === 'no_images' && ts.kind === 'image') {
    summary.droppedImages++;
    return;
  }
  const m = item.msg as { tUs?: unknown };
  const publishUs = typeof m?.tUs === 'number' ? m.tUs : item.tUs;
  write(item.topic, String(ts.schema.title ?? item.topic), ts.schema, item.tUs, item.msg, publishUs);
  for (const view of topicViews(item.topic)) {
    const out = view.convert(item.msg as never, timeNs(item.tUs));
    if (out !== null) write(view.channel, view.schemaName, view.schema, item.tUs, out, publishUs);
  }
}

function checkDisk(tUs: number): void {
  const s = start!;
  let free: number;
  try {
    const st = statfsSync(dirname(`${s.basePath}-x`));
    free = st.bavail * st.bsize;
  } catch {
    return; // statfs unsupported here: keep recording rather than guess
  }
  const mb = (b: number) => `${Math.round(b / 1048576)} MiB`;
  if (free < s.config.minFreeBytes && disk !== 'full') {
    note('error', `disk nearly full (${mb(free)} free < ${mb(s.config.minFreeBytes)}): recording stopped, log closed cleanly`, tUs);
    disk = 'full';
    summary.abortedReason = `disk nearly full (${mb(free)} free)`;
    closeFile();
  } else if (free < s.config.minFreeBytesImages && disk === 'ok') {
    note('warning', `disk low (${mb(free)} free < ${mb(s.config.minFreeBytesImages)}): dropping images, keeping telemetry`, tUs);
    disk = 'no_images';
  } else if (disk === 'no_images' && free > s.config.minFreeBytesImages * 1.1) {
    // 10% hysteresis, so a disk hovering at the limit does not flap.
    note('info', `disk space back (${mb(free)} free): recording images again`, tUs);
    disk = 'ok';
  }
}

let lastTUs = 0;

function tick(): void {
  if (!writer) return;
  writer.flushChunk();
  checkDisk(lastTUs);
  if (writer && writer.bytesWritten >= start!.config.rotateBytes) {
    closeFile();
    openFile();
  }
}

function fail(err: unknown): void {
  const message = `recording failed: ${(err as Error)?.message ?? String(err)}`;
  summary.abortedReason = message;
  post({ type: 'note', severity: 'error', message });
  disk = 'full';
  try {
    writer?.flushChunk();
  } catch {
    // The file is what it is; the reader recovers up to the last good chunk.
  }
  writer = null;
}

async function handle(m: ToWorker): Promise<void> {
  try {
    if (m.type === 'start') {
      start = m;
      await McapFileWriter.ready();
      openFile();
      checkDisk(0);
      timer = setInterval(tick, m.config.flushIntervalMs);
    } else if (m.type === 'batch') {
      for (const item of m.items) {
        lastTUs = item.tUs;
        record(item);
      }
      if (writer && writer.bytesWritten >= start!.config.rotateBytes) tick();
    } else if (m.type === 'stop') {
      if (timer) clearInterval(timer);
      closeFile();
      post({ type: 'stopped', summary });
    }
  } catch (err) {
    fail(err);
    if (m.type === 'stop') post({ type: 'stopped', summary });
  }
}

// In order, and a batch that arrives while zstd is still loading waits for it rather than being dropped.
let chain: Promise<void> = Promise.resolve();
port.on('message', (m: ToWorker) => {
  chain = chain.then(() => handle(m));
});
