import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as foxglove from '@foxglove/schemas/jsonschema.js';
import { TopicBus } from '../../src/core/bus.js';
import { ManualClock } from '../../src/core/clock.js';
import type { Topics } from '../../src/core/messages.js';
import { startRecording } from '../../src/recording/recorder.js';
import { decodeMessage, iterateLog, readerReady, readLogInfo } from '../../src/recording/mcap-reader.js';
import { unsupportedKeywords, validate } from '../../src/recording/json-schema-check.js';
import type { JsonSchema } from '../../src/recording/schemas.js';
import { openIndexed, recordingConfig, sampleMessages, tempDir } from './fixtures.js';

async function recordSample(n: number, over = {}): Promise<string[]> {
  const bus = new TopicBus<Topics>();
  const clock = new ManualClock('sim', 1_000_000);
  const rec = startRecording(bus, clock, recordingConfig(over), { basePath: join(tempDir(), 'log') });
  for (let i = 0; i < n; i++) {
    clock.advanceBy(10_000);
    const msgs = sampleMessages(clock.nowUs(), i);
    for (const [topic, msg] of Object.entries(msgs)) bus.publish(topic as keyof Topics, msg as never);
  }
  const summary = await rec.stop();
  assert.equal(summary.abortedReason, null);
  return summary.files;
}

test('a recorded log opens with @mcap/core indexed reader, every channel schema is valid and every message validates', async () => {
  const [file] = await recordSample(50);
  const reader = await openIndexed(file!);
  assert.equal(reader.header.profile, 'racepilot');
  const topics = [...reader.channelsById.values()].map((c) => c.topic).sort();
  assert.deepEqual(topics, ['fc/event', 'fc/link_stats', 'fc/setpoint', 'fc/status', 'fc/vehicle_state', 'mavlink/bytes', 'viz/log', 'viz/vehicle_pose']);
  const published = foxglove as unknown as Record<string, JsonSchema>;
  const schemas = new Map<number, JsonSchema>();
  for (const ch of reader.channelsById.values()) {
    const s = reader.schemasById.get(ch.schemaId)!;
    assert.equal(s.encoding, 'jsonschema', ch.topic);
    assert.equal(ch.messageEncoding, 'json', ch.topic);
    const schema = JSON.parse(new TextDecoder().decode(s.data)) as JsonSchema;
    if (s.name.startsWith('foxglove.')) {
      // A channel claiming a Foxglove schema carries exactly the published one.
      assert.deepEqual(schema, published[s.name.slice('foxglove.'.length)], `${ch.topic} claims ${s.name}`);
    }
    assert.deepEqual([...unsupportedKeywords(schema)], [], `${ch.topic}: schema uses keywords the validator does not check`);
    schemas.set(ch.id, schema);
  }
  let count = 0;
  for await (const m of reader.readMessages()) {
    const value = JSON.parse(new TextDecoder().decode(m.data)) as unknown;
    assert.deepEqual(validate(schemas.get(m.channelId)!, value), [], `message ${m.sequence} on ${reader.channelsById.get(m.channelId)!.topic}`);
    count++;
  }
  assert.equal(count, 50 * 8);
});

test('the validator catches a message that does not fit its schema', () => {
  const schema = (foxglove as unknown as Record<string, JsonSchema>).PoseInFrame!;
  const bad = { timestamp: { sec: 1, nsec: 2e9 }, frame_id: 'ned', pose: { position: { x: 0, y: 0 }, orientation: { x: 0, y: 0, z: 0, w: 1 } } };
  const errors = validate(schema, bad);
  assert.ok(errors.some((e) => e.includes('$.timestamp.nsec')), errors.join('; '));
  assert.ok(errors.some((e) => e.includes('$.pose.position.z: required')), errors.join('; '));
});

test('messages read back through our reader equal what was published, bytes included', async () => {
  const [file] = await recordSample(20);
  await readerReady();
  const it = iterateLog(file!);
  const got: Record<string, unknown[]> = {};
  let r = it.next();
  while (!r.done) {
    (got[r.value.topic] ??= []).push(decodeMessage(r.value));
    r = it.next();
  }
  const info = r.value;
  assert.equal(info.ending.kind, 'clean');
  assert.equal(info.intactBytes, info.fileBytes);
  assert.equal(info.ours, true);
  assert.equal(info.logVersion, 1);
  for (let i = 0; i < 20; i++) {
    const expected = sampleMessages(1_000_000 + (i + 1) * 10_000, i);
    for (const [topic, msg] of Object.entries(expected)) assert.deepEqual(got[topic]![i], msg, `${topic} #${i}`);
  }
});

test('files rotate at the configured size and each part is a complete log', async () => {
  const files = await recordSample(3000, { rotateBytes: 1024 * 1024, chunkBytes: 64 * 1024, compression: 'none' });
  assert.ok(files.length >= 2, `expected rotation, got ${files.length} file(s)`);
  let total = 0;
  for (const f of files) {
    const info = await readLogInfo(f);
    assert.equal(info.ending.kind, 'clean', f);
    total += info.channels.filter((c) => c.topic === 'fc/status').reduce((a, c) => a + c.count, 0);
  }
  assert.equal(total, 3000);
});
