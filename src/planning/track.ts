import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { InputError } from '../core/errors.js';
import type { Vec3 } from '../core/messages.js';

/**
 * A race track as organisers hand it out before a race: the gates in the order they must be flown, each with its
 * position in the local NED frame (the start's origin), the direction it is flown through (yaw), its size, and how
 * far the given position may be off (the map is approximate; perception refines it).
 */
const vec3 = z.tuple([z.number().finite(), z.number().finite(), z.number().finite()]);

/**
 * The AIRR race gate (AlphaPilot 2019): an 8 ft square flyable opening in an 11 ft square frame. The one place these
 * sizes live: a track's gates default to them, the renderer draws what the track says, and perception's PnP takes the
 * track's opening. The real frames in ../shared/data/gates/airr-onboard agree (inner/outer 0.70 on the masks).
 */
export const AIRR_INNER_M = 2.438;
export const AIRR_OUTER_M = 3.353;

const gateSchema = z
  .object({
    id: z.string().min(1),
    /** Centre of the flyable opening, local NED (m). Down is positive: a gate 2 m up has z = -2. */
    p_ned_m: vec3,
    /** Heading of the direction of flight through the gate, degrees from north towards east. */
    yaw_deg: z.number().finite(),
    /** Side of the square flyable opening (m); default the AIRR gate's 8 ft. */
    innerSizeM: z.number().min(0.3).max(10).default(AIRR_INNER_M),
    /** Outer side of the gate's frame (m): what the vehicle must not hit; default the AIRR gate's 11 ft. */
    outerSizeM: z.number().min(0.4).max(12).default(AIRR_OUTER_M),
    /** 1-sigma uncertainty of the given position (m); 0 for a surveyed gate. */
    uncertaintyM: z.number().min(0).max(10).default(0),
    /**
     * The id of an earlier entry that is the same physical gate, flown again (often from the other side): its
     * position and size must then be the same, and the two entries are one gate in the world.
     */
    sameAs: z.string().min(1).optional(),
  })
  .strict()
  .refine((g) => g.outerSizeM > g.innerSizeM, { message: 'outerSizeM must be larger than innerSizeM', path: ['outerSizeM'] });

export const trackSchema = z
  .object({
    name: z.string().min(1),
    laps: z.number().int().min(1).max(20).default(1),
    start: z.object({ p_ned_m: vec3, yaw_deg: z.number().finite().default(0) }).strict(),
    /** The hall: an axis-aligned box in NED that bounds floor, walls and ceiling (m). */
    hall: z.object({ min_ned_m: vec3, max_ned_m: vec3 }).strict(),
    gates: z.array(gateSchema).min(1).max(100),
  })
  .strict();

export type TrackInput = z.input<typeof trackSchema>;
export type Track = z.infer<typeof trackSchema>;
export type TrackGate = Track['gates'][number];

/** Validates a parsed track; errors name the gate (by index and id) and the field. */
export function parseTrack(input: unknown, source: string): Track {
  const result = trackSchema.safeParse(input);
  if (!result.success) {
    const raw = input as { gates?: { id?: unknown }[] };
    const problems = result.error.issues.map((issue) => {
      const [head, index, ...rest] = issue.path;
      if (head === 'gates' && typeof index === 'number') {
        const id = raw?.gates?.[index]?.id;
        const name = typeof id === 'string' ? `gate ${index} ("${id}")` : `gate ${index}`;
        return `${name}${rest.length ? ` field ${rest.join('.')}` : ''}: ${issue.message}`;
      }
      return `${issue.path.join('.') || '(top level)'}: ${issue.message}`;
    });
    throw new InputError(problems.join('; '), source);
  }
  const track = result.data;
  const problems = geometryProblems(track);
  if (problems.length) throw new InputError(problems.join('; '), source);
  return track;
}

export function loadTrack(file: string): Track {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file not found' : code ? `cannot read (${code})` : `not valid JSON: ${(err as Error).message}`;
    throw new InputError(why, file, { cause: err });
  }
  return parseTrack(json, file);
}

/** Problems a schema cannot see: gates outside the hall, gates on top of each other. */
function geometryProblems(track: Track): string[] {
  const out: string[] = [];
  const { min_ned_m: lo, max_ned_m: hi } = track.hall;
  for (let k = 0; k < 3; k++) if (!(hi[k]! > lo[k]!)) out.push(`hall: max_ned_m[${k}] must exceed min_ned_m[${k}]`);
  const byId = new Map<string, TrackGate>();
  track.gates.forEach((g, i) => {
    if (byId.has(g.id)) out.push(`gate ${i} ("${g.id}") field id: used twice`);
    byId.set(g.id, g);
    if (g.sameAs !== undefined) {
      const twin = byId.get(g.sameAs);
      if (!twin) out.push(`gate ${i} ("${g.id}") field sameAs: no earlier gate "${g.sameAs}"`);
      else if (dist(twin.p_ned_m, g.p_ned_m) > 1e-6 || twin.innerSizeM !== g.innerSizeM || twin.outerSizeM !== g.outerSizeM) {
        out.push(`gate ${i} ("${g.id}") field sameAs: position and size must equal those of "${g.sameAs}"`);
      }
    }
  });
  track.gates.forEach((g, i) => {
    const half = g.outerSizeM / 2;
    const inside = [0, 1, 2].every((k) => g.p_ned_m[k]! - (k === 2 ? half : 0) >= lo[k]! && g.p_ned_m[k]! + (k === 2 ? half : 0) <= hi[k]!);
    if (!inside) out.push(`gate ${i} ("${g.id}") field p_ned_m: the gate does not fit inside the hall`);
    track.gates.forEach((h, j) => {
      if (j > i && h.sameAs !== g.id && g.sameAs !== h.id && !(h.sameAs && h.sameAs === g.sameAs) && dist(g.p_ned_m, h.p_ned_m) < 0.5 * (g.outerSizeM + h.outerSizeM) * 0.5) {
        out.push(`gate ${j} ("${h.id}") field p_ned_m: overlaps gate ${i} ("${g.id}")`);
      }
    });
  });
  return out;
}

/** Unit vector of the direction of flight through a gate (horizontal, NED). */
export function gateNormal(g: Pick<TrackGate, 'yaw_deg'>): Vec3 {
  const yaw = (g.yaw_deg * Math.PI) / 180;
  return [Math.cos(yaw), Math.sin(yaw), 0];
}

function dist(a: Vec3, b: Vec3): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
}

/** For each track entry, the index of its physical gate (entries flown twice via `sameAs` share one), as the gate map numbers them. */
export function physicalGateIndices(track: Pick<Track, 'gates'>): number[] {
  const first = new Map<string, number>();
  const out: number[] = [];
  let n = 0;
  for (const g of track.gates) {
    const twin = g.sameAs !== undefined ? first.get(g.sameAs) : undefined;
    if (twin !== undefined) out.push(twin);
    else {
      first.set(g.id, n);
      out.push(n++);
    }
  }
  return out;
}

/** The single opening size of a track's gates: perception's PnP model. Mixed sizes are refused rather than guessed. */
export function trackGateInnerSize(track: Track, source: string): number {
  const sizes = [...new Set(track.gates.map((g) => g.innerSizeM))];
  if (sizes.length !== 1) throw new RangeError(`${source}: perception models one gate size, the track's gates have openings of ${sizes.join(', ')} m`);
  return sizes[0]!;
}
