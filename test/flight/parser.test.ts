import { test } from 'node:test';
import assert from 'node:assert/strict';
import { common, minimal, x25crc } from 'mavlink-mappings';
import { MavlinkEncoder, decode } from '../../src/flight/mavlink/codec.js';
import { MAX_PACKET, MavlinkParser, frameAt } from '../../src/flight/mavlink/parser.js';
import { heartbeat, localPosition, prng, statusText, v1Packet, wrongBaud } from './mavlink-bytes.js';

/** bytesIn = packetBytes + junkBytes + pending, whatever came in. */
function assertAccounted(p: MavlinkParser): void {
  const s = p.stats;
  assert.equal(s.bytesIn, s.packetBytes + s.junkBytes + p.pending, JSON.stringify({ ...s, pending: p.pending }));
  assert.ok(p.pending < MAX_PACKET);
}

function stream(n: number): { bytes: Buffer; packets: Buffer[] } {
  const enc = new MavlinkEncoder(1, 1);
  const packets: Buffer[] = [];
  for (let i = 0; i < n; i++) packets.push(i % 10 === 0 ? heartbeat(enc) : i % 7 === 0 ? statusText(enc, `msg ${i}`) : localPosition(enc, i * 20));
  return { bytes: Buffer.concat(packets), packets };
}

test('a packet comes out whole, with header fields, and decodes', () => {
  const enc = new MavlinkEncoder(7, 191);
  const p = new MavlinkParser();
  const out = p.push(heartbeat(enc, 3 << 16));
  assert.equal(out.length, 1);
  const [pk] = out;
  assert.equal(pk!.version, 2);
  assert.equal(pk!.msgid, 0);
  assert.equal(pk!.sysid, 7);
  assert.equal(pk!.compid, 191);
  assert.equal(pk!.seq, 0);
  const hb = decode(pk!) as minimal.Heartbeat;
  assert.equal(hb.customMode, 3 << 16);
  assert.equal(hb.autopilot, minimal.MavAutopilot.PX4);
  assertAccounted(p);
});

test('MAVLink 1 packets parse too', () => {
  const enc = new MavlinkEncoder(1, 1);
  const v1 = v1Packet(localPosition(enc, 1234));
  const out = new MavlinkParser().push(v1);
  assert.equal(out.length, 1);
  assert.equal(out[0]!.version, 1);
  assert.equal((decode(out[0]!) as common.LocalPositionNed).timeBootMs, 1234);
});

test('byte-by-byte and one-chunk feeding give the same packets', () => {
  const { bytes, packets } = stream(200);
  const whole = new MavlinkParser().push(bytes);
  const p = new MavlinkParser();
  const single = [];
  for (const b of bytes) single.push(...p.push(Uint8Array.of(b)));
  assert.equal(whole.length, 200);
  assert.deepEqual(single.map((x) => x.bytes), packets);
  assert.deepEqual(whole.map((x) => x.bytes), packets);
  assertAccounted(p);
});

test('a chunk far larger than the working buffer loses nothing (a whole file in one push)', () => {
  const { bytes } = stream(20_000); // about 1 MB
  const p = new MavlinkParser();
  assert.equal(p.push(bytes).length, 20_000);
  assert.equal(p.stats.junkBytes, 0);
  assertAccounted(p);
});

test('noise between packets is counted as junk and the packets survive', () => {
  const enc = new MavlinkEncoder(1, 1);
  const noise = Buffer.from([0x00, 0x11, 0xfe, 0x05, 0x22, 0xfd, 0x33]); // with false start bytes
  const bytes = Buffer.concat([noise, heartbeat(enc), noise, localPosition(enc, 5), noise]);
  const p = new MavlinkParser();
  // A false start byte claiming more bytes than have arrived holds the rest back until they do (a live link keeps
  // sending); at the end of a stream, flush() gives up on it and parses what it was holding back.
  const out = p.push(bytes);
  assert.deepEqual(out.map((x) => x.msgid), []);
  assertAccounted(p);
  out.push(...p.flush());
  assert.deepEqual(out.map((x) => x.msgid), [0, 32]);
  assert.equal(p.stats.junkBytes, 3 * noise.length);
  assert.equal(p.pending, 0);
  assertAccounted(p);
});

test('on a live link, bytes that keep coming release packets held back by a false start byte', () => {
  const enc = new MavlinkEncoder(1, 1);
  const falseStart = Buffer.from([0xfd, 0xff]); // claims a 267-byte packet
  const p = new MavlinkParser();
  const out = p.push(Buffer.concat([falseStart, heartbeat(enc)]));
  for (let i = 0; out.length === 0 && i < 20; i++) out.push(...p.push(heartbeat(enc)));
  assert.ok(out.length > 0);
  assert.equal(out[0]!.seq, 0, 'the first heartbeat behind the false start is not lost');
  assert.equal(p.stats.badCrc, 1);
  assertAccounted(p);
});

test('a corrupted packet costs only itself: bad CRC counted, the next packet parsed', () => {
  const enc = new MavlinkEncoder(1, 1);
  const a = heartbeat(enc);
  const b = localPosition(enc, 100);
  const c = heartbeat(enc);
  b[15] = b[15]! ^ 0x40; // a bit flip inside the payload
  const p = new MavlinkParser();
  const out = p.push(Buffer.concat([a, b, c]));
  assert.deepEqual(out.map((x) => x.seq), [0, 2]);
  assert.equal(p.stats.badCrc, 1);
  assert.equal(p.stats.junkBytes, b.length);
  assertAccounted(p);
});

test('an unknown message id is counted and skipped, not trusted', () => {
  const enc = new MavlinkEncoder(1, 1);
  const hb = heartbeat(enc);
  const unknown = Buffer.from(hb);
  unknown[7] = 0x39; // msgid 0x30 0x39 ... = an id no dialect defines
  unknown[8] = 0x30;
  const p = new MavlinkParser();
  const out = p.push(Buffer.concat([unknown, heartbeat(enc)]));
  assert.equal(out.length, 1);
  assert.equal(p.stats.unknownIds, 1);
  assertAccounted(p);
});

test('signed MAVLink 2 packets are cut with their 13-byte signature', () => {
  const enc = new MavlinkEncoder(1, 1);
  const hb = heartbeat(enc);
  const signed = Buffer.concat([hb, Buffer.alloc(13, 0xab)]);
  signed[2] = 0x01; // incompat flag "signed": the flags are under the CRC, so recompute it (HEARTBEAT's CRC_EXTRA is 50)
  const len = signed[1]!;
  signed.writeUInt16LE(x25crc(signed.subarray(0, 10 + len + 2), 1, 2, 50), 10 + len);
  const p = new MavlinkParser();
  const out = p.push(Buffer.concat([signed, heartbeat(enc)]));
  assert.equal(out.length, 2);
  assert.equal(out[0]!.signed, true);
  assert.equal(out[0]!.bytes.length, hb.length + 13);
  assertAccounted(p);
});

test('frameAt reports a short buffer as short, never as bad', () => {
  const hb = heartbeat(new MavlinkEncoder(1, 1));
  for (let end = 0; end < hb.length; end++) assert.equal(frameAt(hb, 0, end).kind, 'short');
  assert.equal(frameAt(hb, 0, hb.length).kind, 'packet');
});

test('wrong baud rate: the parser sees garbage, yields zero packets, counts junk, never throws', () => {
  const { bytes } = stream(300);
  for (const [sent, read] of [
    [57600, 115200],
    [921600, 57600],
    [115200, 57600],
    [921600, 460800],
  ] as const) {
    const garbage = wrongBaud(bytes, sent, read);
    const p = new MavlinkParser();
    let packets = 0;
    for (let i = 0; i < garbage.length; i += 64) packets += p.push(garbage.subarray(i, i + 64)).length;
    p.flush();
    assert.equal(packets, 0, `${sent} read at ${read}`);
    assert.ok(p.stats.junkBytes > 0 && p.stats.junkBytes === garbage.length, `${sent}/${read}: ${JSON.stringify(p.stats)}`);
  }
  // The resampler itself is right: at the right rate the bytes come through unchanged.
  assert.deepEqual(wrongBaud(bytes.subarray(0, 500), 57600, 57600), bytes.subarray(0, 500));
});

test('random bytes (seeded) produce no packets and are all accounted for', () => {
  const rand = prng(42);
  const junk = Buffer.alloc(200_000);
  for (let i = 0; i < junk.length; i++) junk[i] = Math.floor(rand() * 256);
  const p = new MavlinkParser();
  const out = p.push(junk);
  assert.equal(out.length, 0);
  assertAccounted(p);
  assert.ok(p.stats.badCrc + p.stats.unknownIds > 0, 'random data contains false start bytes');
});
