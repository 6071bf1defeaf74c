import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import type { TopicBus } from '../core/bus.js';
import type { Clock } from '../core/clock.js';
import type { RecordingConfig } from '../core/config/recording.js';
import type { Logger } from '../core/logger.js';
import type { FrameSet, Topics } from '../core/messages.js';
import type { SceneTrack } from './views.js';
import type { FromWorker, RecordItem, RecordingSummary, ToWorker } from './recorder-protocol.js';
import { ImageRing } from './image-ring.js';

export type { RecordingSummary } from './recorder-protocol.js';

export interface RecordingOptions {
  /** Files become `${basePath}-000.mcap`, ...; default `<config.dir>/racepilot-<UTC date-time>`. */
  basePath?: string;
  log?: Logger;
  metadata?: Record<string, string>;
  /** The race track (a planning Track fits): drawn in the log's 3D scene, kept in its metadata. */
  track?: SceneTrack | null;
  /**
   * Pixels posted to the worker and not yet written (bytes): the size of the shared ring they travel in
   * (image-ring.ts). When it is full, FrameSets are recorded without their images, so a worker that cannot keep up
   * costs neither memory nor the event loop. Default 64 MiB, allocated with the first recorded image.
   */
  maxBacklogBytes?: number;
}

const EMPTY_PIXELS = new Uint8Array(0);

export interface Recording {
  /** Files opened so far (rotation adds more). */
  readonly files: string[];
  /** Stops recording, closes the file cleanly (summary, footer) and ends the worker. */
  stop(): Promise<RecordingSummary>;
  /** Batches posted to the worker that it has not yet handled, as of its last count: its backlog. */
  readonly backlog: number;
}

/**
 * Records every bus topic to MCAP. On the event loop this only copies each message into a batch (camera pixels into
 * a shared ring, image-ring.ts) and posts the batch to the recorder worker once per turn of the loop; everything
 * else happens there (see recorder-worker.ts).
 */
export function startRecording(bus: TopicBus<Topics>, clock: Clock, config: RecordingConfig, opts: RecordingOptions = {}): Recording {
  // No inherited execArgv: under `node -e SCRIPT` the worker would otherwise get the -e and run SCRIPT, not itself.
  const worker = new Worker(new URL('./recorder-worker.js', import.meta.url), { execArgv: [] });
  const files: string[] = [];
  let batch: RecordItem[] = [];
  let batchImageBytes = 0;
  const inFlight: number[] = [];
  // Batches the worker has handled, counted there (recorder-protocol.ts, `handled`), and how many of them were reaped.
  const handled = new Int32Array(new SharedArrayBuffer(4));
  let reaped = 0;
  /** Frees the image spans of the batches the worker is done with. Wrapping Int32 counters: the difference is exact. */
  const reap = () => {
    const now = Atomics.load(handled, 0);
    for (let n = (now - reaped) | 0; n > 0; n--) {
      // Shifted whether or not there is a ring: `ring?.free(inFlight.shift())` would skip the shift with no ring
      // (images off, or none due yet), and the list would grow for the whole flight.
      const cost = inFlight.shift() ?? 0;
      ring?.free(cost);
    }
    reaped = now;
  };
  let skipped = 0;
  const maxBacklog = opts.maxBacklogBytes ?? 64 * 1024 * 1024;
  let ring: ImageRing | null = null;
  let frameSets = 0;
  let scheduled = false;
  let stopping: Promise<RecordingSummary> | null = null;
  let resolveStopped: (s: RecordingSummary) => void = () => {};
  let rejectStopped: (e: Error) => void = () => {};

  const toWorker = (m: ToWorker) => worker.postMessage(m);
  const flushBatch = () => {
    scheduled = false;
    // Here as well as before each copy into the ring: inFlight must stay short when no images are due (format none,
    // cameras idle), and reaping is one atomic load.
    reap();
    if (batch.length === 0) return;
    toWorker({ type: 'batch', items: batch });
    inFlight.push(batchImageBytes);
    batch = [];
    batchImageBytes = 0;
  };

  worker.on('message', (m: FromWorker) => {
    if (m.type === 'file') files.push(m.path);
    else if (m.type === 'note') {
      const level = m.severity === 'error' ? 'error' : m.severity === 'warning' ? 'warn' : 'info';
      opts.log?.[level]({ module: 'recording' }, m.message);
    } else if (m.type === 'stopped') resolveStopped(m.summary);
  });
  // A worker that died before stop() was called: stop() must not wait for an answer that cannot come.
  let dead: Error | null = null;
  worker.on('error', (err) => {
    opts.log?.error({ module: 'recording', err }, 'recorder worker failed');
    dead ??= err;
    rejectStopped(err);
  });
  worker.on('exit', (code) => {
    dead ??= new Error(`recorder worker exited with code ${code}`);
    rejectStopped(dead);
  });
  // The recorder must not keep a finished daemon alive on its own.
  worker.unref();

  const unixOffsetUs = clock.kind === 'wall' ? Math.round(performance.timeOrigin * 1000) : 0;
  const basePath = opts.basePath ?? join(config.dir, `racepilot-${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}`);
  toWorker({ type: 'start', basePath, config, clockKind: clock.kind, unixOffsetUs, metadata: opts.metadata ?? {}, track: opts.track ?? null, handled: handled.buffer as SharedArrayBuffer });

  // On a simulated or log clock a message's own tUs is the time it was published on the pipeline's clock, even when
  // the clock handed to the recorder is not the one the pipeline advances (`racepilot sim` passes a fresh one, which
  // stamped a whole flight at 0 s); the stamps never go backwards, so the log stays in time order.
  let lastUs = -Infinity;
  const stamp = (msg: unknown): number => {
    const own = (msg as { tUs?: unknown } | null)?.tUs;
    const t = clock.kind !== 'wall' && typeof own === 'number' && Number.isFinite(own) ? Math.max(clock.nowUs(), own) : clock.nowUs();
    lastUs = Math.max(lastUs, t);
    return lastUs;
  };
  const unsubscribe = bus.subscribeAll((topic, msg) => {
    const item: RecordItem = { topic: topic as string, tUs: stamp(msg), msg };
    if (topic === 'camera/frameset') {
      const fs = msg as FrameSet;
      const noPixels = () => ({ ...fs, images: fs.images.map((img) => (img ? { ...img, data: EMPTY_PIXELS } : null)) });
      // Thinning (everyNth) is decided here, so the pixels of a FrameSet not to be recorded are never copied.
      const due = config.images.format !== 'none' && frameSets++ % config.images.everyNth === 0;
      if (!due) {
        item.msg = noPixels();
        item.imagesNotDue = true;
      } else {
        ring ??= new ImageRing(maxBacklog);
        reap();
        const before = ring.mark();
        const copies = fs.images.map((img) => (img ? ring!.copyIn(img.data) : null));
        if (copies.some((c, k) => fs.images[k] && !c)) {
          // The worker is behind: it gets the record without pixels and counts the drop; the spans this FrameSet
          // did get are given back at once (copyIn never throws: it answers null when a span does not fit).
          ring.rollback(before);
          item.msg = noPixels();
          item.skipImages = true;
          if (skipped++ % 300 === 0) opts.log?.warn({ module: 'recording', skipped }, 'recorder behind: FrameSets recorded without images');
        } else {
          item.msg = { ...fs, images: fs.images.map((img, k) => (img ? { ...img, data: copies[k]!.view } : null)) };
          batchImageBytes += copies.reduce((a, c) => a + (c?.cost ?? 0), 0);
        }
      }
    }
    batch.push(item);
    if (!scheduled) {
      scheduled = true;
      setImmediate(flushBatch);
    }
  });

  return {
    files,
    get backlog() {
      reap();
      return inFlight.length;
    },
    stop() {
      if (stopping) return stopping;
      unsubscribe();
      flushBatch();
      stopping = new Promise<RecordingSummary>((resolve, reject) => {
        resolveStopped = resolve;
        rejectStopped = reject;
        if (dead) reject(dead);
      }).finally(() => void worker.terminate());
      worker.ref();
      toWorker({ type: 'stop' });
      return stopping;
    },
  };
}
