import { parentPort } from 'node:worker_threads';
import { McapFileWriter } from './mcap-writer.js';
import type { FromWorker, ToWorker } from './recorder-protocol.js';
import { RecorderCore } from './recorder-core.js';
import { lowerThisThreadPriority } from '../core/thread-priority.js';

/**
 * The recorder's worker: a thin adapter around RecorderCore (encoding, images, chunking, zstd, writes, disk
 * policy), so the event loop only posts messages. It ticks the core every flush interval and counts each batch
 * handled in shared memory, which lets the recorder on the event loop see a backlog and shed images before memory
 * grows.
 */
lowerThisThreadPriority(); // log encoding yields to the control loop
const port = parentPort;
if (!port) throw new Error('recorder-worker.ts must run as a worker thread');

const post = (m: FromWorker) => port.postMessage(m);
let core: RecorderCore | null = null;
let timer: NodeJS.Timeout | null = null;
let handled: Int32Array | null = null;
/** A batch is done with (recorded or failed): its image spans may be reused. */
const ack = () => handled && Atomics.add(handled, 0, 1);

async function handle(m: ToWorker): Promise<void> {
  try {
    if (m.type === 'start') {
      handled = new Int32Array(m.handled);
      await McapFileWriter.ready();
      core = new RecorderCore(m, { onNote: (severity, message) => post({ type: 'note', severity, message }), onFile: (path) => post({ type: 'file', path }) });
      core.open();
      timer = setInterval(() => {
        try {
          core?.tick();
        } catch (err) {
          core?.fail(err);
        }
      }, m.config.flushIntervalMs);
    } else if (m.type === 'batch') {
      for (const item of m.items) core!.record(item);
      ack();
    } else if (m.type === 'stop') {
      if (timer) clearInterval(timer);
      core?.close();
      post({ type: 'stopped', summary: core!.summary });
    }
  } catch (err) {
    core?.fail(err);
    if (m.type === 'batch') ack();
    if (m.type === 'stop') post({ type: 'stopped', summary: core?.summary ?? { files: [], messages: 0, bytes: 0, droppedImages: 0, droppedAll: 0, abortedReason: String(err) } });
  }
}

// In order, and a batch that arrives while zstd is still loading waits for it rather than being dropped.
let chain: Promise<void> = Promise.resolve();
port.on('message', (m: ToWorker) => {
  chain = chain.then(() => handle(m));
});
