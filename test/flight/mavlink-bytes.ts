import { common, minimal, x25crc } from 'mavlink-mappings';
import { MavlinkEncoder } from '../../src/flight/mavlink/codec.js';
import { CRC_EXTRA } from '../../src/flight/mavlink/registry.js';

/** Byte builders for MAVLink tests: real packets from the project's own encoder (MAVLink 2). */
export function heartbeat(encoder: MavlinkEncoder, customMode = 6 << 16): Buffer {
  const hb = new minimal.Heartbeat();
  hb.type = minimal.MavType.QUADROTOR;
  hb.autopilot = minimal.MavAutopilot.PX4;
  hb.baseMode = 0x81 as minimal.MavModeFlag; // custom mode enabled, armed
  hb.customMode = customMode;
  hb.systemStatus = minimal.MavState.ACTIVE;
  hb.mavlinkVersion = 3;
  return encoder.encode(hb);
}

export function localPosition(encoder: MavlinkEncoder, t: number): Buffer {
  const m = new common.LocalPositionNed();
  m.timeBootMs = t;
  m.x = t / 1000;
  m.y = -1.5;
  m.z = -2;
  m.vx = 0.25;
  return encoder.encode(m);
}

export function statusText(encoder: MavlinkEncoder, text: string): Buffer {
  const m = new common.StatusText();
  m.severity = common.MavSeverity.INFO;
  m.text = text;
  return encoder.encode(m);
}

/** The same packet as MAVLink 1 (v1 header, full payload): PX4 and ArduPilot still send v1 to old peers. */
export function v1Packet(v2: Buffer): Buffer {
  const len = v2[1]!;
  // MAVLink 2 trims trailing zero bytes of the payload; v1 always sends it whole.
  const full = Buffer.alloc(Math.max(len, v1Length[v2[7]!] ?? len));
  v2.copy(full, 0, 10, 10 + len);
  return v1From(v2[4]!, v2[5]!, v2[6]!, v2[7]!, full);
}

/** Full payload lengths of the messages these builders make. */
const v1Length: Record<number, number> = { 0: 9, 32: 28, 253: 51 };

function v1From(seq: number, sysid: number, compid: number, msgid: number, payload: Buffer): Buffer {
  const out = Buffer.alloc(6 + payload.length + 2);
  out[0] = 0xfe;
  out[1] = payload.length;
  out[2] = seq;
  out[3] = sysid;
  out[4] = compid;
  out[5] = msgid;
  payload.copy(out, 6);
  const crc = x25crc(out, 1, 2, CRC_EXTRA[msgid]!);
  out.writeUInt16LE(crc, 6 + payload.length);
  return out;
}

/** A small seeded PRNG (mulberry32): the fuzz and garbage tests must be reproducible. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * What a UART receiver set to the wrong baud rate delivers: the bytes are sent as 8N1 frames at `sentBaud` and
 * sampled at `readBaud` (start-bit detection, mid-bit sampling, framing errors dropped as a driver does).
 */
export function wrongBaud(bytes: Uint8Array, sentBaud: number, readBaud: number): Buffer {
  const bits: number[] = [];
  for (const byte of bytes) {
    bits.push(0);
    for (let i = 0; i < 8; i++) bits.push((byte >> i) & 1);
    bits.push(1);
  }
  const level = (t: number) => bits[Math.floor(t * sentBaud)] ?? 1; // line idles high
  const out: number[] = [];
  const end = bits.length / sentBaud;
  const step = 1 / readBaud;
  let t = 0;
  const fine = step / 8;
  while (t < end) {
    if (level(t) === 1) {
      t += fine;
      continue;
    }
    // Start bit seen: sample the 8 data bits and the stop bit in the middle of each of our bit times.
    let byte = 0;
    for (let i = 0; i < 8; i++) byte |= level(t + (1.5 + i) * step) << i;
    if (level(t + 9.5 * step) === 1) out.push(byte);
    t += 10 * step;
  }
  return Buffer.from(out);
}
