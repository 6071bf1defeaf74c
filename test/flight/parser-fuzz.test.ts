import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MavlinkEncoder } from '../../src/flight/mavlink/codec.js';
import { MAX_PACKET, MavlinkParser, frameAt } from '../../src/flight/mavlink/parser.js';
import { heartbeat, localPosition, prng, statusText, v1Packet } from './mavlink-bytes.js';

const BUFFERS = 100_000;

/**
 * 100,000 random and mutated buffers through the parser, from a seeded PRNG so a failure reproduces. Checks: no
 * exception escapes, every packet it returns is a valid one, and every byte is accounted for
 * (bytesIn = packetBytes + junkBytes + pending). A long-lived parser sees all buffers as one stream, and a fresh
 * parser sees each buffer alone and is flushed, so both the streaming and the end-of-stream paths are covered.
 */
test(`fuzz: ${BUFFERS} random and mutated buffers`, { timeout: 60_000 }, () => {
  const rand = prng(0x5eed);
  const int = (n: number) => Math.floor(rand() * n);
  const enc = new MavlinkEncoder(1, 1);
  const corpus: Buffer[] = [];
  for (let i = 0; i < 64; i++) {
    const v2 = i % 3 === 0 ? heartbeat(enc, int(1 << 30)) : i % 3 === 1 ? localPosition(enc, int(1e6)) : statusText(enc, 'x'.repeat(1 + int(49)));
    corpus.push(i % 4 === 0 ? v1Packet(v2) : v2);
  }
  const pick = () => corpus[int(corpus.length)]!;

  const mutate = (): Buffer => {
    switch (int(7)) {
      case 0: { // random bytes of random length, with start bytes more likely than chance
        const b = Buffer.alloc(int(600));
        for (let i = 0; i < b.length; i++) b[i] = rand() < 0.05 ? (rand() < 0.5 ? 0xfd : 0xfe) : int(256);
        return b;
      }
      case 1: { // bit flips in a real packet
        const b = Buffer.from(pick());
        for (let k = 1 + int(4); k > 0; k--) b[int(b.length)] ^= 1 << int(8);
        return b;
      }
      case 2: // truncation
        return Buffer.from(pick().subarray(0, int(pick().length)));
      case 3: { // splice: head of one packet, tail of another
        const a = pick();
        const b = pick();
        return Buffer.concat([a.subarray(0, int(a.length)), b.subarray(int(b.length))]);
      }
      case 4: { // a valid packet with a lying length byte
        const b = Buffer.from(pick());
        b[1] = int(256);
        return b;
      }
      case 5: { // several packets, some corrupted, with noise between
        const parts: Buffer[] = [];
        for (let k = int(6); k >= 0; k--) {
          const p = Buffer.from(pick());
          if (rand() < 0.3) p[int(p.length)] ^= 0xff;
          parts.push(p, Buffer.from(Array.from({ length: int(5) }, () => int(256))));
        }
        return Buffer.concat(parts);
      }
      default: // a clean packet
        return Buffer.from(pick());
    }
  };

  const long = new MavlinkParser();
  let validOut = 0;
  let sizes = 0;
  for (let n = 0; n < BUFFERS; n++) {
    const buf = mutate();
    sizes += buf.length;
    const fresh = new MavlinkParser();
    const out = [...fresh.push(buf), ...fresh.flush()];
    const streamed = long.push(buf);
    for (const p of [...out, ...streamed]) {
      assert.equal(frameAt(p.bytes, 0, p.bytes.length).kind, 'packet');
      validOut++;
    }
    const fs = fresh.stats;
    assert.equal(fs.bytesIn, buf.length);
    assert.equal(fs.packetBytes + fs.junkBytes, buf.length, `buffer ${n}: ${buf.toString('hex')}`);
    assert.equal(fresh.pending, 0);
    const ls = long.stats;
    if (ls.bytesIn !== ls.packetBytes + ls.junkBytes + long.pending || long.pending >= MAX_PACKET) {
      assert.fail(`stream accounting broke at buffer ${n}: ${JSON.stringify({ ...ls, pending: long.pending })}`);
    }
  }
  long.flush();
  assert.equal(long.stats.bytesIn, sizes);
  assert.equal(long.stats.packetBytes + long.stats.junkBytes, sizes);
  // The mutations keep many packets intact: a parser that found nothing would be broken, not robust.
  assert.ok(validOut > BUFFERS / 2, `only ${validOut} valid packets`);
});
