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
 * One camera image. `data` is `height` rows of `width·bytesPerPixel` bytes, no padding. Live sources hand out
 * pooled buffers: the pixels stay valid for the configured `camera.bufferFrames` frames of that camera; a consumer
 * that keeps an image longer copies it.
 */
export interface CameraImage {
  /** When it reached the daemon, on the injected clock (µs). */
  tUs: number;
  /** Capture time estimate: arrival minus the rig's configured pipeline latency (µs, same clock). */
  tSampleUs: number;
  rig: string;
  side: 'left' | 'right';
  /** Frames of this camera since its source started (0, 1, ...); restarts continue the count. */
  seq: number;
  width: number;
  height: number;
  format: 'GRAY8' | 'RGB';
  data: Uint8Array;
}

/**
 * The eight images of one instant (four stereo rigs), slot 2·rig + (0 left, 1 right) in configuration order. A
 * slot is null when that camera had no image within the configured skew: `holes` names it, `dead` names cameras
 * that have sent nothing for the configured dead time. A FrameSet never waits for a dead camera.
 */
export interface FrameSet {
  tUs: number;
  /** One capture time for the set: the earliest tSampleUs among its images (µs); strictly increases set to set. */
  tSampleUs: number;
  /** Increasing FrameSet number. */
  seq: number;
  images: (CameraImage | null)[];
  /** "rig/side" of each empty slot. */
  holes: string[];
  /** "rig/side" of each camera currently considered dead (a subset of holes). */
  dead: string[];
  /** Largest minus smallest tSampleUs among the images present (µs). */
  skewUs: number;
}

/** Per-camera-stream counters, published about once a second. */
export interface CameraStreamStats {
  tUs: number;
  /** "rig" for a side-by-side stream, "rig/left" or "rig/right" for one sensor's stream. */
  stream: string;
  state: 'starting' | 'running' | 'restarting' | 'failed' | 'stopped';
  frames: number;
  /**
   * Frames missing: what the configured rate predicts since the first frame minus what arrived (not below 0).
   * Restart gaps count; a delayed burst that catches up does not.
   */
  dropped: number;
  /** Frames that came more than 1.5 frame periods after the previous one. */
  late: number;
  restarts: number;
  /** Longest time without a frame since the start (µs), restarts included: the gap a restart left. */
  maxGapUs: number;
  /** Frames per second over the last reporting interval. */
  fps: number;
  /** Last reason the pipeline was restarted or failed, if any (e.g. its stderr). */
  lastError: string | null;
}

/** Counters of rig synchronisation. */
export interface FrameSetStats {
  tUs: number;
  sets: number;
  /** Sets with at least one hole. */
  setsWithHoles: number;
  /** Images that arrived after their set had gone out, or that no set could take; dropped. */
  lateImages: number;
}

/** One gate seen in one FrameSet, in the body FRD frame at the FrameSet's capture time. */
export interface GateObservation {
  /** Centre of the gate's inner square (m, body FRD). */
  p_body_m: Vec3;
  /**
   * Gate orientation: rotates gate-frame vectors into body FRD. Gate frame: x along the gate's right edge (TL→TR as
   * seen in the image), y down (TL→BL), z = x × y, the gate's normal pointing away from the camera that saw it.
   */
  q_body_gate: Quat;
  /** 1σ position uncertainty along body x, y, z (m); grows with distance, shrinks when stereo agrees. */
  sigma_p_body_m: Vec3;
  /** 1σ orientation uncertainty (rad, about any axis). */
  sigmaRot_rad: number;
  /** Range from the seeing camera to the gate centre (m). */
  range_m: number;
  /** Detector centre score 0..1 (the best among the images that saw it). */
  score: number;
  rig: string;
  /** Images whose detections went into this gate. */
  seenBy: ('left' | 'right')[];
  /** How the position was found: one image's corners and the gate size (pnp), or both images (stereo+pnp). */
  method: 'pnp' | 'stereo+pnp';
  /** Per corner TL, TR, BR, BL: seen with confidence (not cut by the image edge, not too weak). */
  cornersSeen: [boolean, boolean, boolean, boolean];
  /** Inner corners in the left (or only) image's pixels, TL TR BR BL, for display. */
  corners_px: [number, number][];
}

/** Timings of one FrameSet through perception (ms); preprocessing and inference run off the event loop. */
export interface PerceptionTimings {
  /** Waiting for the previous FrameSet's inference to finish (the two overlap: its preprocessing ran meanwhile). */
  queueMs: number;
  preprocessMs: number;
  inferenceMs: number;
  decodeMs: number;
  geometryMs: number;
  /** Capture (tSampleUs) to publication (tUs). */
  endToEndMs: number;
  /** Time this FrameSet held the event loop (copying pixels to the worker, decoding, geometry); absent when no
   *  detector ran (the simulator's truth perception). */
  mainThreadMs?: number;
  /** The longest of those stretches without a break (the loop runs in between): what perception can stall it by. */
  mainThreadMaxSliceMs?: number;
}

/**
 * `perception/gates`: per FrameSet, the gates seen. A FrameSet perception skipped (busy) produces no message; one
 * it processed always produces one, empty when no gate was seen, so a consumer can tell "no gate" from "no data".
 */
export interface PerceptionGates {
  /** Published (µs, injected clock). */
  tUs: number;
  /** The FrameSet's capture time (µs): the instant the poses are for. */
  tSampleUs: number;
  framesetSeq: number;
  gates: GateObservation[];
  /** Images inferred on / images rejected and why ("rig/side: reason"), e.g. missing, black, saturated, size. */
  imagesUsed: number;
  rejected: string[];
  /** The execution provider that ran the inference. */
  provider: string;
  timings: PerceptionTimings;
}

/** Running counters of the perception stage. */
export interface PerceptionStats {
  tUs: number;
  framesets: number;
  /** FrameSets dropped because the previous one was still in flight. */
  skipped: number;
  imagesInferred: number;
  imagesMissing: number;
  imagesBlind: number;
  imagesBadSize: number;
  gates: number;
  /** Detections discarded by the geometry (degenerate corners, implausible pose). */
  rejectedDetections: number;
}

/** One gate of the gate map (estimation/). */
export interface MappedGate {
  /** Index of the physical gate (track entries flown twice via `sameAs` share one). */
  physical: number;
  ids: string[];
  /** Where the gate is in the odometry frame, where setpoints live: world position plus drift (m, NED). */
  p_odom_ned_m: Vec3;
  /** Where the gate is in the track's frame, refined by what was seen (m, NED). */
  p_world_ned_m: Vec3;
  /** 1σ of the world position (m). */
  sigmaM: number;
  sightings: number;
}

/** `estimation/gate_map`: the gates and the odometry's drift, after each fused perception message. */
export interface GateMapState {
  tUs: number;
  /** Odometry minus world: add it to a track position to get where the flight controller thinks it is (m, NED). */
  drift_ned_m: Vec3;
  driftSigmaM: number;
  gates: MappedGate[];
  /** Sightings fused / rejected as outliers, since the start. */
  accepted: number;
  rejected: number;
}

/** One piece of a planned trajectory: per NED axis a quintic p(t) = Σ c_k t^k, t in [0, durationS] from t0Us. */
export interface TrajectorySegment {
  t0Us: number;
  durationS: number;
  axes: [Quintic, Quintic, Quintic];
  /** Index (in the track) of the gate the segment ends in, or null for a segment to a hover point. */
  gateIndex: number | null;
}

/** Coefficients c0..c5 (SI units, odometry frame). */
export type Quintic = [number, number, number, number, number, number];

/** `planning/trajectory`: a new plan, published when it replaces the previous one. Positions in the odometry frame. */
export interface Trajectory {
  tUs: number;
  segments: TrajectorySegment[];
}

/** `race/event`: the race logic's phase changes, gates passed or missed, laps; always with a readable reason. */
export interface RaceEvent {
  tUs: number;
  kind: 'phase' | 'gate_passed' | 'gate_missed' | 'lap' | 'refused';
  message: string;
  /** For gate events: the track index of the gate. */
  gateIndex?: number;
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
  'camera/frameset': FrameSet;
  'camera/stream_stats': CameraStreamStats;
  'camera/sync_stats': FrameSetStats;
  'perception/gates': PerceptionGates;
  'perception/stats': PerceptionStats;
  'estimation/gate_map': GateMapState;
  'planning/trajectory': Trajectory;
  'race/event': RaceEvent;
}

export type TopicName = keyof Topics;
