import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TopicBus } from '../../src/core/bus.js';

interface T {
  a: { n: number };
  b: { s: string };
}

test('subscribers see messages in subscription order, synchronously', () => {
  const bus = new TopicBus<T>();
  const seen: string[] = [];
  bus.subscribe('a', (m) => seen.push(`first ${m.n}`));
  bus.subscribe('a', (m) => seen.push(`second ${m.n}`));
  bus.subscribe('b', (m) => seen.push(`b ${m.s}`));
  bus.publish('a', { n: 1 });
  assert.deepEqual(seen, ['first 1', 'second 1']);
});

test('unsubscribe stops delivery, also from inside a handler', () => {
  const bus = new TopicBus<T>();
  let count = 0;
  const off = bus.subscribe('a', () => {
    count++;
    off();
  });
  bus.publish('a', { n: 1 });
  bus.publish('a', { n: 2 });
  assert.equal(count, 1);
  assert.equal(bus.subscriberCount('a'), 0);
});

test('a throwing subscriber is reported and does not stop the others', () => {
  const errors: string[] = [];
  const bus = new TopicBus<T>((topic, err) => errors.push(`${String(topic)}: ${(err as Error).message}`));
  let reached = false;
  bus.subscribe('a', () => {
    throw new Error('boom');
  });
  bus.subscribe('a', () => void (reached = true));
  bus.publish('a', { n: 1 });
  assert.equal(reached, true);
  assert.deepEqual(errors, ['a: boom']);
});

test('subscribeAll sees every topic with its name', () => {
  const bus = new TopicBus<T>();
  const seen: string[] = [];
  bus.subscribeAll((topic) => seen.push(String(topic)));
  bus.publish('a', { n: 1 });
  bus.publish('b', { s: 'x' });
  assert.deepEqual(seen, ['a', 'b']);
});
