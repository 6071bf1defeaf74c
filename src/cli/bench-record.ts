import { mkdtempSync, rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TopicBus } from '../core/bus.js';
import { ManualClock } from '../core/clock.js';
import { configWith } from '../core/config/load.js';
import { UsageError } from '../core/errors.js';
import type { Topics } from '../core/messages.js';
import { startRecording } from '../recording/recorder.js';

export interface RecordBenchResult {
  simulatedS: number;
  messages: number;
  bytesOnDisk: number;
  /** CPU on the event loop for publishing into the recorder (ms per simulated second). */
  mainThreadMsPerS: number;
  /** CPU of the whole process, worker included (ms per simulated second); 1000 = one core busy. */
  processCpuMsPerS: number;
  wallS: number;
}

/**
 * What recording costs at the flight layer's full rate: per simulated second 50 vehicle states, 50 setpoints,
 * 300 received and 60 sent MAVLink packets, 1 status and link-stats message. Messages are published as fast as the
 * recorder takes them (a ManualClock stands in for time), so CPU per simulated second is the recorder's cost at
 * that rate. The lead wires it as `racepilot bench record`. Camera frames are not in it yet (no FrameSet producer).
 */
export async function benchRecord(seconds = 20): Promise<RecordBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'racepilot-bench-'));
  const bus = new TopicBus<Topics>();
  const clock = new ManualClock('sim', 0);
  const rec = startRecording(bus, clock, { ...configWith({}).recording, minFreeBytes: 0, minFreeBytesImages: 0 }, { basePath: join(dir, 'b') });
  const pkt = new Uint8Array(40).map((_, i) => i);
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  let mainUs = 0;
  for (let ms = 0; ms < seconds * 1000; ms++) {
    clock.advanceTo(ms * 1000);
    const tUs = clock.nowUs();
    const t0 = performance.now();
    if (ms % 20 === 0) {
      bus.publish('fc/vehicle_state', { tUs, tSampleUs: tUs - 3000, p_ned_m: [ms / 1000, 1, -2], v_ned_mps: [1, 0, 0], q_ned_body: [1, 0, 0, 0], w_body_radps: [0, 0, 0.1], source: 'odometry' });
      bus.publish('fc/setpoint', { tUs, p_ned_m: [ms / 1000, 1, -2], v_ned_mps: [1, 0, 0], a_ned_mps2: [0, 0, 0], yaw_rad: 0, source: 'trajectory' });
      bus.publish('mavlink/bytes', { tUs, direction: 'tx', bytes: pkt });
    }
    if (ms % 3 === 0) bus.publish('mavlink/bytes', { tUs, direction: 'rx', bytes: pkt });
    if (ms % 1000 === 0) {
      bus.publish('fc/link_stats', { tUs, bytesIn: ms, bytesOut: ms, packetsIn: ms, packetsOut: ms, badCrc: 0, unknownIds: 0, junkBytes: 0, reconnects: 0 });
      bus.publish('fc/status', { tUs, linkUp: true, lastHeartbeatUs: tUs, autopilot: 'px4', vehicleType: 'QUADROTOR', systemId: 1, mode: 'OFFBOARD', externalControl: true, armed: true, batteryV: 15, batteryRemaining: 0.7 });
    }
    mainUs += (performance.now() - t0) * 1000;
    // Let the batch go out once per simulated 10 ms, as the live event loop would.
    if (ms % 10 === 9) await new Promise((r) => setImmediate(r));
  }
  const summary = await rec.stop();
  const cpu = process.cpuUsage(cpu0);
  const wallS = (performance.now() - wall0) / 1000;
  rmSync(dir, { recursive: true, force: true });
  return {
    simulatedS: seconds,
    messages: summary.messages,
    bytesOnDisk: summary.bytes,
    mainThreadMsPerS: mainUs / 1000 / seconds,
    processCpuMsPerS: (cpu.user + cpu.system) / 1000 / seconds,
    wallS,
  };
}

/** `racepilot bench record [--seconds N] [--json]`. */
export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { seconds: { type: 'string', default: '20' }, json: { type: 'boolean', default: false }, help: { type: 'boolean', default: false } } });
  if (values.help) {
    process.stdout.write('usage: racepilot bench record [--seconds N] [--json]\n\nCPU cost of recording the flight layer\'s topics at full rate to MCAP.\n');
    return 0;
  }
  const seconds = Number(values.seconds);
  if (!(seconds > 0 && seconds <= 600)) throw new UsageError(`--seconds must be a number of seconds between 0 and 600, got "${values.seconds}"`);
  const r = await benchRecord(seconds);
  if (values.json) {
    process.stdout.write(`${JSON.stringify(r)}\n`);
  } else {
    process.stdout.write(
      `recorded ${r.messages} messages over ${r.simulatedS} simulated s (${(r.bytesOnDisk / 1024).toFixed(0)} KiB on disk) in ${r.wallS.toFixed(1)} s\n` +
        `event loop: ${r.mainThreadMsPerS.toFixed(2)} ms per simulated s; whole process: ${r.processCpuMsPerS.toFixed(1)} ms per s (${(r.processCpuMsPerS / 10).toFixed(1)}% of one core)\n`,
    );
  }
  return 0;
}
