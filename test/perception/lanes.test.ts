import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { perceptionSchema, type PerceptionConfig } from '../../src/core/config/perception.js';
import { createLogger } from '../../src/core/logger.js';
import { DetectorSession } from '../../src/perception/detector-session.js';
import { laneCount, openPerceptionLanes, type ClosableDetector } from '../../src/perception/perception-lanes.js';
import { splitShares } from '../../src/perception/perception-stage.js';

const MODEL = fileURLToPath(new URL('../../../models/gate-detector.onnx', import.meta.url));
const log = createLogger({ level: 'silent' });
const cfg = perceptionSchema.parse({ model: MODEL, providers: ['tensorrt', 'cuda', 'cpu'], cpu: { intraOpThreads: 1 } });

describe('perception lanes', () => {
  it('shares of a FrameSet are contiguous, cover every image once and differ in size by at most one', () => {
    assert.deepEqual(splitShares(8, 2), [[0, 4], [4, 8]]);
    assert.deepEqual(splitShares(7, 2), [[0, 3], [3, 7]]);
    assert.deepEqual(splitShares(8, 3), [[0, 2], [2, 5], [5, 8]]);
    assert.deepEqual(splitShares(1, 2), [[0, 1]]);
    assert.deepEqual(splitShares(8, 1), [[0, 8]]);
    for (let n = 1; n <= 9; n++) for (let l = 1; l <= 5; l++) {
      const s = splitShares(n, l);
      assert.equal(s[0]![0], 0);
      assert.equal(s.at(-1)![1], n);
      s.slice(1).forEach(([from], i) => assert.equal(from, s[i]![1]));
      const sizes = s.map(([a, b]) => b - a);
      assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1 && Math.min(...sizes) >= 1, `${n} over ${l}: ${sizes}`);
    }
  });

  it('"auto" gives a lane per core on the CPU, at most one per stereo rig, and one lane on a GPU', () => {
    assert.equal(laneCount('auto', 'cpu', 8, 2), 2);
    assert.equal(laneCount('auto', 'cpu', 8, 16), 4);
    assert.equal(laneCount('auto', 'cpu', 2, 8), 1);
    assert.equal(laneCount('auto', 'cpu', 8, 1), 1);
    assert.equal(laneCount('auto', 'cuda', 8, 8), 1);
    assert.equal(laneCount('auto', 'tensorrt', 8, 8), 1);
    assert.equal(laneCount(3, 'cuda', 8, 2), 3);
    assert.equal(laneCount(4, 'cpu', 2, 2), 2);
  });

  it('the first lane tries the providers in order; the others open on the provider that won', async () => {
    const opened: string[][] = [];
    const open = async (c: PerceptionConfig): Promise<ClosableDetector> => {
      opened.push([...c.providers]);
      return DetectorSession.open(c, log);
    };
    const l = await openPerceptionLanes(cfg, log, 8, { lanes: 3, open });
    try {
      assert.equal(l.lanes.length, 3);
      assert.deepEqual(opened, [['tensorrt', 'cuda', 'cpu'], ['cpu'], ['cpu']]);
      assert.equal(l.detector, l.lanes[0]!.detector);
      assert.deepEqual(l.lanes.map((x) => x.pre.maxBatch), [3, 3, 3]);
      assert.equal(new Set(l.lanes.map((x) => x.detector)).size, 3, 'a session per lane');
    } finally {
      await l.close();
    }
  });

  it('a lane that cannot open closes the ones that did and fails with its error', async () => {
    const closed: number[] = [];
    let n = 0;
    const open = async (c: PerceptionConfig): Promise<ClosableDetector> => {
      const k = n++;
      if (k === 2) throw new Error('lane 2: out of memory');
      const s = await DetectorSession.open(c, log);
      return Object.assign(Object.create(s) as ClosableDetector, { close: async () => { closed.push(k); await s.close(); } });
    };
    await assert.rejects(openPerceptionLanes(cfg, log, 8, { lanes: 4, open }), /lane 2: out of memory/);
    assert.deepEqual(closed.sort(), [0, 1, 3]);
  });
});
