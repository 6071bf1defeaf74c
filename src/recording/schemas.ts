import type { FrameSet, TopicName } from '../core/messages.js';

/**
 * What each topic looks like in a log: a JSON Schema (the subset Foxglove reads: type, properties, required, items,
 * enum/const, contentEncoding) for our own typed topics; views.ts turns messages into Foxglove's well-known schemas
 * for people. Our own channel is what replay reads back. A topic added later without a schema here is still recorded, under a
 * permissive schema, so nothing is lost while its author catches up.
 */
export type JsonSchema = Record<string, unknown>;

export interface TopicSchema {
  schema: JsonSchema;
  /** 'image' topics are the first dropped when the disk runs low. */
  kind: 'telemetry' | 'image';
}

const num = { type: 'number' };
const int = { type: 'integer' };
const vec3 = { type: 'array', items: num, minItems: 3, maxItems: 3 };
const quat = { type: 'array', items: num, minItems: 4, maxItems: 4 };
const nullable = (s: JsonSchema): JsonSchema => ({ oneOf: [s, { type: 'null' }] });

function object(title: string, properties: Record<string, JsonSchema>, optional: string[] = []): JsonSchema {
  return {
    title,
    type: 'object',
    properties,
    required: Object.keys(properties).filter((k) => !optional.includes(k)),
  };
}

const controlStates = ['idle', 'waiting_link', 'arming', 'warmup', 'requesting_mode', 'in_control', 'pilot_override', 'link_lost', 'landing', 'done', 'failed'];

export const TOPIC_SCHEMAS: { [K in TopicName]?: TopicSchema } = {
  'fc/status': {
    kind: 'telemetry',
    schema: object('racepilot.FcStatus', {
      tUs: int,
      linkUp: { type: 'boolean' },
      lastHeartbeatUs: nullable(int),
      autopilot: { type: 'string', enum: ['px4', 'ardupilot', 'generic', 'unknown'] },
      vehicleType: { type: 'string' },
      systemId: int,
      mode: { type: 'string' },
      externalControl: { type: 'boolean' },
      armed: { type: 'boolean' },
      batteryV: nullable(num),
      batteryRemaining: nullable(num),
    }),
  },
  'fc/vehicle_state': {
    kind: 'telemetry',
    schema: object('racepilot.VehicleState', {
      tUs: int,
      tSampleUs: int,
      p_ned_m: vec3,
      v_ned_mps: vec3,
      q_ned_body: quat,
      w_body_radps: nullable(vec3),
      source: { type: 'string', enum: ['odometry', 'local_position', 'sim'] },
    }),
  },
  'fc/event': {
    kind: 'telemetry',
    schema: object(
      'racepilot.FlightEvent',
      {
        tUs: int,
        kind: { type: 'string', enum: ['control_state', 'link', 'command', 'statustext', 'safety', 'info'] },
        state: { type: 'string', enum: controlStates },
        message: { type: 'string' },
        severity: { type: 'string', enum: ['debug', 'info', 'warning', 'error'] },
      },
      ['state'],
    ),
  },
  'fc/link_stats': {
    kind: 'telemetry',
    schema: object('racepilot.LinkStats', {
      tUs: int,
      bytesIn: int,
      bytesOut: int,
      packetsIn: int,
      packetsOut: int,
      badCrc: int,
      unknownIds: int,
      junkBytes: int,
      reconnects: int,
    }),
  },
  'fc/setpoint': {
    kind: 'telemetry',
    schema: object('racepilot.Setpoint', {
      tUs: int,
      p_ned_m: vec3,
      v_ned_mps: vec3,
      a_ned_mps2: vec3,
      yaw_rad: num,
      source: { type: 'string', enum: ['trajectory', 'hold'] },
    }),
  },
  'camera/frameset': {
    kind: 'image',
    schema: object('racepilot.FrameSet', {
      tUs: int,
      tSampleUs: int,
      seq: int,
      images: {
        type: 'array',
        items: nullable(object('racepilot.CameraImageRef', {
          tUs: int, tSampleUs: int, rig: { type: 'string' }, side: { type: 'string', enum: ['left', 'right'] }, seq: int,
          width: int, height: int, format: { type: 'string', enum: ['GRAY8', 'RGB'] },
          /** The image channel holding the pixels (when images were recorded). */
          channel: { type: 'string' },
        })),
      },
      holes: { type: 'array', items: { type: 'string' } },
      dead: { type: 'array', items: { type: 'string' } },
      skewUs: num,
    }),
  },
  'race/event': {
    kind: 'telemetry',
    schema: object('racepilot.RaceEvent', {
      tUs: int,
      kind: { type: 'string', enum: ['phase', 'gate_passed', 'gate_missed', 'lap', 'refused'] },
      message: { type: 'string' },
      gateIndex: int,
    }, ['gateIndex']),
  },
  'planning/trajectory': {
    kind: 'telemetry',
    schema: object('racepilot.Trajectory', {
      tUs: int,
      segments: {
        type: 'array',
        items: object('racepilot.TrajectorySegment', {
          t0Us: num,
          durationS: num,
          axes: { type: 'array', minItems: 3, maxItems: 3, items: { type: 'array', items: num, minItems: 6, maxItems: 6 } },
          gateIndex: nullable(int),
        }),
      },
    }),
  },
  'estimation/gate_map': {
    kind: 'telemetry',
    schema: object('racepilot.GateMapState', {
      tUs: int,
      drift_ned_m: vec3,
      driftSigmaM: num,
      gates: {
        type: 'array',
        items: object('racepilot.MappedGate', {
          physical: int, ids: { type: 'array', items: { type: 'string' } }, p_odom_ned_m: vec3, p_world_ned_m: vec3, sigmaM: num, sightings: int,
        }),
      },
      accepted: int,
      rejected: int,
    }),
  },
  'mavlink/bytes': {
    kind: 'telemetry',
    schema: object('racepilot.MavlinkBytes', {
      tUs: int,
      direction: { type: 'string', enum: ['rx', 'tx'] },
      bytes: { type: 'string', contentEncoding: 'base64' },
    }),
  },
};

/** A topic nobody has described yet: recorded as whatever JSON it is. */
export function fallbackSchema(topic: string): TopicSchema {
  return {
    kind: topic.startsWith('camera/') ? 'image' : 'telemetry',
    schema: { title: `racepilot.untyped.${topic.replace(/[^A-Za-z0-9_]/g, '_')}`, type: 'object' },
  };
}

export function topicSchema(topic: string): TopicSchema {
  return TOPIC_SCHEMAS[topic as TopicName] ?? fallbackSchema(topic);
}

/** Foxglove's time type from nanoseconds. */
export function foxgloveTime(ns: bigint): { sec: number; nsec: number } {
  return { sec: Number(ns / 1_000_000_000n), nsec: Number(ns % 1_000_000_000n) };
}

/**
 * What our own channel holds for a message: the message itself, except a FrameSet, whose pixels go to the
 * per-camera image channels (views.ts) and are replaced by the name of that channel, so no raw pixels sit in JSON.
 */
/** Every camera image channel starts with this. */
export const IMAGE_CHANNEL_PREFIX = '/camera/';

/** The Foxglove image channel of one camera. */
export function imageChannel(rig: string, side: string): string {
  return `${IMAGE_CHANNEL_PREFIX}${rig}/${side}`;
}

export function ownMessage(topic: string, msg: unknown): unknown {
  if (topic !== 'camera/frameset') return msg;
  const fs = msg as FrameSet;
  return {
    ...fs,
    images: fs.images.map((img) => {
      if (!img) return null;
      const { data: _pixels, ...meta } = img;
      return { ...meta, channel: imageChannel(img.rig, img.side) };
    }),
  };
}

/** JSON for a log: byte arrays become base64 strings (the schemas say `contentEncoding: base64`). */
export function encodeJson(msg: unknown): string {
  // The holder's own value, not `v`: a Buffer has toJSON, which runs before a replacer sees it.
  return JSON.stringify(msg, function (this: Record<string, unknown>, k: string, v: unknown) {
    const raw = this[k];
    return raw instanceof Uint8Array ? Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64') : v;
  });
}

/** The inverse of encodeJson for a topic: top-level base64 fields of its schema become Uint8Arrays again. */
export function decodeJson(text: string, schema: JsonSchema): unknown {
  const msg = JSON.parse(text) as Record<string, unknown>;
  const props = schema.properties as Record<string, JsonSchema> | undefined;
  if (props && msg && typeof msg === 'object') {
    for (const [k, p] of Object.entries(props)) {
      if (p.contentEncoding === 'base64' && typeof msg[k] === 'string') msg[k] = new Uint8Array(Buffer.from(msg[k] as string, 'base64'));
    }
  }
  return msg;
}
