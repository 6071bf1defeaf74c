import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { McapIndexedReader } from '@mcap/core';
import * as zstd from '@foxglove/wasm-zstd';
import { configWith } from '../../src/core/config/load.js';
import type { RecordingConfig } from '../../src/core/config/recording.js';
import type { Topics } from '../../src/core/messages.js';

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'racepilot-rec-'));
}

export function recordingConfig(over: Partial<RecordingConfig> = {}): RecordingConfig {
  return { ...configWith({}).recording, minFreeBytes: 0, minFreeBytesImages: 0, ...over };
}

/** One message of every typed topic at time tUs, with values that exercise nulls, bytes and optional fields. */
export type FcTopics = Pick<Topics, 'fc/status' | 'fc/vehicle_state' | 'fc/event' | 'fc/link_stats' | 'fc/setpoint' | 'mavlink/bytes'>;

export function sampleMessages(tUs: number, i: number): FcTopics {
  return {
    'fc/status': {
      tUs, linkUp: i > 0, lastHeartbeatUs: i > 0 ? tUs - 1000 : null, autopilot: 'px4', vehicleType: 'QUADROTOR', systemId: 1,
      mode: 'OFFBOARD', externalControl: true, armed: i % 2 === 0, batteryV: i % 3 ? 15.2 : null, batteryRemaining: 0.8,
    },
    'fc/vehicle_state': { tUs, tSampleUs: tUs - 500, p_ned_m: [i, 2, -3], v_ned_mps: [1, 0, 0], q_ned_body: [1, 0, 0, 0], w_body_radps: i % 2 ? null : [0, 0, 0.1], source: 'odometry' },
    'fc/event': { tUs, kind: 'control_state', state: 'in_control', message: `event ${i}`, severity: 'info' },
    'fc/link_stats': { tUs, bytesIn: i * 10, bytesOut: i, packetsIn: i, packetsOut: i, badCrc: 0, unknownIds: 0, junkBytes: 0, reconnects: 0 },
    'fc/setpoint': { tUs, p_ned_m: [0, 0, -2], v_ned_mps: [0, 0, 0], a_ned_mps2: [0, 0, 0], yaw_rad: 0.5, source: 'trajectory' },
    'mavlink/bytes': { tUs, direction: i % 2 ? 'tx' : 'rx', bytes: new Uint8Array([0xfd, i & 0xff, 0, 1, 2, 3]) },
  };
}

/** Opens a log with @mcap/core's indexed reader (which needs a valid summary and footer). */
export async function openIndexed(file: string): Promise<McapIndexedReader> {
  await zstd.isLoaded;
  const data = readFileSync(file);
  return McapIndexedReader.Initialize({
    readable: { size: async () => BigInt(data.length), read: async (offset, size) => data.subarray(Number(offset), Number(offset + size)) },
    decompressHandlers: { zstd: (buf, size) => zstd.decompress(buf, Number(size)) },
  });
}

/** A tiny gray FrameSet of two rigs (four images), pixels a pattern that depends on seq: replays can check them. */
export function sampleFrameSet(tUs: number, seq: number, width = 32, height = 24): Topics['camera/frameset'] {
  const images = ['front', 'left'].flatMap((rig, r) =>
    (['left', 'right'] as const).map((side, s) => ({
      tUs, tSampleUs: tUs - 2000, rig, side, seq, width, height, format: 'GRAY8' as const,
      data: new Uint8Array(width * height).map((_, i) => (i * 7 + seq * 13 + r * 50 + s * 3) & 0xff),
    })),
  );
  return { tUs, tSampleUs: tUs - 2000, seq, images: [...images, null], holes: ['rear/left'], dead: [], skewUs: 0 };
}

export const sampleTrack = {
  gates: [
    { id: 'g1', p_ned_m: [5, 0, -2] as [number, number, number], yaw_deg: 0, innerSizeM: 1.5, outerSizeM: 2.1 },
    { id: 'g2', p_ned_m: [10, 4, -2] as [number, number, number], yaw_deg: 90, innerSizeM: 1.5, outerSizeM: 2.1 },
  ],
};

export function sampleGateMap(tUs: number): Topics['estimation/gate_map'] {
  return {
    tUs, drift_ned_m: [0.1, 0, 0], driftSigmaM: 0.2, accepted: 3, rejected: 0,
    gates: [{ physical: 0, ids: ['g1'], p_odom_ned_m: [5.1, 0, -2], p_world_ned_m: [5, 0, -2], sigmaM: 0.1, sightings: 3 }],
  };
}

export function sampleTrajectory(tUs: number): Topics['planning/trajectory'] {
  return {
    tUs,
    segments: [
      { t0Us: tUs, durationS: 1, axes: [[0, 1, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0], [-2, 0, 0, 0, 0, 0]], gateIndex: 0 },
      { t0Us: tUs + 1e6, durationS: 1.5, axes: [[1, 1, 0, 0, 0, 0], [0, 0.5, 0, 0, 0, 0], [-2, 0, 0, 0, 0, 0]], gateIndex: null },
    ],
  };
}
