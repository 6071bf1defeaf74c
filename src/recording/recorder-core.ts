import { mkdirSync, statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import { LOG_METADATA_NAME, LOG_PROFILE, LOG_VERSION, McapFileWriter } from './mcap-writer.js';
import type { RecordItem, RecordingSummary, ToWorker } from './recorder-protocol.js';
import { encodeJson, IMAGE_CHANNEL_PREFIX, ownMessage, topicSchema } from './schemas.js';
import { ReusingCdrWriter } from './ros2-image.js';
import { FoxgloveViews, logLine, type ViewMessage } from './views.js';

/** What the core needs of the start message (the batch counter is the worker adapter's). */
export type RecorderStart = Omit<Extract<ToWorker, { type: 'start' }>, 'handled'>;
export type Severity = 'info' | 'warning' | 'error';
/** Free space of the file system holding `path` (bytes), or null when it cannot be known. */
export type FreeSpace = (path: string) => number | null;

export const statfsFreeSpace: FreeSpace = (path) => {
  try {
    const st = statfsSync(path);
    return st.bavail * st.bsize;
  } catch {
    return null;
  }
};

type DiskState = 'ok' | 'no_images' | 'full';

/**
 * Everything the recorder does to bytes: our JSON channels, the Foxglove views (images included), chunking, zstd,
 * file rotation and the disk-space policy (images dropped first, telemetry kept, then a clean stop; each step
 * said in the log's viz/log channel and to the daemon). It runs inside the recorder worker (recorder-worker.ts
 * is its thin adapter); tests construct it directly, with a fake `freeSpace`. Call `tick()` every flush
 * interval: it closes the open chunk, which is what bounds the loss on `kill -9`.
 */
export class RecorderCore {
  private writer: McapFileWriter | null = null;
  private fileIndex = 0;
  private readonly channels = new Map<string, { id: number; seq: number }>();
  private readonly schemaIds = new Map<string, number>();
  private views: FoxgloveViews;
  private disk: DiskState = 'ok';
  /** Whether the open chunk holds camera images (they get chunks of their own). */
  private chunkHoldsImages = false;
  private lastTUs = 0;
  /** The views' opening messages go in with a file's first message, at its time (a log starts at its first message). */
  private needStart = true;
  private pendingNotes: { severity: Severity; message: string }[] = [];
  private readonly encoder = new TextEncoder();
  private readonly cdr = new ReusingCdrWriter();
  readonly summary: RecordingSummary = { files: [], messages: 0, bytes: 0, droppedImages: 0, droppedAll: 0, abortedReason: null };

  constructor(
    private readonly s: RecorderStart,
    private readonly io: { freeSpace?: FreeSpace; onNote?: (severity: Severity, message: string) => void; onFile?: (path: string) => void } = {},
  ) {
    this.views = new FoxgloveViews(s.config.images, s.track);
  }

  /** Opens the first file (zstd must be loaded: `await McapFileWriter.ready()`). */
  open(): void {
    this.openFile();
    this.checkDisk(0);
  }

  record(item: RecordItem): void {
    this.lastTUs = item.tUs;
    const ts = topicSchema(item.topic);
    if (this.disk === 'full' || !this.writer) {
      this.summary.droppedAll++;
      return;
    }
    const m = item.msg as { tUs?: unknown };
    const publishUs = typeof m?.tUs === 'number' ? m.tUs : item.tUs;
    const t = this.timeNs(item.tUs);
    // A FrameSet's record goes in whatever the disk; its pixels are the part that is dropped when space runs low.
    if (this.disk === 'no_images' && ts.kind === 'image' && item.topic !== 'camera/frameset') {
      this.summary.droppedImages++;
      return;
    }
    if (this.needStart) {
      this.needStart = false;
      for (const v of this.views.start(t)) this.write(v, item.tUs, item.tUs);
      for (const n of this.pendingNotes.splice(0)) this.write(logLine(t, n.severity, 'recorder', n.message), item.tUs, item.tUs);
    }
    // Pixels withheld (the event loop found the worker behind, or the disk is low) are never encoded: a FrameSet
    // due to be recorded keeps its record and counts as one whose images were dropped. Which FrameSets are due
    // (recording.images: format, everyNth) the event loop has decided (recorder.ts).
    const isFrameSet = item.topic === 'camera/frameset';
    const due = isFrameSet && item.imagesNotDue !== true && this.s.config.images.format !== 'none';
    const withhold = due && (item.skipImages === true || this.disk === 'no_images');
    if (withhold) this.summary.droppedImages++;
    const views: ViewMessage[] = this.views.convert(item.topic, item.msg, t, due && !withhold);
    // Images before the FrameSet that refers to them: a replay reading in order has the pixels when the set comes.
    for (const v of views) this.write(v, item.tUs, publishUs);
    this.write({ channel: item.topic, schemaName: String(ts.schema.title ?? item.topic), schema: ts.schema, message: ownMessage(item.topic, item.msg) }, item.tUs, publishUs);
    if (this.writer && this.writer.bytesWritten >= this.s.config.rotateBytes) this.rotate();
  }

  tick(): void {
    if (!this.writer) return;
    this.writer.flushChunk();
    this.writer.sync();
    this.checkDisk(this.lastTUs);
    if (this.writer && this.writer.bytesWritten >= this.s.config.rotateBytes) this.rotate();
  }

  close(): void {
    if (!this.writer) return;
    this.writer.close();
    this.summary.bytes += this.writer.bytesWritten;
    this.writer = null;
  }

  /** After a write error: keep what is on disk (the reader recovers up to the last good chunk), record no more. */
  fail(err: unknown): void {
    const message = `recording failed: ${(err as Error)?.message ?? String(err)}`;
    this.summary.abortedReason = message;
    this.io.onNote?.('error', message);
    this.disk = 'full';
    try {
      this.writer?.flushChunk();
    } catch {
      // The file is what it is.
    }
    this.writer = null;
  }

  private timeNs(tUs: number): bigint {
    return BigInt(Math.round(tUs + this.s.unixOffsetUs)) * 1000n;
  }

  private note(severity: Severity, message: string, tUs: number): void {
    this.io.onNote?.(severity, message);
    if (this.writer && this.needStart) this.pendingNotes.push({ severity, message });
    else if (this.writer) this.write(logLine(this.timeNs(tUs), severity, 'recorder', message), tUs, tUs);
  }

  private openFile(): void {
    const s = this.s;
    const path = `${s.basePath}-${String(this.fileIndex++).padStart(3, '0')}.mcap`;
    mkdirSync(dirname(path), { recursive: true });
    this.writer = new McapFileWriter(
      path,
      { compression: s.config.compression, zstdLevel: s.config.zstdLevel, chunkBytes: s.config.chunkBytes, fsync: true },
      { profile: LOG_PROFILE, library: `racepilot log v${LOG_VERSION} (@mcap/core record builder)` },
    );
    const meta: Record<string, string> = { logVersion: String(LOG_VERSION), clockKind: s.clockKind, unixOffsetUs: String(s.unixOffsetUs), part: String(this.fileIndex - 1), ...s.metadata };
    if (s.track) meta.track = JSON.stringify(s.track);
    this.writer.addMetadata(LOG_METADATA_NAME, new Map(Object.entries(meta)));
    this.channels.clear();
    this.schemaIds.clear();
    this.chunkHoldsImages = false;
    this.summary.files.push(path);
    this.io.onFile?.(path);
    // Each part opens in Foxglove on its own: the frames and the track's gates again.
    this.views = new FoxgloveViews(s.config.images, s.track);
    this.needStart = true;
  }

  private rotate(): void {
    this.close();
    this.openFile();
  }

  private write(v: ViewMessage, tUs: number, publishUs: number): void {
    const w = this.writer!;
    // Camera images go in chunks of their own: a replay that does not need them (the flight layer, the planner)
    // then reads none of their megabytes, through the chunk index (mcap-reader.ts openIndexedLog). A FrameSet's
    // images come one after another, so this flushes twice per FrameSet, not per image.
    const image = v.channel.startsWith(IMAGE_CHANNEL_PREFIX);
    if (image !== this.chunkHoldsImages) {
      w.flushChunk();
      this.chunkHoldsImages = image;
      // Image chunks are stored as they are: PNG and JPEG are compressed already, and raw pixels are what one
      // records when the CPU matters more than the disk (zstd over them costs more than the rest of recording).
      w.compressOpenChunk = !image;
    }
    const cdr = 'codec' in v;
    let ref = this.channels.get(v.channel);
    if (!ref) {
      const schemaName = cdr ? v.codec.name : v.schemaName;
      let schemaId = this.schemaIds.get(schemaName);
      if (schemaId === undefined) {
        schemaId = cdr
          ? w.addSchema(schemaName, 'ros2msg', this.encoder.encode(v.codec.text))
          : w.addSchema(schemaName, 'jsonschema', this.encoder.encode(JSON.stringify(v.schema)));
        this.schemaIds.set(schemaName, schemaId);
      }
      ref = { id: w.addChannel(v.channel, schemaId, cdr ? 'cdr' : 'json'), seq: 0 };
      this.channels.set(v.channel, ref);
    }
    const data = cdr ? this.cdr.write(v.codec, v.message) : this.encoder.encode(encodeJson(v.message));
    w.addMessage(ref.id, ref.seq++, this.timeNs(tUs), this.timeNs(publishUs), data);
    this.summary.messages++;
  }

  private checkDisk(tUs: number): void {
    const c = this.s.config;
    const free = (this.io.freeSpace ?? statfsFreeSpace)(dirname(`${this.s.basePath}-x`));
    if (free === null) return; // statfs unsupported here: keep recording rather than guess
    const mb = (b: number) => `${Math.round(b / 1048576)} MiB`;
    if (free < c.minFreeBytes && this.disk !== 'full') {
      this.note('error', `disk nearly full (${mb(free)} free < ${mb(c.minFreeBytes)}): recording stopped, log closed cleanly`, tUs);
      this.disk = 'full';
      this.summary.abortedReason = `disk nearly full (${mb(free)} free)`;
      this.close();
    } else if (free < c.minFreeBytesImages && this.disk === 'ok') {
      this.note('warning', `disk low (${mb(free)} free < ${mb(c.minFreeBytesImages)}): dropping images, keeping telemetry`, tUs);
      this.disk = 'no_images';
    } else if (this.disk === 'no_images' && free > c.minFreeBytesImages * 1.1) {
      // 10% hysteresis, so a disk hovering at the limit does not flap.
      this.note('info', `disk space back (${mb(free)} free): recording images again`, tUs);
      this.disk = 'ok';
    }
  }
}
