import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../../src/core/errors.js';
import { MavlinkEncoder } from '../../src/flight/mavlink/codec.js';
import { detectFormat, readCapture, readCaptureFile } from '../../src/recording/tlog.js';
import { summarizeCapture } from '../../src/recording/tlog-summary.js';
import { run as tlogInfo } from '../../src/cli/tlog-info.js';
import { heartbeat, localPosition } from '../flight/mavlink-bytes.js';

// dist/test/recording/ → repo root → ../shared
const SHARED = fileURLToPath(new URL('../../../../shared/data/mavlink/', import.meta.url));
const haveShared = existsSync(SHARED);
const skipShared = haveShared ? false : `../shared/data/mavlink not found at ${SHARED}; the shared captures are not here`;

/** Packet counts per file as ../shared/data/mavlink/SOURCES.md gives them. */
const EXPECTED: Array<{ file: string; format: 'tlog' | 'raw'; packets: number; badCrc: number; durationS?: number }> = [
  { file: 'tlog/jschall_magfit_test.tlog', format: 'tlog', packets: 2632, badCrc: 0, durationS: 52 },
  { file: 'tlog/mst_iarc2019_copter_indoor.tlog', format: 'tlog', packets: 1077, badCrc: 0, durationS: 6.8 },
  { file: 'tlog/eaics_arduplane_bench.tlog', format: 'tlog', packets: 8164, badCrc: 0, durationS: 84 },
  { file: 'raw/eaics_arduplane_bench.tlog.raw', format: 'raw', packets: 7284, badCrc: 1 },
  { file: 'tlog/ahmadkhanfar_sitl_copter.tlog', format: 'tlog', packets: 10277, badCrc: 0, durationS: 137 },
  { file: 'tlog/uavlogviewer_sitl_quadplane_vtol.tlog', format: 'tlog', packets: 23894, badCrc: 0, durationS: 208 },
  { file: 'raw/nodemavlink_px4_v2_3412-packets.bin', format: 'raw', packets: 3412, badCrc: 0 },
  { file: 'raw/nodemavlink_ardupilot_v2_data.mavlink', format: 'raw', packets: 1476, badCrc: 0 },
];

for (const e of EXPECTED) {
  test(`${e.file}: ${e.packets} packets as SOURCES.md says`, { skip: skipShared }, () => {
    const c = readCaptureFile(join(SHARED, e.file));
    const s = c.stats;
    assert.equal(c.format, e.format);
    assert.equal(s.packets, e.packets);
    assert.equal(c.packets.length, e.packets);
    assert.equal(s.badCrc, e.badCrc);
    assert.equal(s.bytes, s.packetBytes + s.timestampBytes + s.junkBytes);
    if (e.format === 'tlog') {
      assert.equal(s.junkBytes, 0);
      assert.equal(s.badTimestamps, 0);
      assert.ok(Math.abs((s.lastTimeUs! - s.firstTimeUs!) / 1e6 - e.durationS!) < 0.6, `duration ${(s.lastTimeUs! - s.firstTimeUs!) / 1e6}`);
    }
  });
}

test('the corrupted node-mavlink fragment: its valid packets come out, the rest is counted', { skip: skipShared }, () => {
  // SOURCES.md calls it a tlog with garbage timestamps and gives 2,640 non-packet bytes, 10 bad CRCs and 8 unknown
  // ids. The bytes say otherwise: it is a bare MAVLink stream (PX4, v1 and v2 mixed) whose first 5 bytes are the tail
  // of a cut packet; its 138 packets all pass their CRC (one is PROTOCOL_VERSION, id 300, with common.xml's
  // CRC_EXTRA 217). Read as a tlog, half its packets would be eaten as "timestamps", hence the garbage timestamps.
  const file = join(SHARED, 'tlog/nodemavlink_GH-5_corrupted.tlog');
  const c = readCaptureFile(file);
  assert.equal(c.format, 'raw');
  assert.equal(c.stats.packets, 138);
  assert.equal(c.stats.badCrc, 0);
  assert.equal(c.stats.unknownIds, 0);
  assert.equal(c.stats.junkBytes, 5);
  assert.equal(c.stats.bytes, 7383);
  const forced = readCaptureFile(file, 'tlog');
  assert.ok(forced.stats.packets < 138 && forced.stats.badTimestamps === forced.stats.packets);
  const summary = summarizeCapture(c);
  assert.deepEqual(summary.autopilots.map((a) => [a.autopilot, a.modes]), [['px4', ['MANUAL']]]);
  assert.equal(summary.messages.find((m) => m.msgid === 300)?.name, 'PROTOCOL_VERSION');
});

test('modes and autopilots seen in the shared captures', { skip: skipShared }, () => {
  const vtol = summarizeCapture(readCaptureFile(join(SHARED, 'tlog/uavlogviewer_sitl_quadplane_vtol.tlog')));
  assert.equal(vtol.autopilots.length, 1);
  assert.equal(vtol.autopilots[0]!.autopilot, 'ardupilot');
  assert.deepEqual(vtol.autopilots[0]!.modes, ['QLOITER', 'CIRCLE', 'GUIDED', 'QLAND']);
  const copter = summarizeCapture(readCaptureFile(join(SHARED, 'tlog/ahmadkhanfar_sitl_copter.tlog')));
  assert.deepEqual(copter.autopilots[0]!.modes, ['STABILIZE', 'GUIDED']);
  assert.equal(copter.autopilots[0]!.vehicleType, 'QUADROTOR');
  const px4 = summarizeCapture(readCaptureFile(join(SHARED, 'raw/nodemavlink_px4_v2_3412-packets.bin')));
  assert.equal(px4.autopilots[0]!.autopilot, 'px4');
  assert.deepEqual(px4.autopilots[0]!.modes, ['AUTO.LOITER']);
  assert.equal(px4.durationSource, 'autopilot boot time');
});

/** A tlog written the way QGroundControl writes one. */
function tlogOf(packets: Buffer[], startUs: bigint, stepUs: bigint): Buffer {
  return Buffer.concat(
    packets.flatMap((p, i) => {
      const ts = Buffer.alloc(8);
      ts.writeBigUInt64BE(startUs + BigInt(i) * stepUs);
      return [ts, p];
    }),
  );
}

test('a tlog with a broken record resynchronises and counts the damage', () => {
  const enc = new MavlinkEncoder(1, 1);
  const packets = Array.from({ length: 50 }, (_, i) => (i % 5 === 0 ? heartbeat(enc) : localPosition(enc, i)));
  const good = tlogOf(packets, 1_700_000_000_000_000n, 20_000n);
  assert.equal(detectFormat(good), 'tlog');
  const clean = readCapture(good);
  assert.equal(clean.stats.packets, 50);
  assert.equal((clean.stats.lastTimeUs! - clean.stats.firstTimeUs!) / 1e6, 0.98);
  assert.equal(clean.packets[3]!.timeUs, 1_700_000_000_060_000);

  const bad = Buffer.from(good);
  let off = 0; // records differ in size: walk to record 10
  for (let i = 0; i < 10; i++) off += 8 + packets[i]!.length;
  bad[off + 8 + 12] ^= 0x55; // corrupt record 10's payload
  bad.writeBigUInt64BE(0xdeadbeefn, off + 8 + packets[10]!.length); // garbage timestamp on record 11
  const c = readCapture(Buffer.concat([bad, Buffer.from([1, 2, 3])]));
  assert.equal(c.format, 'tlog');
  assert.equal(c.stats.packets, 49);
  assert.equal(c.stats.badCrc, 1);
  assert.equal(c.stats.badTimestamps, 1);
  assert.equal(c.stats.junkBytes, 8 + packets[10]!.length + 3);
  assert.equal(c.packets[10]!.timeUs, null);
});

test('bad input: missing file and directory are InputErrors naming the path; empty and non-MAVLink files give 0 packets', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'racepilot-tlog-'));
  try {
    assert.throws(() => readCaptureFile(join(dir, 'nope.tlog')), (e: unknown) => e instanceof InputError && e.message.includes('nope.tlog') && /no such file/.test(e.message));
    mkdirSync(join(dir, 'sub'));
    assert.throws(() => readCaptureFile(join(dir, 'sub')), (e: unknown) => e instanceof InputError && /directory/.test(e.message));
    writeFileSync(join(dir, 'empty.tlog'), Buffer.alloc(0));
    assert.equal(readCaptureFile(join(dir, 'empty.tlog')).stats.packets, 0);
    // A JPEG: SOI, an APP0 segment, bytes, EOI. Every byte is junk, nothing throws.
    const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]), Buffer.from('JFIF\0'), Buffer.alloc(4000, 0xfe), Buffer.from([0xff, 0xd9])]);
    writeFileSync(join(dir, 'photo.jpg'), jpeg);
    const c = readCaptureFile(join(dir, 'photo.jpg'));
    assert.equal(c.stats.packets, 0);
    assert.equal(c.stats.junkBytes, jpeg.length);

    // The command: an honest summary with exit 0, or an InputError the CLI turns into one line and exit 65.
    const written: string[] = [];
    const original = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => (written.push(String(chunk)), true)) as typeof process.stdout.write;
    try {
      assert.equal(await tlogInfo([join(dir, 'photo.jpg'), '--json']), 0);
    } finally {
      process.stdout.write = original;
    }
    const summary = JSON.parse(written.join(''));
    assert.equal(summary.stats.packets, 0);
    assert.deepEqual(summary.autopilots, []);
    await assert.rejects(tlogInfo([join(dir, 'nope.tlog')]), (e: unknown) => e instanceof InputError && e.exitCode === 65);
    await assert.rejects(tlogInfo([]), /expected one FILE/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
