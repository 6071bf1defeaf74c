/**
 * The typed topics: every message the pipeline passes is declared here once, and the live pipeline, the recorder,
 * the replayer, telemetry and the tests all use these declarations.
 *
 * Conventions (see DESIGN.md): SI units; local NED and body FRD frames as MAVLink/PX4 use them; cameras in the
 * OpenCV convention. Every message starts with `tUs`, the time it was published on the injected clock
 * (microseconds); where the data was sampled earlier (a camera exposure, an autopilot's estimate) `tSampleUs` says
 * when, so latency is a subtraction.
 */

/** A 3-vector; the field name carries the frame and unit, e.g. `p_ned_m`. */
export type Vec3 = [number, number, number];
/** A unit quaternion [w, x, y, z] rotating vectors from the frame named second to the frame named first. */
export type Quat = [number, number, number, number];

export type Autopilot = 'px4' | 'ardupilot' | 'generic' | 'unknown';

/** What the flight controller says about itself: link, identity, mode, arming, battery. */
export interface FcStatus {
  tUs: number;
  /** Heartbeats arrive within the configured timeout. */
  linkUp: boolean;
  /** Time of the last heartbeat from the autopilot, or null before the first. */
  lastHeartbeatUs: number | null;
  autopilot: Autopilot;
  /** MAV_TYPE name, e.g. "QUADROTOR". */
  vehicleType: string;
  systemId: number;
  /** Decoded flight mode name, e.g. "OFFBOARD", "POSCTL", "GUIDED", "LOITER"; "UNKNOWN(n)" when not decodable. */
  mode: string;
  /** The mode is the one the daemon steers in (PX4 OFFBOARD, ArduPilot GUIDED). */
  externalControl: boolean;
  armed: boolean;
  /** Battery voltage (V) and remaining charge (0..1), null when the autopilot has not said. */
  batteryV: number | null;
  batteryRemaining: number | null;
}

/** The vehicle's kinematic state as the flight controller's estimator reports it (odometry; it drifts). */
export interface VehicleState {
  tUs: number;
  /** When the autopilot sampled it, mapped onto our clock. */
  tSampleUs: number;
  p_ned_m: Vec3;
  v_ned_mps: Vec3;
  /** Attitude: rotates body FRD vectors into NED. */
  q_ned_body: Quat;
  /** Body rates (rad/s), null when the autopilot does not send them. */
  w_body_radps: Vec3 | null;
  /** Which message last updated the position: ODOMETRY wins over LOCAL_POSITION_NED when both arrive. */
  source: 'odometry' | 'local_position' | 'sim';
}

/** One setpoint streamed to the flight controller (SET_POSITION_TARGET_LOCAL_NED). */
export interface Setpoint {
  tUs: number;
  p_ned_m: Vec3;
  v_ned_mps: Vec3;
  a_ned_mps2: Vec3;
  yaw_rad: number;
  /** Where it came from: the current trajectory, or the braking/hold fallback when the trajectory is stale. */
  source: 'trajectory' | 'hold';
}

/** A reference the flight layer samples setpoints from: anything that can say where to be at a time. */
export interface TrajectorySample {
  p_ned_m: Vec3;
  v_ned_mps: Vec3;
  a_ned_mps2: Vec3;
  yaw_rad: number;
}

/** States of the offboard/guided control state machine (flight/). */
export type ControlState =
  | 'idle' // not allowed or not asked to fly
  | 'waiting_link' // start given, no healthy link yet
  | 'arming'
  | 'warmup' // streaming setpoints before asking for OFFBOARD/GUIDED
  | 'requesting_mode'
  | 'in_control' // the autopilot is in offboard/guided and follows our setpoints
  | 'pilot_override' // a pilot changed the mode away: the vehicle is theirs for the rest of the flight
  | 'link_lost'
  | 'landing'
  | 'done'
  | 'failed';

/** A state change or notable event, always with the reason a person can read. */
export interface FlightEvent {
  tUs: number;
  kind: 'control_state' | 'link' | 'command' | 'statustext' | 'safety' | 'info';
  /** For control_state events: the new state. */
  state?: ControlState;
  message: string;
  severity: 'debug' | 'info' | 'warning' | 'error';
}

/** Raw MAVLink bytes crossing the flight-controller link, recorded in both directions. */
export interface MavlinkBytes {
  tUs: number;
  direction: 'rx' | 'tx';
  bytes: Uint8Array;
}

/** Counters of a byte link, shown in telemetry. */
export interface LinkStats {
  tUs: number;
  bytesIn: number;
  bytesOut: number;
  packetsIn: number;
  packetsOut: number;
  badCrc: number;
  unknownIds: number;
  /** Bytes skipped while resynchronising (not the start of a packet). */
  junkBytes: number;
  reconnects: number;
}

/**
 * The topic map: name → message type. Later modules add their topics here (camera FrameSets, detections, gate map,
 * trajectory, race events), one declaration each.
 */
export interface Topics {
  'fc/status': FcStatus;
  'fc/vehicle_state': VehicleState;
  'fc/event': FlightEvent;
  'fc/link_stats': LinkStats;
  'fc/setpoint': Setpoint;
  'mavlink/bytes': MavlinkBytes;
}

export type TopicName = keyof Topics;
