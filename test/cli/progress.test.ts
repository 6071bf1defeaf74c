import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { Progress } from '../../src/cli/progress.js';

function sink(): { stream: Writable; text: () => string } {
  let out = '';
  const stream = new Writable({
    write(chunk, _enc, cb) {
      out += String(chunk);
      cb();
    },
  });
  return { stream, text: () => out };
}

test('progress: plain lines every tenth when not a terminal, the last one always', () => {
  const s = sink();
  let now = 0;
  const p = new Progress(100, 'job', { stream: s.stream, tty: false, minIntervalMs: 0, now: () => now });
  for (let i = 0; i < 100; i++) {
    now += 10;
    p.tick();
  }
  const lines = s.text().trimEnd().split('\n');
  assert.ok(lines.length >= 10 && lines.length <= 11, `${lines.length} lines`);
  assert.ok(!s.text().includes('\r'));
  assert.match(lines.at(-1)!, /^job: 100\/100 100% 100\.0\/s 1\.0s$/);
});

test('progress: a redrawn bar on a terminal, throttled, ending with a newline', () => {
  const s = sink();
  let now = 0;
  const p = new Progress(50, 'job', { stream: s.stream, tty: true, minIntervalMs: 100, now: () => now });
  for (let i = 0; i < 50; i++) {
    now += 10;
    p.tick();
  }
  const draws = s.text().split('\r').length - 1;
  assert.ok(draws >= 4 && draws <= 7, `${draws} redraws`);
  assert.ok(s.text().endsWith('\n'));
  assert.match(s.text(), /job \[#+\] 50\/50 100%/);
});
