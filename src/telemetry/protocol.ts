/**
 * What the telemetry WebSocket sends, declared once for the server and `racepilot tail`. Every frame is one JSON
 * text message with a `type`. The stream is read-only: a client that sends anything is disconnected.
 */

export const TELEMETRY_PROTOCOL = 1;

/** The ~10 Hz status. Null means "not known yet" (topic absent or not heard from). */
export interface TelemetryStatus {
  /** Daemon clock (µs) when the status was built. */
  tUs: number;
  fc: {
    linkUp: boolean | null;
    mode: string | null;
    armed: boolean | null;
    autopilot: string | null;
    batteryV: number | null;
    batteryRemaining: number | null;
  };
  /** Offboard/guided control state (from fc/event control_state events). */
  control: string | null;
  /** Race phase (race/event), and the gate flown to next: one past the last gate passed or missed. */
  race: { state: string | null; gateIndex: number | null; gateCount: number | null };
  /** Ground speed from the vehicle state (m/s) and height above the origin (m, −z NED). */
  speedMps: number | null;
  altitudeM: number | null;
  /** Detector outputs per second over the last second of messages. */
  detectionsPerS: number | null;
  /**
   * Latency per stage (ms, short running mean): per topic, publish minus sample time (tUs − tSampleUs); and the
   * detector's own stage timings as "perception.<stage>" (queue, preprocess, inference, decode, geometry).
   */
  latencyMs: Record<string, number>;
  /** Camera streams: frames per second as last reported. */
  cameraFps: Record<string, number>;
  link: { packetsIn: number; badCrc: number; bytesDropped?: number } | null;
  system: {
    /** Whole-machine CPU load 0..1 over the last sample interval. */
    cpuLoad: number | null;
    /** Jetson only (tegrastats); null elsewhere. */
    gpuLoad: number | null;
    temperaturesC: Record<string, number>;
  };
  telemetry: { clients: number; framesDropped: number; clientsCut: number };
}

export interface TelemetryEvent {
  tUs: number;
  /** The bus topic it came from, e.g. "fc/event". */
  topic: string;
  severity: 'debug' | 'info' | 'warning' | 'error';
  message: string;
  kind?: string;
}

export type TelemetryFrame =
  | { type: 'hello'; protocol: number; statusRateHz: number }
  | { type: 'status'; status: TelemetryStatus }
  | { type: 'event'; event: TelemetryEvent }
  | { type: 'log'; line: Record<string, unknown> }
  /** Said to one client: e.g. how many frames it missed because it read too slowly. */
  | { type: 'notice'; message: string };
