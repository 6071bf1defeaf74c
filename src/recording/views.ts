import {
  FrameTransform as FoxgloveFrameTransform,
  Log as FoxgloveLog,
  PoseInFrame as FoxglovePoseInFrame,
  SceneUpdate as FoxgloveSceneUpdate,
} from '@foxglove/schemas/jsonschema.js';
import type { RecordingConfig } from '../core/config/recording.js';
import type { FlightEvent, FrameSet, GateMapState, Trajectory, Vec3, VehicleState } from '../core/messages.js';
import { encodeJpeg, encodePng } from './image-codec.js';
import { imageCodec, type Ros2Codec } from './ros2-image.js';
import { foxgloveTime, imageChannel, type JsonSchema } from './schemas.js';

/**
 * Foxglove's well-known schemas, written beside our own topics so Foxglove Studio shows the cameras, the 3D scene,
 * the vehicle and the log lines without any set-up: our own channels are what replay reads back, these are for
 * people. Frames: `ned` is the local NED frame every position is in; `world` (z up) is `ned` turned upside down so
 * the 3D panel's ground is down; `base_link` is the vehicle (body FRD), posed from fc/vehicle_state.
 */
export type ViewMessage = JsonView | CdrView;

/** A message of a JSON channel with its JSON Schema. */
export interface JsonView {
  channel: string;
  schemaName: string;
  schema: JsonSchema;
  message: unknown;
}

/** A message of a CDR channel (camera images, see ros2-image.ts), serialised by the recorder with `codec`. */
export interface CdrView {
  channel: string;
  codec: Ros2Codec;
  message: unknown;
}

/** What the scene needs of a track (a planning Track fits): drawn until the gate map replaces it. */
export interface SceneTrack {
  gates: { id: string; p_ned_m: Vec3; yaw_deg: number; innerSizeM: number; outerSizeM: number }[];
}

export const LOG_VIEW_CHANNEL = 'viz/log';
export const SCENE_CHANNEL = '/scene';
export const TF_CHANNEL = '/tf';
export const POSE_CHANNEL = 'viz/vehicle_pose';

const LOG_LEVEL: Record<FlightEvent['severity'], number> = { debug: 1, info: 2, warning: 3, error: 4 };

export function logLine(logTimeNs: bigint, severity: FlightEvent['severity'], name: string, message: string): ViewMessage {
  return {
    channel: LOG_VIEW_CHANNEL,
    schemaName: 'foxglove.Log',
    schema: FoxgloveLog as JsonSchema,
    message: { timestamp: foxgloveTime(logTimeNs), level: LOG_LEVEL[severity], message, name, file: '', line: 0 },
  };
}

const xyz = (v: Vec3) => ({ x: v[0], y: v[1], z: v[2] });
const yawQuat = (yawRad: number) => ({ x: 0, y: 0, z: Math.sin(yawRad / 2), w: Math.cos(yawRad / 2) });
const rgba = (r: number, g: number, b: number, a = 1) => ({ r, g, b, a });

function entity(t: bigint, id: string, over: Record<string, unknown>): Record<string, unknown> {
  return {
    timestamp: foxgloveTime(t), frame_id: 'ned', id, lifetime: { sec: 0, nsec: 0 }, frame_locked: false, metadata: [],
    arrows: [], cubes: [], spheres: [], cylinders: [], lines: [], triangles: [], texts: [], models: [], ...over,
  };
}

/** A gate as Foxglove primitives: its frame as a thin box, its opening as a line loop, its id above it. */
function gateEntity(t: bigint, id: string, label: string, p: Vec3, yawDeg: number, inner: number, outer: number, color: ReturnType<typeof rgba>) {
  const yaw = (yawDeg * Math.PI) / 180;
  // The opening is across the direction of flight: its horizontal edge runs along (−sin yaw, cos yaw).
  const ex = -Math.sin(yaw) * (inner / 2);
  const ey = Math.cos(yaw) * (inner / 2);
  const h = inner / 2;
  const corner = (s: number, u: number) => ({ x: p[0] + s * ex, y: p[1] + s * ey, z: p[2] + u * h });
  return entity(t, id, {
    cubes: [{ pose: { position: xyz(p), orientation: yawQuat(yaw) }, size: { x: 0.05, y: outer, z: outer }, color: { ...color, a: 0.25 } }],
    lines: [{
      type: 1, pose: { position: { x: 0, y: 0, z: 0 }, orientation: { x: 0, y: 0, z: 0, w: 1 } }, thickness: 0.05, scale_invariant: false,
      points: [corner(-1, -1), corner(1, -1), corner(1, 1), corner(-1, 1)], color, colors: [], indices: [],
    }],
    texts: [{ pose: { position: { x: p[0], y: p[1], z: p[2] - outer / 2 - 0.3 }, orientation: { x: 0, y: 0, z: 0, w: 1 } }, billboard: true, font_size: 14, scale_invariant: true, color, text: label }],
  });
}

function scene(entities: Record<string, unknown>[], deletions: Record<string, unknown>[] = []): ViewMessage {
  return { channel: SCENE_CHANNEL, schemaName: 'foxglove.SceneUpdate', schema: FoxgloveSceneUpdate as JsonSchema, message: { deletions, entities } };
}

function transform(t: bigint, parent: string, child: string, p: Vec3, q: { x: number; y: number; z: number; w: number }): ViewMessage {
  return {
    channel: TF_CHANNEL, schemaName: 'foxglove.FrameTransform', schema: FoxgloveFrameTransform as JsonSchema,
    message: { timestamp: foxgloveTime(t), parent_frame_id: parent, child_frame_id: child, translation: xyz(p), rotation: q },
  };
}

/** Σ c_k t^k */
function poly(c: readonly number[], t: number): number {
  let v = 0;
  for (let k = c.length - 1; k >= 0; k--) v = v * t + c[k]!;
  return v;
}

export function trajectoryPoints(traj: Trajectory, maxPoints = 400): Vec3[] {
  const total = traj.segments.reduce((a, s) => a + s.durationS, 0);
  const dt = Math.max(0.02, total / maxPoints);
  const pts: Vec3[] = [];
  for (const s of traj.segments) {
    for (let t = 0; t < s.durationS; t += dt) pts.push(s.axes.map((c) => poly(c, t)) as Vec3);
  }
  const last = traj.segments.at(-1);
  if (last) pts.push(last.axes.map((c) => poly(c, last.durationS)) as Vec3);
  return pts;
}

/**
 * Turns topic messages into Foxglove view messages. Stateful only where Foxglove needs the whole picture (the
 * scene redraws the gates it knows of); the recorder worker keeps one per file.
 */
export class FoxgloveViews {
  constructor(
    private readonly images: RecordingConfig['images'],
    private readonly track: SceneTrack | null,
  ) {}

  /** What a fresh file starts with: the `world` frame and the track's gates. */
  start(t: bigint): ViewMessage[] {
    const out = [transform(t, 'world', 'ned', [0, 0, 0], { x: 1, y: 0, z: 0, w: 0 })];
    if (this.track) {
      out.push(scene(this.track.gates.map((g, i) => gateEntity(t, `track/${i}`, g.id, g.p_ned_m, g.yaw_deg, g.innerSizeM, g.outerSizeM, rgba(0.6, 0.6, 0.6)))));
    }
    return out;
  }

  /** `images` false: a FrameSet's images are not encoded (not due, or withheld: the caller decides and counts). */
  convert(topic: string, msg: unknown, t: bigint, images = true): ViewMessage[] {
    switch (topic) {
      case 'fc/event': {
        const m = msg as FlightEvent;
        return [logLine(t, m.severity, `fc/${m.kind}`, m.message)];
      }
      case 'race/event': {
        const m = msg as { kind: string; message: string };
        return [logLine(t, m.kind === 'gate_missed' || m.kind === 'refused' ? 'warning' : 'info', `race/${m.kind}`, m.message)];
      }
      case 'fc/vehicle_state':
        return this.vehicle(msg as VehicleState, t);
      case 'camera/frameset':
        return this.frameSet(msg as FrameSet, t, images);
      case 'estimation/gate_map':
        return [this.gateMap(msg as GateMapState, t)];
      case 'planning/trajectory': {
        const pts = trajectoryPoints(msg as Trajectory).map(xyz);
        return [scene([entity(t, 'path', {
          lines: [{ type: 0, pose: { position: { x: 0, y: 0, z: 0 }, orientation: { x: 0, y: 0, z: 0, w: 1 } }, thickness: 0.04, scale_invariant: false, points: pts, color: rgba(0.1, 0.8, 0.2), colors: [], indices: [] }],
        })])];
      }
      default:
        return [];
    }
  }

  private vehicle(m: VehicleState, t: bigint): ViewMessage[] {
    const q = { w: m.q_ned_body[0], x: m.q_ned_body[1], y: m.q_ned_body[2], z: m.q_ned_body[3] };
    return [transform(t, 'ned', 'base_link', m.p_ned_m, q), {
      channel: POSE_CHANNEL, schemaName: 'foxglove.PoseInFrame', schema: FoxglovePoseInFrame as JsonSchema,
      message: { timestamp: foxgloveTime(t), frame_id: 'ned', pose: { position: xyz(m.p_ned_m), orientation: q } },
    }];
  }

  private gateMap(m: GateMapState, t: bigint): ViewMessage {
    const byId = new Map((this.track?.gates ?? []).map((g) => [g.id, g]));
    return scene(m.gates.map((g) => {
      const tg = g.ids.map((id) => byId.get(id)).find((x) => x !== undefined);
      return gateEntity(t, `map/${g.physical}`, `${g.ids.join('/')} σ${g.sigmaM.toFixed(2)}m`, g.p_odom_ned_m, tg?.yaw_deg ?? 0, tg?.innerSizeM ?? 1.5, tg?.outerSizeM ?? 2.1, rgba(1, 0.55, 0));
    }));
  }

  /** One image channel per camera; the FrameSet record itself is written by the recorder whatever happens here. */
  private frameSet(fs: FrameSet, t: bigint, images: boolean): ViewMessage[] {
    if (this.images.format === 'none' || !images) return [];
    const out: ViewMessage[] = [];
    for (const img of fs.images) {
      if (!img) continue;
      out.push(imageView(img, t, this.images));
    }
    return out;
  }
}


const RAW_IMAGE = imageCodec('RawImage');
const COMPRESSED_IMAGE = imageCodec('CompressedImage');

function imageView(img: NonNullable<FrameSet['images'][number]>, t: bigint, cfg: RecordingConfig['images']): CdrView {
  const channel = imageChannel(img.rig, img.side);
  const { sec, nsec } = foxgloveTime(t);
  const base = { timestamp: { sec, nanosec: nsec }, frame_id: `${img.rig}/${img.side}` };
  if (cfg.format === 'raw') {
    const bpp = img.format === 'RGB' ? 3 : 1;
    return {
      channel, codec: RAW_IMAGE,
      message: { ...base, width: img.width, height: img.height, encoding: img.format === 'RGB' ? 'rgb8' : 'mono8', step: img.width * bpp, data: img.data },
    };
  }
  const data = cfg.format === 'jpeg' ? encodeJpeg(img, cfg.jpegQuality) : encodePng(img, cfg.pngLevel);
  return { channel, codec: COMPRESSED_IMAGE, message: { ...base, data, format: cfg.format } };
}
