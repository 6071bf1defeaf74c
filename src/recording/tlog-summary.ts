import { decode } from '../flight/mavlink/codec.js';
import { messageName } from '../flight/mavlink/registry.js';
import {
  MAV_AUTOPILOT_INVALID,
  MAV_MODE_FLAG_SAFETY_ARMED,
  autopilotFamily,
  decodeMode,
  vehicleTypeName,
} from '../flight/modes.js';
import type { Autopilot } from '../core/messages.js';
import type { Capture, CaptureStats } from './tlog.js';

const HEARTBEAT = 0;

/** One flight controller (or other autopilot-class component) seen in a capture, from its heartbeats. */
export interface AutopilotSeen {
  systemId: number;
  componentId: number;
  autopilot: Autopilot;
  /** MAV_AUTOPILOT number as sent. */
  autopilotId: number;
  vehicleType: string;
  /** Flight modes in the order they were first seen. */
  modes: string[];
  /** Mode changes (heartbeats whose mode differs from the previous one of this component). */
  modeChanges: number;
  armedSeen: boolean;
  heartbeats: number;
}

export interface CaptureSummary {
  format: Capture['format'];
  stats: CaptureStats;
  /** Seconds covered: from tlog timestamps, else from the autopilot's time_boot_ms; null when neither exists. */
  durationS: number | null;
  durationSource: 'tlog timestamps' | 'autopilot boot time' | null;
  versions: { v1: number; v2: number };
  /** Packet count per message name, largest first. */
  messages: Array<{ name: string; msgid: number; count: number }>;
  autopilots: AutopilotSeen[];
}

/**
 * What a capture holds: message counts, who sent heartbeats and in which modes, how long it spans. Ground
 * stations, gimbals and companion computers also send heartbeats (MAV_AUTOPILOT_INVALID); they are not autopilots
 * and are left out.
 */
export function summarizeCapture(capture: Capture): CaptureSummary {
  const counts = new Map<number, number>();
  const versions = { v1: 0, v2: 0 };
  const seen = new Map<string, AutopilotSeen & { lastMode: string | null }>();
  const bootMs = new Map<number, number[]>();
  const needBootTime = capture.stats.firstTimeUs === null;

  for (const { packet } of capture.packets) {
    counts.set(packet.msgid, (counts.get(packet.msgid) ?? 0) + 1);
    if (packet.version === 1) versions.v1++;
    else versions.v2++;
    if (packet.msgid !== HEARTBEAT && !needBootTime) continue;
    const data = safeDecode(packet);
    if (!data) continue;
    if (packet.msgid === HEARTBEAT) {
      const hb = data as unknown as { type: number; autopilot: number; baseMode: number; customMode: number };
      if (hb.autopilot === MAV_AUTOPILOT_INVALID) continue;
      const key = `${packet.sysid}/${packet.compid}`;
      let entry = seen.get(key);
      if (!entry) {
        entry = {
          systemId: packet.sysid, componentId: packet.compid, autopilot: autopilotFamily(hb.autopilot),
          autopilotId: hb.autopilot, vehicleType: vehicleTypeName(hb.type), modes: [], modeChanges: 0,
          armedSeen: false, heartbeats: 0, lastMode: null,
        };
        seen.set(key, entry);
      }
      entry.heartbeats++;
      const mode = decodeMode(hb.autopilot, hb.type, hb.baseMode, hb.customMode);
      if (!entry.modes.includes(mode)) entry.modes.push(mode);
      if (entry.lastMode !== null && entry.lastMode !== mode) entry.modeChanges++;
      entry.lastMode = mode;
      if (hb.baseMode & MAV_MODE_FLAG_SAFETY_ARMED) entry.armedSeen = true;
    } else {
      const t = (data as unknown as { timeBootMs?: unknown }).timeBootMs;
      if (typeof t !== 'number' || !Number.isFinite(t)) continue;
      const times = bootMs.get(packet.sysid);
      if (times) times.push(t);
      else bootMs.set(packet.sysid, [t]);
    }
  }

  let durationS: number | null = null;
  let durationSource: CaptureSummary['durationSource'] = null;
  const { firstTimeUs, lastTimeUs } = capture.stats;
  if (firstTimeUs !== null && lastTimeUs !== null) {
    durationS = (lastTimeUs - firstTimeUs) / 1e6;
    durationSource = 'tlog timestamps';
  } else if (bootMs.size > 0) {
    durationS = Math.max(...[...bootMs.values()].map(coveredMs)) / 1000;
    durationSource = 'autopilot boot time';
  }

  const messages = [...counts.entries()]
    .map(([msgid, count]) => ({ name: messageName(msgid), msgid, count }))
    .sort((a, b) => b.count - a.count || a.msgid - b.msgid);
  const autopilots = [...seen.values()]
    .map(({ lastMode: _, ...rest }) => rest)
    .sort((a, b) => a.systemId - b.systemId || a.componentId - b.componentId);
  return { format: capture.format, stats: capture.stats, durationS, durationSource, versions, messages, autopilots };
}

/** Longest gap in boot time still counted as covered; a longer one is a splice, a reboot or a lost stretch. */
const MAX_BOOT_GAP_MS = 5000;

/**
 * Time covered by a set of time_boot_ms values: the sum of the steps between them, leaving out jumps longer than
 * MAX_BOOT_GAP_MS, so a spliced capture or a reboot does not count the time between its pieces.
 */
function coveredMs(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let total = 0;
  for (let i = 1; i < sorted.length; i++) {
    const step = sorted[i]! - sorted[i - 1]!;
    if (step <= MAX_BOOT_GAP_MS) total += step;
  }
  return total;
}

/** A packet passed its CRC, but its payload can still surprise node-mavlink (an id reused by another dialect). */
function safeDecode(packet: Capture['packets'][number]['packet']): object | null {
  try {
    return decode(packet);
  } catch {
    return null;
  }
}
