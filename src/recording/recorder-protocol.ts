import type { RecordingConfig } from '../core/config/recording.js';
import type { SceneTrack } from './views.js';

/** Messages between the recorder (event loop side) and its worker. Structured-cloned, so plain data only. */
export interface RecordItem {
  topic: string;
  /** Time the recorder saw it, on the pipeline's clock (µs). */
  tUs: number;
  msg: unknown;
  /** Set by the recorder when the worker is behind: keep the FrameSet's record, skip its pixels (counted as dropped). */
  skipImages?: boolean;
  /** Set by the recorder for a FrameSet whose images are not to be recorded (recording.images everyNth, or none). */
  imagesNotDue?: boolean;
}

export type ToWorker =
  | {
      type: 'start';
      /** Files are `${basePath}-000.mcap`, `-001`, ... */
      basePath: string;
      config: RecordingConfig;
      clockKind: 'wall' | 'sim' | 'log';
      /** Added to clock times to get UNIX time for the log (0 for sim and log clocks). */
      unixOffsetUs: number;
      /** Extra key/values for the log's metadata record (e.g. the command line, the config file). */
      metadata: Record<string, string>;
      /** The track, for the 3D scene (and kept in the metadata); null when there is none. */
      track: SceneTrack | null;
      /**
       * One Int32 the worker adds 1 to per batch handled (wrapping): the recorder counts batches in flight with it to
       * see a backlog. Shared memory rather than a message per batch, which would wake the event loop into the port
       * mutex its SCHED_IDLE sender still holds (core/reply-ring.ts says how), a hundred times a second.
       */
      handled: SharedArrayBuffer;
    }
  | { type: 'batch'; items: RecordItem[] }
  | { type: 'stop' };

export interface RecordingSummary {
  files: string[];
  messages: number;
  bytes: number;
  /** FrameSets whose images were not recorded: disk low, or the worker behind (backlog). */
  droppedImages: number;
  droppedAll: number;
  /** Why recording ended early (disk full, write error), or null. */
  abortedReason: string | null;
}

export type FromWorker =
  | { type: 'note'; severity: 'info' | 'warning' | 'error'; message: string }
  | { type: 'file'; path: string }
  | { type: 'stopped'; summary: RecordingSummary };
