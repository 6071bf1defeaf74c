import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { InputError } from '../core/errors.js';
import { loadTrack, parseTrack, type Track } from '../planning/track.js';
import { logSummary } from './mcap-reader.js';

const TRACKS_DIR = fileURLToPath(new URL('../../../config/tracks/', import.meta.url));

/**
 * The race track a log was flown on, which the estimation and planning replay needs: the file given (--track), else
 * the track the recorder kept in the log's metadata (`track`: the track's JSON, or, from `racepilot sim`, its name,
 * looked up as config/tracks/<name>.json). Null when the log names none: replay then runs only the stages that need
 * no track. A named track that cannot be found is an error that says what to pass. `knownMeta`: the log's metadata
 * when the caller has read it already.
 */
export async function trackForLog(file: string, explicit: string | null, knownMeta?: Record<string, string> | null): Promise<Track | null> {
  if (explicit) return loadTrack(explicit);
  const meta = knownMeta !== undefined ? knownMeta : (await logSummary(file)).meta;
  const named = meta?.track;
  if (!named) return null;
  if (named.trimStart().startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(named);
    } catch (err) {
      throw new InputError(`the track in the log's metadata is not valid JSON: ${(err as Error).message}`, `${file} (metadata "track")`);
    }
    return parseTrack(json, `${file} (metadata "track")`);
  }
  const path = `${TRACKS_DIR}${named}.json`;
  if (!/^[\w.-]+$/.test(named) || !existsSync(path)) {
    throw new InputError(`the log was flown on track "${named}", which is not in config/tracks/: pass it with --track FILE`, file);
  }
  return loadTrack(path);
}
