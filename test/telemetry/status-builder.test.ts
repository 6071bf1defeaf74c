import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StatusBuilder } from '../../src/telemetry/status-builder.js';

const T = { clients: 0, framesDropped: 0, clientsCut: 0 };

test('race phase and next gate from race/event; its events stream', () => {
  const b = new StatusBuilder();
  const ev = b.observe('race/event', { tUs: 10, kind: 'phase', message: 'racing: start given' });
  assert.equal(ev?.message, 'racing: start given');
  assert.equal(ev?.topic, 'race/event');
  b.observe('race/event', { tUs: 20, kind: 'gate_passed', message: 'gate 0 passed', gateIndex: 0 });
  b.observe('race/event', { tUs: 30, kind: 'gate_passed', message: 'gate 1 passed', gateIndex: 1 });
  const s = b.snapshot(40, T);
  assert.deepEqual(s.race, { state: 'racing', gateIndex: 2, gateCount: null });
});

test('detections per second over the last second, and the detector stage timings', () => {
  const b = new StatusBuilder();
  for (let i = 0; i < 60; i++) {
    b.observe('perception/gates', {
      tUs: 1_000_000 + i * 33_333,
      tSampleUs: 1_000_000 + i * 33_333 - 40_000,
      gates: [],
      timings: { queueMs: 1, preprocessMs: 2, inferenceMs: 25, decodeMs: 1, geometryMs: 0.5, endToEndMs: 40 },
    });
  }
  const s = b.snapshot(1_000_000 + 59 * 33_333, T);
  assert.equal(s.detectionsPerS, 31); // 30 Hz: the messages within the last second, both ends included
  assert.equal(s.latencyMs['perception.inference'], 25);
  assert.equal(s.latencyMs['perception.endToEnd'], 40);
  assert.equal(s.latencyMs['perception/gates'], 40);
  // A minute later with nothing new: 0 per second, not the old figure.
  assert.equal(b.snapshot(61_000_000, T).detectionsPerS, 0);
});

test('odd input never throws and never invents values', () => {
  const b = new StatusBuilder();
  assert.equal(b.observe('fc/status', null), null);
  assert.equal(b.observe('fc/status', 'x'), null);
  b.observe('fc/vehicle_state', { tUs: 1, v_ned_mps: [1, 'a', 2], p_ned_m: [0, 0] });
  b.observe('fc/event', { tUs: 1, severity: 'panic', message: 'm'.repeat(5000) });
  const s = b.snapshot(2, T);
  assert.equal(s.speedMps, null);
  assert.equal(s.altitudeM, null);
  assert.equal(s.detectionsPerS, null);
  assert.equal(s.fc.mode, null);
  const ev = b.observe('fc/event', { tUs: 1, severity: 'panic', message: 'm'.repeat(5000) });
  assert.equal(ev?.severity, 'info');
  assert.equal(ev?.message.length, 1000, 'event text is bounded');
});
