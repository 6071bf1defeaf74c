import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as foxglove from '@foxglove/schemas/jsonschema.js';
import { TopicBus } from '../../src/core/bus.js';
import { ManualClock } from '../../src/core/clock.js';
import type { Topics } from '../../src/core/messages.js';
import { startRecording } from '../../src/recording/recorder.js';
import { decodeMessage, iterateLog, openIndexedLog, readerReady, readLogInfo } from '../../src/recording/mcap-reader.js';
import { unsupportedKeywords, validate } from '../../src/recording/json-schema-check.js';
import type { JsonSchema } from '../../src/recording/schemas.js';
import type { RecordingConfig } from '../../src/core/config/recording.js';
import { decodePng } from '../../src/recording/image-codec.js';
import { openIndexed, recordingConfig, sampleFrameSet, sampleGateMap, sampleMessages, sampleTrack, sampleTrajectory, tempDir } from './fixtures.js';

async function recordSample(n: number, over: Partial<RecordingConfig> = {}, extra = false): Promise<string[]> {
  const bus = new TopicBus<Topics>();
  const clock = new ManualClock('sim', 1_000_000);
  const rec = startRecording(bus, clock, recordingConfig(over), { basePath: join(tempDir(), 'log'), track: extra ? sampleTrack : null });
  for (let i = 0; i < n; i++) {
    clock.advanceBy(10_000);
    const msgs = sampleMessages(clock.nowUs(), i);
    for (const [topic, msg] of Object.entries(msgs)) bus.publish(topic as keyof Topics, msg as never);
    if (extra) {
      bus.publish('camera/frameset', sampleFrameSet(clock.nowUs(), i));
      if (i % 10 === 0) bus.publish('estimation/gate_map', sampleGateMap(clock.nowUs()));
      if (i % 25 === 0) bus.publish('planning/trajectory', sampleTrajectory(clock.nowUs()));
      if (i % 20 === 0) bus.publish('race/event', { tUs: clock.nowUs(), kind: 'gate_passed', message: `gate ${i}`, gateIndex: 0 });
    }
  }
  const summary = await rec.stop();
  assert.equal(summary.abortedReason, null);
  return summary.files;
}

for (const format of ['png', 'jpeg', 'raw'] as const) test(`a recorded log (${format} images) opens with @mcap/core indexed reader, every channel schema is valid and every message validates`, async () => {
  const [file] = await recordSample(50, { images: { format, jpegQuality: 80, pngLevel: 1, everyNth: 1 } }, true);
  const reader = await openIndexed(file!);
  assert.equal(reader.header.profile, 'racepilot');
  const topics = [...reader.channelsById.values()].map((c) => c.topic).sort();
  assert.deepEqual(topics, [
    '/camera/front/left', '/camera/front/right', '/camera/left/left', '/camera/left/right', '/scene', '/tf',
    'camera/frameset', 'estimation/gate_map', 'fc/event', 'fc/link_stats', 'fc/setpoint', 'fc/status', 'fc/vehicle_state',
    'mavlink/bytes', 'planning/trajectory', 'race/event', 'viz/log', 'viz/vehicle_pose',
  ]);
  const imageSchema = format === 'raw' ? 'foxglove.RawImage' : 'foxglove.CompressedImage';
  for (const ch of reader.channelsById.values()) {
    if (ch.topic.startsWith('/camera/')) assert.equal(reader.schemasById.get(ch.schemaId)!.name, imageSchema, ch.topic);
  }
  assert.equal(reader.schemasById.get([...reader.channelsById.values()].find((c) => c.topic === '/scene')!.schemaId)!.name, 'foxglove.SceneUpdate');
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
  const counts: Record<string, number> = {};
  for await (const m of reader.readMessages()) {
    const topic = reader.channelsById.get(m.channelId)!.topic;
    const value = JSON.parse(new TextDecoder().decode(m.data)) as Record<string, unknown>;
    assert.deepEqual(validate(schemas.get(m.channelId)!, value), [], `message ${m.sequence} on ${topic}`);
    counts[topic] = (counts[topic] ?? 0) + 1;
    // No pixels in our own FrameSet record: they are on the camera channels only.
    if (topic === 'camera/frameset') assert.ok(!JSON.stringify(value).includes('"data"'), 'pixels in camera/frameset');
    if (topic.startsWith('/camera/')) {
      assert.equal(value.frame_id, topic.slice('/camera/'.length));
      const bytes = Buffer.from(value.data as string, 'base64');
      if (format === 'png') assert.deepEqual(decodePng(bytes, topic).data, sampleFrameSet(0, m.sequence).images.find((i) => i && `/camera/${i.rig}/${i.side}` === topic)!.data);
      if (format === 'jpeg') assert.deepEqual([...bytes.subarray(0, 2)], [0xff, 0xd8]);
    }
  }
  for (const t of ['fc/status', 'camera/frameset', '/camera/front/left', 'viz/vehicle_pose']) assert.equal(counts[t], 50, t);
  assert.equal(counts['/tf'], 50 + 1, 'a vehicle pose per state, and world → ned once');
  // 5 gate maps, 2 trajectories and the track's gates at the start.
  assert.equal(counts['/scene'], 5 + 2 + 1);
  assert.equal(counts['viz/log'], 50 + 3, 'flight events and race events in the Log panel');
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

test('camera images sit in chunks of their own, and a replay reads a clean log through its index without them', async () => {
  const [file] = await recordSample(60, { images: { format: 'raw', jpegQuality: 80, pngLevel: 1, everyNth: 1 } }, true);
  const reader = await openIndexed(file!);
  const isImage = (id: number) => reader.channelsById.get(id)!.topic.startsWith('/camera/');
  let imageChunks = 0;
  for (const ci of reader.chunkIndexes) {
    const ids = [...ci.messageIndexOffsets.keys()];
    assert.ok(ids.every(isImage) || !ids.some(isImage), `a chunk mixes images and other topics: ${ids.map((i) => reader.channelsById.get(i)!.topic)}`);
    if (ids.every(isImage)) imageChunks++;
  }
  assert.ok(imageChunks >= 60, `one image chunk per FrameSet expected, ${imageChunks}`);
  // The summary says what the full pass says.
  const full = await readLogInfo(file!);
  const indexed = (await openIndexedLog(file!))!;
  try {
    assert.equal(indexed.info.messages, full.messages);
    assert.equal(indexed.info.startNs, full.startNs);
    assert.equal(indexed.info.endNs, full.endNs);
    assert.deepEqual(indexed.info.meta, full.meta);
    assert.deepEqual(
      indexed.info.channels.map((c) => [c.topic, c.count, c.schemaName]).sort(),
      full.channels.map((c) => [c.topic, c.count, c.schemaName]).sort(),
    );
    // Messages of the topics asked for, in the order the file holds them.
    const want = [...iterateLog(file!)].filter((m) => m.topic === 'fc/setpoint' || m.topic === 'mavlink/bytes').map((m) => `${m.topic}:${m.sequence}`);
    const got: string[] = [];
    for await (const m of indexed.messages(['fc/setpoint', 'mavlink/bytes'])) got.push(`${m.topic}:${m.sequence}`);
    assert.deepEqual(got, want);
  } finally {
    await indexed.close();
  }
  // A log cut short has no summary: the replay then reads it front to back.
  const cut = join(tempDir(), 'cut.mcap');
  const bytes = readFileSync(file!);
  writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
  assert.equal(await openIndexedLog(cut), null);
});
