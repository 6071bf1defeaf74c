import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync, truncateSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TopicBus } from '../../src/core/bus.js';
import { ManualClock } from '../../src/core/clock.js';
import { InputError } from '../../src/core/errors.js';
import type { Topics } from '../../src/core/messages.js';
import { startRecording } from '../../src/recording/recorder.js';
import { checkReplayable, readLogInfo, iterateLog, readerReady, decodeMessage } from '../../src/recording/mcap-reader.js';
import { formatLogInfo } from '../../src/cli/log-info.js';
import { recordingConfig, sampleMessages, tempDir } from './fixtures.js';

async function smallLog(n = 400): Promise<string> {
  const bus = new TopicBus<Topics>();
  const clock = new ManualClock('sim', 0);
  // Small chunks so the file has many: truncation then loses only the tail.
  const rec = startRecording(bus, clock, recordingConfig({ chunkBytes: 8192 }), { basePath: join(tempDir(), 'd') });
  for (let i = 0; i < n; i++) {
    clock.advanceBy(10_000);
    const m = sampleMessages(clock.nowUs(), i);
    bus.publish('fc/status', m['fc/status']);
    bus.publish('fc/vehicle_state', m['fc/vehicle_state']);
  }
  return (await rec.stop()).files[0]!;
}

test('a truncated log is read up to its last complete chunk and says it was truncated', async () => {
  const file = await smallLog();
  const full = await readLogInfo(file);
  const cut = join(tempDir(), 'cut.mcap');
  copyFileSync(file, cut);
  truncateSync(cut, Math.floor(statSync(file).size * 0.6));
  const info = await readLogInfo(cut);
  assert.equal(info.ending.kind, 'truncated');
  assert.ok(info.messages > 0 && info.messages < full.messages, `${info.messages} of ${full.messages}`);
  assert.ok(info.intactBytes > 0 && info.intactBytes <= info.fileBytes);
  assert.match(formatLogInfo(info), /truncated after byte \d+/);
  // The readable part is usable: messages decode and are in order.
  await readerReady();
  let last = -1;
  for (const m of iterateLog(cut)) {
    if (!m.topic.startsWith('fc/')) continue;
    const msg = decodeMessage(m) as { tUs: number };
    assert.ok(msg.tUs >= last);
    last = msg.tUs;
  }
  checkReplayable(info); // a truncated racepilot log can still be replayed
});

test('a corrupt log stops at the damage with its offset, and what came before stays readable', async () => {
  const file = await smallLog();
  const bytes = readFileSync(file);
  const at = Math.floor(bytes.length / 2);
  for (let i = 0; i < 64; i++) bytes[at + i] = bytes[at + i]! ^ 0x5a;
  const bad = join(tempDir(), 'bad.mcap');
  writeFileSync(bad, bytes);
  const info = await readLogInfo(bad);
  assert.equal(info.ending.kind, 'corrupt', JSON.stringify(info.ending));
  if (info.ending.kind === 'corrupt') assert.ok(info.ending.atOffset <= at + 64 && info.ending.atOffset > 0, `${info.ending.atOffset} vs ${at}`);
  assert.ok(info.messages > 0);
  assert.match(formatLogInfo(info), /corrupt at byte \d+: /);
});

test('a foreign file and a log from a newer version get clear messages', async () => {
  const png = join(tempDir(), 'x.mcap');
  writeFileSync(png, Buffer.from('\x89PNG\r\n\x1a\n0000000000', 'latin1'));
  await assert.rejects(readLogInfo(png), (e: unknown) => e instanceof InputError && /not an MCAP log/.test(e.message) && e.message.includes(png));
  const empty = join(tempDir(), 'empty.mcap');
  writeFileSync(empty, '');
  await assert.rejects(readLogInfo(empty), /the file is empty/);
  await assert.rejects(readLogInfo(join(tempDir(), 'missing.mcap')), /file not found/);

  const file = await smallLog(10);
  const info = await readLogInfo(file);
  assert.doesNotThrow(() => checkReplayable(info));
  assert.throws(() => checkReplayable({ ...info, logVersion: 99, meta: { ...info.meta, logVersion: '99' } }), /log format version 99 is newer/);
  assert.throws(() => checkReplayable({ ...info, ours: false, header: { profile: 'ros2', library: 'rosbag2' } }), /not a racepilot log \(MCAP profile "ros2"/);
});

const recorderJs = fileURLToPath(new URL('../../src/recording/recorder.js', import.meta.url));
const coreDir = fileURLToPath(new URL('../../src/core/', import.meta.url));

test('kill -9 of a recording process leaves a log readable up to about the last second', async () => {
  const base = join(tempDir(), 'killed');
  const script = `
    import { writeSync } from 'node:fs';
    const { startRecording } = await import(${JSON.stringify(recorderJs)});
    const { TopicBus } = await import(${JSON.stringify(join(coreDir, 'bus.js'))});
    const { WallClock } = await import(${JSON.stringify(join(coreDir, 'clock.js'))});
    const bus = new TopicBus();
    const clock = new WallClock();
    startRecording(bus, clock, ${JSON.stringify(recordingConfig({ flushIntervalMs: 200 }))}, { basePath: ${JSON.stringify(base)} });
    let i = 0;
    setInterval(() => {
      bus.publish('fc/link_stats', { tUs: clock.nowUs(), bytesIn: i, bytesOut: 0, packetsIn: i, packetsOut: 0, badCrc: 0, unknownIds: 0, junkBytes: 0, reconnects: 0 });
      writeSync(1, i + '\\n');
      i++;
    }, 10);
  `;
  // Without the test runner's context variable: the child is a plain program, not a test file.
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  await new Promise<void>((resolve) => {
    const check = setInterval(() => {
      // Two seconds of recording, then the plug is pulled.
      if (out.split('\n').length > 150) {
        clearInterval(check);
        child.kill('SIGKILL');
        resolve();
      }
    }, 20);
  });
  await new Promise((r) => child.once('exit', r));
  const lastPublished = Math.max(...out.trim().split('\n').map(Number));
  assert.equal(err, "", "the recording child wrote to stderr");
  assert.ok(existsSync(`${base}-000.mcap`), `no log; dir has: ${readdirSync(dirname(base)).join(", ")}; child said: ${out.slice(0, 200)}`);
  const info = await readLogInfo(`${base}-000.mcap`);
  assert.equal(info.ending.kind, 'truncated');
  await readerReady();
  let lastRecorded = -1;
  for (const m of iterateLog(`${base}-000.mcap`)) if (m.topic === 'fc/link_stats') lastRecorded = (decodeMessage(m) as { bytesIn: number }).bytesIn;
  // 10 ms per message: at most ~1 s (100 messages) lost, with slack for a loaded machine.
  assert.ok(lastRecorded >= 0, 'nothing recovered');
  assert.ok(lastPublished - lastRecorded <= 130, `published ${lastPublished}, recovered up to ${lastRecorded}`);
});
