import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTegrastatsLine, gpuTemperatureC } from '../../src/telemetry/tegrastats.js';

// Sample lines in the formats of L4T R32 (JetPack 4) and R35 (JetPack 5.1) on an AGX Xavier.
const R32 =
  'RAM 2448/31920MB (lfb 7083x4MB) SWAP 0/15960MB (cached 0MB) CPU [1%@1190,0%@1190,3%@1190,0%@1190,off,off,off,off] EMC_FREQ 0% GR3D_FREQ 12% AO@32C GPU@32.5C Tdiode@35.25C AUX@31.5C CPU@33C thermal@32.3C Tboard@32C GPU 155/155 CPU 310/310 SOC 1240/1240 CV 0/0 VDDRQ 155/155 SYS5V 1433/1433';
const R35 =
  '11-25-2023 15:29:01 RAM 3349/31002MB (lfb 5479x4MB) SWAP 0/15501MB (cached 0MB) CPU [2%@1190,1%@1190,4%@1190,0%@1190,57%@2265,12%@2265,off,off] EMC_FREQ 3%@2133 GR3D_FREQ 87%@[1377,1377] VIC_FREQ 115 APE 150 AUX@33C CPU@35C thermal@34.2C Tboard@35C AO@34C GPU@44.5C Tdiode@36.75C CV0@-256C CV1@-256C PMIC@50C VDD_GPU_SOC 2064mW/2064mW VDD_CPU_CV 412mW/390mW VIN_SYS5V0 3073mW/3073mW';

test('L4T R32 line', () => {
  const s = parseTegrastatsLine(R32)!;
  assert.equal(s.ramUsedMB, 2448);
  assert.equal(s.ramTotalMB, 31920);
  assert.deepEqual(s.cpuLoad, [0.01, 0, 0.03, 0, null, null, null, null]);
  assert.equal(s.gpuLoad, 0.12);
  assert.equal(s.emcLoad, 0);
  assert.equal(s.temperaturesC.GPU, 32.5);
  assert.equal(s.temperaturesC.Tdiode, 35.25);
  assert.equal(s.powerW.GPU, 0.155);
  assert.equal(s.powerW.SYS5V, 1.433);
  assert.equal(gpuTemperatureC(s), 32.5);
});

test('L4T R35 line: two GPC frequencies, powered-off sensors, mW rails', () => {
  const s = parseTegrastatsLine(R35)!;
  assert.equal(s.ramUsedMB, 3349);
  assert.equal(s.cpuLoad.length, 8);
  assert.equal(s.cpuLoad[4], 0.57);
  assert.equal(s.cpuLoad[7], null);
  assert.equal(s.gpuLoad, 0.87);
  assert.equal(s.emcLoad, 0.03);
  assert.equal(s.temperaturesC.GPU, 44.5);
  assert.equal(s.temperaturesC.PMIC, 50);
  assert.ok(!('CV0' in s.temperaturesC), 'a -256C sensor is off, not freezing');
  assert.equal(s.powerW.VDD_GPU_SOC, 2.064);
  assert.equal(s.powerW.VDD_CPU_CV, 0.412);
  // VIC_FREQ/APE are single numbers, not rails: they must not be misread.
  assert.ok(!('VIC_FREQ' in s.powerW));
});

test('garbage and empty lines give null, not a half-filled record', () => {
  assert.equal(parseTegrastatsLine(''), null);
  assert.equal(parseTegrastatsLine('tegrastats: permission denied'), null);
  assert.equal(parseTegrastatsLine('GR3D_FREQ'), null);
});
