import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock, WallClock } from '../../src/core/clock.js';

test('ManualClock fires timers in due order, each at its own time', () => {
  const clock = new ManualClock();
  const seen: [string, number][] = [];
  clock.at(300, () => seen.push(['c', clock.nowUs()]));
  clock.at(100, () => seen.push(['a', clock.nowUs()]));
  clock.at(100, () => seen.push(['b', clock.nowUs()])); // same time: creation order
  clock.advanceTo(250);
  assert.deepEqual(seen, [
    ['a', 100],
    ['b', 100],
  ]);
  assert.equal(clock.nowUs(), 250);
  clock.advanceTo(1000);
  assert.deepEqual(seen.at(-1), ['c', 300]);
});

test('ManualClock.every keeps a fixed cadence and can be cancelled', () => {
  const clock = new ManualClock('sim', 1000);
  const ticks: number[] = [];
  const timer = clock.every(20_000, (due) => ticks.push(due));
  clock.advanceTo(1000 + 100_000);
  assert.deepEqual(ticks, [21_000, 41_000, 61_000, 81_000, 101_000]);
  timer.cancel();
  clock.advanceBy(100_000);
  assert.equal(ticks.length, 5);
});

test('a timer scheduled from a timer fires in the same advance when due', () => {
  const clock = new ManualClock();
  const seen: number[] = [];
  clock.at(10, () => clock.after(5, () => seen.push(clock.nowUs())));
  clock.advanceTo(20);
  assert.deepEqual(seen, [15]);
});

test('ManualClock refuses to go backwards and reports the next due time', () => {
  const clock = new ManualClock('log', 500);
  assert.throws(() => clock.advanceTo(100), /cannot go back/);
  const t = clock.at(900, () => {});
  clock.at(700, () => {}).cancel();
  assert.equal(clock.nextDueUs(), 900);
  t.cancel();
  assert.equal(clock.nextDueUs(), null);
});

test('WallClock is monotonic and its every() ticks', async () => {
  const clock = new WallClock();
  const a = clock.nowUs();
  const ticks: number[] = [];
  await new Promise<void>((resolve) => {
    const timer = clock.every(5_000, (due) => {
      ticks.push(due);
      if (ticks.length === 3) {
        timer.cancel();
        resolve();
      }
    });
  });
  assert.ok(clock.nowUs() >= a);
  assert.ok(ticks[1]! - ticks[0]! >= 5_000 && ticks[2]! > ticks[1]!);
});
