import { test } from 'node:test';
import assert from 'node:assert/strict';
import { minimal } from 'mavlink-mappings';
import {
  ARDUCOPTER_MODES,
  ARDUPLANE_MODES,
  MAV_AUTOPILOT_ARDUPILOTMEGA,
  MAV_AUTOPILOT_PX4,
  MAV_MODE_FLAG_CUSTOM_MODE_ENABLED,
  PX4_MODE_NAMES,
  arduCopterModeNumber,
  arduPlaneModeNumber,
  arduPilotVehicle,
  autopilotFamily,
  decodeMode,
  encodePx4Mode,
} from '../../src/flight/modes.js';
import { RacepilotError } from '../../src/core/errors.js';

const CUSTOM = MAV_MODE_FLAG_CUSTOM_MODE_ENABLED;
const QUAD = minimal.MavType.QUADROTOR;
const PLANE = minimal.MavType.FIXED_WING;

test('PX4 custom modes decode from main (bits 16..23) and sub (bits 24..31) modes', () => {
  // Values as PX4 v1.14 puts them in HEARTBEAT.custom_mode.
  assert.equal(decodeMode(MAV_AUTOPILOT_PX4, QUAD, CUSTOM, 6 << 16), 'OFFBOARD');
  assert.equal(decodeMode(MAV_AUTOPILOT_PX4, QUAD, CUSTOM, 3 << 16), 'POSCTL');
  assert.equal(decodeMode(MAV_AUTOPILOT_PX4, QUAD, CUSTOM, 0x03040000), 'AUTO.LOITER');
  assert.equal(decodeMode(MAV_AUTOPILOT_PX4, QUAD, CUSTOM, 0x06040000 >>> 0), 'AUTO.LAND');
  assert.equal(decodeMode(MAV_AUTOPILOT_PX4, QUAD, CUSTOM, 0x02040000), 'AUTO.TAKEOFF');
  assert.equal(decodeMode(MAV_AUTOPILOT_PX4, QUAD, CUSTOM, (1 << 24) | (3 << 16)), 'POSCTL.ORBIT');
  assert.equal(decodeMode(MAV_AUTOPILOT_PX4, QUAD, CUSTOM, 1 << 16), 'MANUAL');
  // A sub mode PX4 does not define, and no main mode at all.
  assert.equal(decodeMode(MAV_AUTOPILOT_PX4, QUAD, CUSTOM, (99 << 24) | (4 << 16)), `UNKNOWN(${((99 << 24) | (4 << 16)) >>> 0})`);
  assert.equal(decodeMode(MAV_AUTOPILOT_PX4, QUAD, CUSTOM, 0), 'UNKNOWN(0)');
});

test('every PX4 mode name round-trips through encodePx4Mode and decodeMode', () => {
  assert.ok(PX4_MODE_NAMES.length >= 15);
  for (const name of PX4_MODE_NAMES) {
    const code = encodePx4Mode(name);
    assert.equal(code.baseMode, CUSTOM);
    assert.equal(code.customMode, ((code.mainMode << 16) | (code.subMode << 24)) >>> 0);
    assert.equal(decodeMode(MAV_AUTOPILOT_PX4, QUAD, code.baseMode, code.customMode), name);
  }
  assert.deepEqual(encodePx4Mode('offboard'), { baseMode: 1, mainMode: 6, subMode: 0, customMode: 6 << 16 });
  assert.throws(() => encodePx4Mode('GUIDED'), (e: unknown) => e instanceof RacepilotError && /unknown PX4 mode "GUIDED"/.test(e.message));
});

test('ArduPilot mode numbers depend on the vehicle type', () => {
  const ap = MAV_AUTOPILOT_ARDUPILOTMEGA;
  assert.equal(decodeMode(ap, QUAD, CUSTOM | 0x80, 4), 'GUIDED');
  assert.equal(decodeMode(ap, QUAD, CUSTOM, 5), 'LOITER');
  assert.equal(decodeMode(ap, minimal.MavType.HEXAROTOR, CUSTOM, 16), 'POSHOLD');
  assert.equal(decodeMode(ap, PLANE, CUSTOM, 4), 'ACRO');
  assert.equal(decodeMode(ap, PLANE, CUSTOM, 15), 'GUIDED');
  assert.equal(decodeMode(ap, minimal.MavType.VTOL_TILTROTOR, CUSTOM, 19), 'QLOITER');
  assert.equal(decodeMode(ap, minimal.MavType.GROUND_ROVER, CUSTOM, 4), 'HOLD');
  assert.equal(decodeMode(ap, QUAD, CUSTOM, 8), 'UNKNOWN(8)'); // 8 is unused in ArduCopter
  assert.equal(decodeMode(ap, minimal.MavType.GCS, CUSTOM, 4), 'UNKNOWN(4)');
  assert.equal(arduPilotVehicle(minimal.MavType.TRICOPTER), 'copter');
  assert.equal(arduPilotVehicle(minimal.MavType.GIMBAL), null);
});

test('ArduCopter and ArduPlane name-to-number helpers invert the tables', () => {
  for (const [num, name] of Object.entries(ARDUCOPTER_MODES)) assert.equal(arduCopterModeNumber(name), +num);
  for (const [num, name] of Object.entries(ARDUPLANE_MODES)) assert.equal(arduPlaneModeNumber(name), +num);
  assert.equal(arduCopterModeNumber('guided'), 4);
  assert.equal(arduCopterModeNumber('GUIDED_NOGPS'), 20);
  assert.throws(() => arduCopterModeNumber('OFFBOARD'), /unknown ArduCopter mode "OFFBOARD"/);
});

test('without the custom-mode flag only the generic base-mode flags say anything', () => {
  assert.equal(decodeMode(MAV_AUTOPILOT_PX4, QUAD, 0x08, 6 << 16), 'GUIDED');
  assert.equal(decodeMode(MAV_AUTOPILOT_PX4, QUAD, 0x40, 0), 'MANUAL');
  assert.equal(decodeMode(0, QUAD, 0, 0), 'UNKNOWN(base 0)');
  assert.equal(decodeMode(0, QUAD, CUSTOM, 7), 'UNKNOWN(7)'); // a generic autopilot's custom mode means nothing to us
});

test('autopilot families', () => {
  assert.equal(autopilotFamily(12), 'px4');
  assert.equal(autopilotFamily(3), 'ardupilot');
  assert.equal(autopilotFamily(0), 'generic');
  assert.equal(autopilotFamily(8), 'unknown');
});
