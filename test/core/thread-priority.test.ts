import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';

const url = new URL('../../src/core/thread-priority.js', import.meta.url).href;
const linux = process.platform === 'linux' && spawnSync('chrt', ['--version']).status === 0;

/** Lowers a fresh worker thread and reads back, from the kernel, its nice value and scheduling policy. */
async function lowerInWorker(schedIdle: boolean | undefined, env: NodeJS.ProcessEnv = process.env): Promise<{ result: unknown; nice: number; policy: string }> {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { readFileSync, readlinkSync } = require('node:fs');
    const { execFileSync } = require('node:child_process');
    import(workerData.url).then((m) => {
      const result = workerData.schedIdle === undefined ? m.lowerThisThreadPriority() : m.lowerThisThreadPriority(19, workerData.schedIdle);
      const tid = readlinkSync('/proc/thread-self').split('/').pop();
      const nice = Number(readFileSync('/proc/thread-self/stat', 'latin1').replace(/.*\\) /s, '').split(' ')[16]);
      const policy = execFileSync('chrt', ['--pid', tid]).toString();
      parentPort.postMessage({ result, nice, policy });
    });`;
  const w = new Worker(code, { eval: true, workerData: { url, schedIdle }, env });
  try {
    return await new Promise((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
  } finally {
    await w.terminate();
  }
}

/** The environment as the daemon has it: npm test sets RACEPILOT_WORKER_SCHED=normal for the rest of the suite. */
const { RACEPILOT_WORKER_SCHED: _, ...daemonEnv } = process.env;

test('a bulk worker steps aside: nice 19 and SCHED_IDLE, the main thread untouched', { skip: !linux && 'needs Linux and util-linux chrt' }, async () => {
  const r = await lowerInWorker(undefined, daemonEnv);
  assert.deepEqual(r.result, { nice: 19, schedIdle: true });
  assert.equal(r.nice, 19);
  assert.match(r.policy, /SCHED_IDLE/);
  const main = spawnSync('chrt', ['--pid', String(process.pid)]).stdout.toString();
  assert.match(main, /SCHED_OTHER/, 'only the worker thread changed');
});

test('nice alone where SCHED_IDLE is not wanted', { skip: !linux && 'needs Linux and util-linux chrt' }, async () => {
  const r = await lowerInWorker(false, daemonEnv);
  assert.deepEqual(r.result, { nice: 19, schedIdle: false });
  assert.match(r.policy, /SCHED_OTHER/);
});

test('RACEPILOT_WORKER_SCHED=nice keeps the workers at nice 19 alone', { skip: !linux && 'needs Linux and util-linux chrt' }, async () => {
  const r = await lowerInWorker(undefined, { ...daemonEnv, RACEPILOT_WORKER_SCHED: 'nice' });
  assert.deepEqual(r.result, { nice: 19, schedIdle: false });
  assert.equal(r.nice, 19);
  assert.match(r.policy, /SCHED_OTHER/);
});

test('RACEPILOT_WORKER_SCHED=normal (npm test) leaves the workers at normal priority', { skip: !linux && 'needs Linux and util-linux chrt' }, async () => {
  const r = await lowerInWorker(undefined, { ...daemonEnv, RACEPILOT_WORKER_SCHED: 'normal' });
  assert.deepEqual(r.result, { nice: 0, schedIdle: false });
  assert.equal(r.nice, 0);
  assert.match(r.policy, /SCHED_OTHER/);
});
