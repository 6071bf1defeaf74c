import { InputError } from '../core/errors.js';
import { defaultSightingSigmaFloor, type SightingSigmaFloor } from './estimation-stage.js';
import { defaultGateMapParams, type GateMapParams } from './gate-map.js';

/**
 * What the estimation stage was run with: the gate map's settings and the sighting floor. They differ between a
 * detector in the loop and ground-truth sightings (cli/pipeline.ts), so a log keeps them in its metadata
 * (`estimation`) and a replay runs estimation with the very settings the flight had: without them, a replayed
 * detector flight fused its sightings differently and diverged from the first gate map on.
 */
export interface EstimationParams {
  gateMap: GateMapParams;
  sightings: SightingSigmaFloor;
}

export const ESTIMATION_METADATA_KEY = 'estimation';

export const defaultEstimationParams: EstimationParams = { gateMap: defaultGateMapParams, sightings: defaultSightingSigmaFloor };

export function estimationMetadata(p: EstimationParams): string {
  return JSON.stringify(p);
}

/**
 * The settings a log's metadata names, each field over the defaults (a log from before a field existed replays with
 * its default); the defaults when the log names none (logs written before the key existed). Anything that is not
 * such an object, or a field of the wrong type, is an InputError naming the field.
 */
export function estimationFromMetadata(meta: Record<string, string> | null, where: string): EstimationParams {
  const text = meta?.[ESTIMATION_METADATA_KEY];
  if (text === undefined) return defaultEstimationParams;
  const what = `${where} (metadata "${ESTIMATION_METADATA_KEY}")`;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new InputError(`not valid JSON: ${(err as Error).message}`, what);
  }
  const obj = (v: unknown, name: string): Record<string, unknown> => {
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new InputError(`${name}: expected an object`, what);
    return v as Record<string, unknown>;
  };
  const top = obj(raw, 'the value');
  const merge = <T extends object>(defaults: T, given: Record<string, unknown>, name: string): T => {
    const out: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
    for (const [k, d] of Object.entries(defaults)) {
      if (!(k in given)) continue;
      const v = given[k];
      const ok = typeof v === 'number' ? Number.isFinite(v) : v === null && (d === null || k === 'associateAhead');
      if (!ok) throw new InputError(`${name}.${k}: expected a number${k === 'associateAhead' ? ' or null' : ''}, got ${JSON.stringify(v)}`, what);
      out[k] = v;
    }
    return out as T;
  };
  return {
    gateMap: merge(defaultGateMapParams, top.gateMap === undefined ? {} : obj(top.gateMap, 'gateMap'), 'gateMap'),
    sightings: merge(defaultSightingSigmaFloor, top.sightings === undefined ? {} : obj(top.sightings, 'sightings'), 'sightings'),
  };
}
