import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { McapFileWriter } from '../../src/recording/mcap-writer.js';
import { RecorderCore } from '../../src/recording/recorder-core.js';
import { decodeMessage, iterateLog, readerReady, readLogInfo } from '../../src/recording/mcap-reader.js';
import { recordingConfig, sampleFrameSet, sampleMessages, tempDir } from './fixtures.js';

const MiB = 1024 * 1024;

/** A recorder core on a disk whose free space the test sets, fed FrameSets and telemetry at 100 Hz, ticked every 100 ms. */
async function recordWithDisk(freeAt: (i: number) => number) {
  await McapFileWriter.ready();
  let i = 0;
  const notes: string[] = [];
  const core = new RecorderCore(
    { type: 'start', basePath: join(tempDir(), 'disk'), config: recordingConfig({ minFreeBytesImages: 100 * MiB, minFreeBytes: 10 * MiB }), clockKind: 'sim', unixOffsetUs: 0, metadata: {}, track: null },
    { freeSpace: () => freeAt(i), onNote: (sev, m) => notes.push(`${sev}: ${m}`) },
  );
  core.open();
  for (i = 0; i < 300; i++) {
    const tUs = 1_000_000 + i * 10_000;
    core.record({ topic: 'fc/status', tUs, msg: sampleMessages(tUs, i)['fc/status'] });
    core.record({ topic: 'camera/frameset', tUs, msg: sampleFrameSet(tUs, i) });
    if (i % 10 === 9) core.tick();
  }
  core.close();
  return { summary: core.summary, notes };
}

test('low disk: images are dropped first, telemetry and FrameSet records kept, and the log says so; images come back with space', async () => {
  // Plenty, then below the image limit from message 100, then plenty again from 200.
  const { summary, notes } = await recordWithDisk((i) => (i >= 100 && i < 200 ? 50 * MiB : 10_000 * MiB));
  assert.equal(summary.abortedReason, null);
  assert.ok(summary.droppedImages >= 95 && summary.droppedImages <= 110, `dropped ${summary.droppedImages}`);
  assert.deepEqual(notes.map((n) => n.split(':')[0]), ['warning', 'info']);
  assert.match(notes[0]!, /dropping images, keeping telemetry/);
  await readerReady();
  const file = summary.files[0]!;
  const info = await readLogInfo(file);
  const count = (t: string) => info.channels.find((c) => c.topic === t)?.count ?? 0;
  assert.equal(count('fc/status'), 300, 'telemetry kept in full');
  assert.equal(count('camera/frameset'), 300, 'FrameSet records kept in full');
  assert.equal(count('/camera/front/left'), 300 - summary.droppedImages);
  const logLines: string[] = [];
  for (const m of iterateLog(file)) if (m.topic === 'viz/log') logLines.push((decodeMessage(m) as { message: string }).message);
  assert.ok(logLines.some((l) => /disk low .* dropping images, keeping telemetry/.test(l)), logLines.join('\n'));
  assert.ok(logLines.some((l) => /recording images again/.test(l)), logLines.join('\n'));
});

test('disk nearly full: recording stops, the log is closed cleanly and says why', async () => {
  const { summary, notes } = await recordWithDisk((i) => (i >= 150 ? 5 * MiB : 10_000 * MiB));
  assert.match(summary.abortedReason ?? '', /disk nearly full/);
  assert.ok(notes.some((n) => /recording stopped, log closed cleanly/.test(n)));
  const info = await readLogInfo(summary.files[0]!);
  assert.equal(info.ending.kind, 'clean');
  const status = info.channels.find((c) => c.topic === 'fc/status')!.count;
  assert.ok(status >= 150 && status <= 160, `${status} statuses`);
  assert.ok(summary.droppedAll > 0);
});
