import { minimal } from 'mavlink-mappings';
import { RacepilotError } from '../core/errors.js';
import type { Autopilot } from '../core/messages.js';

/**
 * Flight-mode names from HEARTBEAT, both ways. ArduPilot puts a per-vehicle mode number in custom_mode; PX4 packs a
 * main mode into bits 16..23 and a sub mode into bits 24..31 (px4_custom_mode.h). Names follow each autopilot's own
 * spelling (PX4 as QGroundControl and MAVROS show them: "AUTO.LOITER"), so a log line reads like the ground station.
 */

export const MAV_AUTOPILOT_GENERIC = 0;
export const MAV_AUTOPILOT_ARDUPILOTMEGA = 3;
/** Not an autopilot: ground stations, gimbals and companion computers send heartbeats with this. */
export const MAV_AUTOPILOT_INVALID = 8;
export const MAV_AUTOPILOT_PX4 = 12;
export const MAV_MODE_FLAG_CUSTOM_MODE_ENABLED = 0x01;
export const MAV_MODE_FLAG_GUIDED_ENABLED = 0x08;
export const MAV_MODE_FLAG_AUTO_ENABLED = 0x04;
export const MAV_MODE_FLAG_STABILIZE_ENABLED = 0x10;
export const MAV_MODE_FLAG_MANUAL_INPUT_ENABLED = 0x40;
export const MAV_MODE_FLAG_SAFETY_ARMED = 0x80;

/** ArduCopter's mode numbers (ArduCopter/mode.h). */
export const ARDUCOPTER_MODES: Readonly<Record<number, string>> = {
  0: 'STABILIZE', 1: 'ACRO', 2: 'ALT_HOLD', 3: 'AUTO', 4: 'GUIDED', 5: 'LOITER', 6: 'RTL', 7: 'CIRCLE', 9: 'LAND',
  11: 'DRIFT', 13: 'SPORT', 14: 'FLIP', 15: 'AUTOTUNE', 16: 'POSHOLD', 17: 'BRAKE', 18: 'THROW', 19: 'AVOID_ADSB',
  20: 'GUIDED_NOGPS', 21: 'SMART_RTL', 22: 'FLOWHOLD', 23: 'FOLLOW', 24: 'ZIGZAG', 25: 'SYSTEMID', 26: 'AUTOROTATE',
  27: 'AUTO_RTL', 28: 'TURTLE',
};

/** ArduPlane's mode numbers (ArduPlane/mode.h), QuadPlane's Q modes included. */
export const ARDUPLANE_MODES: Readonly<Record<number, string>> = {
  0: 'MANUAL', 1: 'CIRCLE', 2: 'STABILIZE', 3: 'TRAINING', 4: 'ACRO', 5: 'FBWA', 6: 'FBWB', 7: 'CRUISE', 8: 'AUTOTUNE',
  10: 'AUTO', 11: 'RTL', 12: 'LOITER', 13: 'TAKEOFF', 14: 'AVOID_ADSB', 15: 'GUIDED', 16: 'INITIALISING',
  17: 'QSTABILIZE', 18: 'QHOVER', 19: 'QLOITER', 20: 'QLAND', 21: 'QRTL', 22: 'QAUTOTUNE', 23: 'QACRO', 24: 'THERMAL',
  25: 'LOITER_ALT_QLAND',
};

/** ArduRover's mode numbers (Rover/mode.h): rovers and boats. */
export const ARDUROVER_MODES: Readonly<Record<number, string>> = {
  0: 'MANUAL', 1: 'ACRO', 3: 'STEERING', 4: 'HOLD', 5: 'LOITER', 6: 'FOLLOW', 7: 'SIMPLE', 8: 'DOCK', 9: 'CIRCLE',
  10: 'AUTO', 11: 'RTL', 12: 'SMART_RTL', 15: 'GUIDED', 16: 'INITIALISING',
};

/** PX4 main modes (PX4_CUSTOM_MAIN_MODE). */
const PX4_MAIN: Readonly<Record<number, string>> = {
  1: 'MANUAL', 2: 'ALTCTL', 3: 'POSCTL', 4: 'AUTO', 5: 'ACRO', 6: 'OFFBOARD', 7: 'STABILIZED', 8: 'RATTITUDE',
  9: 'SIMPLE', 10: 'TERMINATION',
};
/** PX4 AUTO sub modes (PX4_CUSTOM_SUB_MODE_AUTO). */
const PX4_AUTO_SUB: Readonly<Record<number, string>> = {
  1: 'READY', 2: 'TAKEOFF', 3: 'LOITER', 4: 'MISSION', 5: 'RTL', 6: 'LAND', 8: 'FOLLOW_TARGET', 9: 'PRECLAND',
  10: 'VTOL_TAKEOFF',
};
/** PX4 POSCTL sub modes (PX4_CUSTOM_SUB_MODE_POSCTL); sub mode 0 is plain POSCTL. */
const PX4_POSCTL_SUB: Readonly<Record<number, string>> = { 1: 'ORBIT' };

export type ArduPilotVehicle = 'copter' | 'plane' | 'rover';

/** Which ArduPilot firmware a MAV_TYPE comes from: each numbers its modes differently. Null: not one we decode. */
export function arduPilotVehicle(vehicleType: number): ArduPilotVehicle | null {
  const T = minimal.MavType;
  switch (vehicleType) {
    case T.QUADROTOR: case T.COAXIAL: case T.HELICOPTER: case T.HEXAROTOR: case T.OCTOROTOR: case T.TRICOPTER:
    case T.DODECAROTOR: case T.DECAROTOR: case T.GENERIC_MULTIROTOR:
      return 'copter';
    case T.FIXED_WING: case T.VTOL_TAILSITTER_DUOROTOR: case T.VTOL_TAILSITTER_QUADROTOR: case T.VTOL_TILTROTOR:
    case T.VTOL_FIXEDROTOR: case T.VTOL_TAILSITTER: case T.VTOL_TILTWING: case T.VTOL_RESERVED5:
      return 'plane';
    case T.GROUND_ROVER: case T.SURFACE_BOAT:
      return 'rover';
    default:
      return null;
  }
}

const ARDU_TABLES: Record<ArduPilotVehicle, Readonly<Record<number, string>>> = {
  copter: ARDUCOPTER_MODES,
  plane: ARDUPLANE_MODES,
  rover: ARDUROVER_MODES,
};

/** MAV_AUTOPILOT number to the autopilot family the pipeline cares about. */
export function autopilotFamily(autopilot: number): Autopilot {
  if (autopilot === MAV_AUTOPILOT_PX4) return 'px4';
  if (autopilot === MAV_AUTOPILOT_ARDUPILOTMEGA) return 'ardupilot';
  if (autopilot === MAV_AUTOPILOT_GENERIC) return 'generic';
  return 'unknown';
}

/** MAV_TYPE number to its name ("QUADROTOR"), or "TYPE_n" for one this dialect does not know. */
export function vehicleTypeName(vehicleType: number): string {
  return (minimal.MavType as unknown as Record<number, string | undefined>)[vehicleType] ?? `TYPE_${vehicleType}`;
}

/**
 * The flight mode a HEARTBEAT announces, e.g. "OFFBOARD", "AUTO.LOITER", "GUIDED", "QHOVER". Never throws: a mode
 * that does not decode comes back as "UNKNOWN(n)" with the raw custom_mode, so a newer firmware still logs.
 */
export function decodeMode(autopilot: number, vehicleType: number, baseMode: number, customMode: number): string {
  const custom = customMode >>> 0;
  if ((baseMode & MAV_MODE_FLAG_CUSTOM_MODE_ENABLED) === 0) return baseModeName(baseMode);
  if (autopilot === MAV_AUTOPILOT_PX4) return px4ModeName(custom);
  if (autopilot === MAV_AUTOPILOT_ARDUPILOTMEGA) {
    const vehicle = arduPilotVehicle(vehicleType);
    const name = vehicle ? ARDU_TABLES[vehicle][custom] : undefined;
    return name ?? `UNKNOWN(${custom})`;
  }
  return `UNKNOWN(${custom})`;
}

function px4ModeName(custom: number): string {
  const main = (custom >>> 16) & 0xff;
  const sub = (custom >>> 24) & 0xff;
  const mainName = PX4_MAIN[main];
  if (!mainName) return `UNKNOWN(${custom})`;
  if (main === 4) {
    const subName = PX4_AUTO_SUB[sub];
    return subName ? `AUTO.${subName}` : `UNKNOWN(${custom})`;
  }
  if (main === 3 && sub !== 0) {
    const subName = PX4_POSCTL_SUB[sub];
    return subName ? `POSCTL.${subName}` : `UNKNOWN(${custom})`;
  }
  return mainName;
}

/** A heartbeat without custom mode: only the generic flags say anything. */
function baseModeName(baseMode: number): string {
  if (baseMode & MAV_MODE_FLAG_GUIDED_ENABLED) return 'GUIDED';
  if (baseMode & MAV_MODE_FLAG_AUTO_ENABLED) return 'AUTO';
  if (baseMode & MAV_MODE_FLAG_STABILIZE_ENABLED) return 'STABILIZED';
  if (baseMode & MAV_MODE_FLAG_MANUAL_INPUT_ENABLED) return 'MANUAL';
  return `UNKNOWN(base ${baseMode})`;
}

/** What MAV_CMD_DO_SET_MODE needs for a PX4 mode: param1 baseMode, param2 mainMode, param3 subMode. */
export interface Px4ModeCode {
  baseMode: number;
  mainMode: number;
  subMode: number;
  /** The HEARTBEAT custom_mode PX4 reports once it is in this mode. */
  customMode: number;
}

const PX4_BY_NAME: ReadonlyMap<string, { main: number; sub: number }> = (() => {
  const m = new Map<string, { main: number; sub: number }>();
  for (const [main, name] of Object.entries(PX4_MAIN)) if (name !== 'AUTO') m.set(name, { main: +main, sub: 0 });
  for (const [sub, name] of Object.entries(PX4_AUTO_SUB)) m.set(`AUTO.${name}`, { main: 4, sub: +sub });
  for (const [sub, name] of Object.entries(PX4_POSCTL_SUB)) m.set(`POSCTL.${name}`, { main: 3, sub: +sub });
  return m;
})();

/** The PX4 mode names encodePx4Mode accepts. */
export const PX4_MODE_NAMES: readonly string[] = [...PX4_BY_NAME.keys()];

/** The codes for a PX4 mode name as decodeMode spells it ("OFFBOARD", "AUTO.LAND"); throws for an unknown name. */
export function encodePx4Mode(name: string): Px4ModeCode {
  const entry = PX4_BY_NAME.get(name.toUpperCase());
  if (!entry) throw new RacepilotError(`unknown PX4 mode "${name}"; known: ${PX4_MODE_NAMES.join(', ')}`, 'flight mode');
  return {
    baseMode: MAV_MODE_FLAG_CUSTOM_MODE_ENABLED,
    mainMode: entry.main,
    subMode: entry.sub,
    customMode: ((entry.main << 16) | (entry.sub << 24)) >>> 0,
  };
}

function numberByName(table: Readonly<Record<number, string>>, firmware: string, name: string): number {
  const upper = name.toUpperCase();
  for (const [num, n] of Object.entries(table)) if (n === upper) return +num;
  throw new RacepilotError(`unknown ${firmware} mode "${name}"; known: ${Object.values(table).join(', ')}`, 'flight mode');
}

/** ArduCopter's mode number for a name ("GUIDED" → 4), for MAV_CMD_DO_SET_MODE param2; throws for an unknown name. */
export function arduCopterModeNumber(name: string): number {
  return numberByName(ARDUCOPTER_MODES, 'ArduCopter', name);
}

/** ArduPlane's mode number for a name ("GUIDED" → 15); throws for an unknown name. */
export function arduPlaneModeNumber(name: string): number {
  return numberByName(ARDUPLANE_MODES, 'ArduPlane', name);
}
