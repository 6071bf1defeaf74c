import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RigSync } from '../../src/camera/rig-sync.js';
import { ManualClock } from '../../src/core/clock.js';
import type { CameraImage, FrameSet } from '../../src/core/messages.js';

const RIGS = ['front', 'left', 'right', 'back'];
const SLOTS = RIGS.flatMap((r) => [`${r}/left`, `${r}/right`]);
const PERIOD = 33_333;

interface FakeCamera {
  rig: string;
  side: 'left' | 'right';
  /** Capture phase within the frame period (µs). */
  phaseUs: number;
  /** Arrival after capture (µs). */
  latencyUs: number;
  /** Stops sending at this time. */
  dieAtUs?: number;
}

/** Eight fake cameras on a ManualClock: each captures every period at its phase and arrives latencyUs later. */
function simulate(cams: FakeCamera[], untilUs: number, params: { maxSkewUs: number; timeoutUs: number; deadAfterUs: number }) {
  const clock = new ManualClock('sim', 0);
  const sync = new RigSync({ slots: SLOTS, startUs: 0, ...params });
  const sets: FrameSet[] = [];
  const sent: CameraImage[] = [];
  for (const c of cams) {
    let seq = 0;
    const capture = (tCap: number) => {
      if (c.dieAtUs !== undefined && tCap >= c.dieAtUs) return;
      clock.at(tCap + c.latencyUs, () => {
        const img: CameraImage = { tUs: clock.nowUs(), tSampleUs: tCap, rig: c.rig, side: c.side, seq: seq++, width: 1, height: 1, format: 'GRAY8', data: new Uint8Array(1) };
        sent.push(img);
        sets.push(...sync.push(img, clock.nowUs()));
      });
      clock.at(tCap + PERIOD, () => capture(tCap + PERIOD));
    };
    clock.at(c.phaseUs, () => capture(c.phaseUs));
  }
  // The ingest's poll timer.
  clock.every(5_000, () => sets.push(...sync.poll(clock.nowUs())));
  clock.advanceTo(untilUs);
  return { sets, sent, sync };
}

function eight(mod: (c: FakeCamera, i: number) => Partial<FakeCamera> = () => ({})): FakeCamera[] {
  return SLOTS.map((s, i) => {
    const [rig, side] = s.split('/') as [string, 'left' | 'right'];
    const c: FakeCamera = { rig, side, phaseUs: 1000 + (i % 4) * 700, latencyUs: 4000 + i * 300 };
    return { ...c, ...mod(c, i) };
  });
}

const P = { maxSkewUs: 8000, timeoutUs: 25_000, deadAfterUs: 250_000 };

test('cameras within the skew give full FrameSets, one per instant, sent as soon as the last image arrives', () => {
  const { sets, sent, sync } = simulate(eight(), 1_000_000, P);
  assert.ok(sets.length >= 29 && sets.length <= 30, `${sets.length} sets in a second`);
  for (const s of sets) {
    assert.deepEqual(s.holes, []);
    assert.equal(s.images.length, 8);
    s.images.forEach((img, i) => assert.equal(`${img!.rig}/${img!.side}`, SLOTS[i]));
    assert.ok(s.skewUs <= 2100, `skew ${s.skewUs}`);
    assert.equal(s.tSampleUs, Math.min(...s.images.map((img) => img!.tSampleUs)));
    // Sent with the last image of the instant: no waiting for the timeout.
    assert.equal(s.tUs, Math.max(...s.images.map((img) => img!.tUs)));
  }
  sets.slice(1).forEach((s, i) => assert.ok(s.tSampleUs > sets[i]!.tSampleUs, 'set times increase'));
  assert.deepEqual(
    sets.map((s) => s.seq),
    sets.map((_, i) => i),
  );
  // Every image of a completed instant is in exactly one set.
  assert.equal(sets.length * 8, sent.filter((img) => img.tSampleUs <= sets.at(-1)!.tSampleUs + P.maxSkewUs).length);
  assert.equal(sync.stats(1_000_000).lateImages, 0);
});

test('a camera beyond the maximum skew is a hole, never mixed into another instant', () => {
  // front/right captures 12 ms after the others: more than the 8 ms skew.
  const { sets, sent } = simulate(eight((c, i) => (i === 1 ? { phaseUs: c.phaseUs + 12_000 } : {})), 1_000_000, P);
  const full = sets.filter((s) => s.images[0] !== null);
  assert.ok(full.length >= 29, `${full.length} sets of the seven`);
  for (const s of full) {
    assert.deepEqual(s.holes, ['front/right']);
    assert.ok(s.skewUs <= P.maxSkewUs);
  }
  const lone = sets.filter((s) => s.images[1] !== null);
  for (const s of lone) assert.equal(s.holes.length, 7);
  // Each image went out exactly once (all but the very last, still waiting).
  const used = sets.flatMap((s) => s.images.filter((x) => x !== null));
  assert.ok(sent.length - used.length <= 8, `${sent.length - used.length} images unused`);
  assert.equal(new Set(used).size, used.length);
});

test('a dead rig gives flagged holes and never stalls the FrameSets', () => {
  // The back rig dies at 0.5 s.
  const { sets } = simulate(eight((c) => (c.rig === 'back' ? { dieAtUs: 500_000 } : {})), 2_000_000, P);
  const after = sets.filter((s) => s.tSampleUs > 520_000);
  // Still about 30 sets a second after the death: 1.5 s left → ~45.
  assert.ok(after.length >= 43, `${after.length} sets after the rig died`);
  for (const s of after) {
    assert.deepEqual(s.holes, ['back/left', 'back/right']);
    assert.equal(s.images[6], null);
    assert.equal(s.images[7], null);
  }
  // While the death is not yet known the set waits at most the timeout after its first image.
  const waiting = after.filter((s) => s.dead.length === 0);
  for (const s of waiting) {
    const firstArrival = Math.min(...s.images.filter((x) => x !== null).map((x) => x!.tUs));
    assert.ok(s.tUs - firstArrival <= P.timeoutUs + 5_000, `waited ${s.tUs - firstArrival} µs`);
  }
  // Once dead, sets go out with the last live image, and say which cameras are dead.
  const known = after.filter((s) => s.dead.length > 0);
  assert.ok(known.length >= 30, `${known.length} sets with the death known`);
  for (const s of known) assert.deepEqual(s.dead, ['back/left', 'back/right']);
  // (The first of them may be the one during whose wait the death became known: it went out on the poll.)
  for (const s of known.slice(1)) {
    assert.equal(s.tUs, Math.max(...s.images.filter((x) => x !== null).map((x) => x!.tUs)));
  }
});

test('an image that arrives after its instant went out is late and dropped', () => {
  const sync = new RigSync({ slots: ['a/left', 'a/right'], startUs: 0, maxSkewUs: 1000, timeoutUs: 10_000, deadAfterUs: 1e6 });
  const img = (side: 'left' | 'right', t: number): CameraImage => ({ tUs: t, tSampleUs: t, rig: 'a', side, seq: 0, width: 1, height: 1, format: 'GRAY8', data: new Uint8Array(1) });
  assert.deepEqual(sync.push(img('left', 100_000), 100_000), []);
  const out = sync.poll(110_000);
  assert.equal(out.length, 1);
  assert.deepEqual(out[0]!.holes, ['a/right']);
  assert.deepEqual(sync.push(img('right', 100_500), 111_000), []);
  assert.equal(sync.stats(111_000).lateImages, 1);
  // An image from a rig that is not configured is counted, not crashed on.
  sync.push({ ...img('left', 120_000), rig: 'zzz' }, 120_000);
  assert.equal(sync.stats(120_000).lateImages, 2);
});

test('both halves of a side-by-side frame pushed together land in one set even when the others are dead', () => {
  const sync = new RigSync({ slots: SLOTS, startUs: 0, maxSkewUs: 1000, timeoutUs: 10_000, deadAfterUs: 100_000 });
  const img = (side: 'left' | 'right'): CameraImage => ({ tUs: 500_000, tSampleUs: 490_000, rig: 'front', side, seq: 0, width: 1, height: 1, format: 'GRAY8', data: new Uint8Array(1) });
  // Every other camera has been silent past the dead time, so the set can go out at once.
  const out = sync.pushAll([img('left'), img('right')], 500_000);
  assert.equal(out.length, 1);
  assert.notEqual(out[0]!.images[0], null);
  assert.notEqual(out[0]!.images[1], null);
  assert.equal(out[0]!.holes.length, 6);
  assert.equal(out[0]!.dead.length, 6);
  assert.equal(sync.stats(500_000).lateImages, 0);
});
