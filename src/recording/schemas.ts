import type { FlightEvent, TopicName, Topics } from '../core/messages.js';
import { Log as FoxgloveLog, PoseInFrame as FoxglovePoseInFrame } from '@foxglove/schemas/jsonschema.js';

/**
 * What each topic looks like in a log: a JSON Schema (the subset Foxglove reads: type, properties, required, items,
 * enum/const, contentEncoding) for our own typed topics, and "views" that turn a message into one of Foxglove's
 * well-known schemas so Foxglove Studio shows poses, log lines and images without extra work. Our own channel is what
 * replay reads back; views are for people. A topic added later without a schema here is still recorded, under a
 * permissive schema, so nothing is lost while its author catches up.
 */
export type JsonSchema = Record<string, unknown>;

export interface TopicSchema {
  schema: JsonSchema;
  /** 'image' topics are the first dropped when the disk runs low. */
  kind: 'telemetry' | 'image';
}

/** A Foxglove view of a topic: its own channel, a published schema, and the conversion. */
export interface TopicView<K extends TopicName = TopicName> {
  channel: string;
  schemaName: string;
  schema: JsonSchema;
  /** logTimeNs: the message's log time, for Foxglove's `timestamp` fields. Null: nothing to show for this one. */
  convert(msg: Topics[K], logTimeNs: bigint): unknown | null;
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

const LOG_LEVEL: Record<FlightEvent['severity'], number> = { debug: 1, info: 2, warning: 3, error: 4 };

/** The channel Foxglove's Log panel reads: flight events and the recorder's own notes. */
export const LOG_VIEW_CHANNEL = 'viz/log';

export function logLine(logTimeNs: bigint, severity: FlightEvent['severity'], name: string, message: string): unknown {
  return { timestamp: foxgloveTime(logTimeNs), level: LOG_LEVEL[severity], message, name, file: '', line: 0 };
}

const eventView: TopicView<'fc/event'> = {
  channel: LOG_VIEW_CHANNEL,
  schemaName: 'foxglove.Log',
  schema: FoxgloveLog as JsonSchema,
  convert: (m, t) => logLine(t, m.severity, `fc/${m.kind}`, m.message),
};

const poseView: TopicView<'fc/vehicle_state'> = {
  channel: 'viz/vehicle_pose',
  schemaName: 'foxglove.PoseInFrame',
  schema: FoxglovePoseInFrame as JsonSchema,
  convert: (m, t) => ({
    timestamp: foxgloveTime(t),
    frame_id: 'ned',
    pose: {
      position: { x: m.p_ned_m[0], y: m.p_ned_m[1], z: m.p_ned_m[2] },
      orientation: { w: m.q_ned_body[0], x: m.q_ned_body[1], y: m.q_ned_body[2], z: m.q_ned_body[3] },
    },
  }),
};

export const TOPIC_VIEWS: { [K in TopicName]?: TopicView<K>[] } = {
  'fc/event': [eventView],
  'fc/vehicle_state': [poseView],
};

export function topicViews(topic: string): TopicView[] {
  return (TOPIC_VIEWS[topic as TopicName] ?? []) as TopicView[];
}

/** JSON for a log: byte arrays become base64 strings (the schemas say `contentEncoding: base64`). */
export function encodeJson(msg: unknown): string {
  return JSON.stringify(msg, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') : v));
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
