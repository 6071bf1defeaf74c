import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TopicBus } from '../core/bus.js';
import { ManualClock } from '../core/clock.js';
import { configWith } from '../core/config/load.js';
import { UsageError } from '../core/errors.js';
import type { CameraImage, FrameSet, Topics } from '../core/messages.js';
import type { RecordingConfig } from '../core/config/recording.js';
import { startRecording } from '../recording/recorder.js';
import { parseCommandArgs } from './args.js';

export interface ImageBenchOptions {
  width: number;
  height: number;
  format: RecordingConfig['images']['format'];
  jpegQuality: number;
  /** FrameSets per second (each of 8 images: four stereo rigs). */
  hz: number;
  /** The cameras' pixel format (the rigs default to RGB: the detector takes colour). */
  pixels: 'GRAY8' | 'RGB';
  /** Record every n-th FrameSet's images (recording.images.everyNth). */
  everyNth: number;
}

export interface RecordBenchResult {
  simulatedS: number;
  images: (ImageBenchOptions & { recorded: number; dropped: number }) | null;
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
 * that rate; with images, FrameSets of four stereo rigs are published in real time.
 */
/** `keepAs`: keep the log as `${keepAs}-000.mcap` (e.g. to time `racepilot replay --speed max` on it) instead of deleting it. */
export async function benchRecord(seconds = 20, images: ImageBenchOptions | null = null, keepAs: string | null = null): Promise<RecordBenchResult & { files: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'racepilot-bench-'));
  const bus = new TopicBus<Topics>();
  const clock = new ManualClock('sim', 0);
  const base = configWith({}).recording;
  const config: RecordingConfig = {
    ...base, minFreeBytes: 0, minFreeBytesImages: 0,
    images: { ...base.images, format: images?.format ?? 'none', jpegQuality: images?.jpegQuality ?? base.images.jpegQuality, everyNth: images?.everyNth ?? 1 },
  };
  // The daemon's own image ring (64 MiB); images it had to drop are counted.
  const rec = startRecording(bus, clock, config, { basePath: keepAs ?? join(dir, 'b'), metadata: { mode: 'bench-record' } });
  const frames = images ? syntheticFrames(images.width, images.height, 4, images.pixels) : [];
  const framePeriodMs = images ? 1000 / images.hz : Infinity;
  let nextFrameMs = 0;
  let frameSeq = 0;
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
    if (images && ms >= nextFrameMs) {
      nextFrameMs += framePeriodMs;
      bus.publish('camera/frameset', frameSet(frames[frameSeq % frames.length]!, tUs, frameSeq++));
    }
    if (ms % 1000 === 0) {
      bus.publish('fc/link_stats', { tUs, bytesIn: ms, bytesOut: ms, packetsIn: ms, packetsOut: ms, badCrc: 0, unknownIds: 0, junkBytes: 0, reconnects: 0 });
      bus.publish('fc/status', { tUs, linkUp: true, lastHeartbeatUs: tUs, autopilot: 'px4', vehicleType: 'QUADROTOR', systemId: 1, mode: 'OFFBOARD', externalControl: true, armed: true, batteryV: 15, batteryRemaining: 0.7 });
    }
    mainUs += (performance.now() - t0) * 1000;
    // Let the batch go out once per simulated 10 ms, as the live event loop would; with images, in real time, as
    // cameras deliver them (faster, the worker would fall behind by design and drop images, which is counted).
    if (ms % 10 === 9) {
      const aheadMs = images ? ms - (performance.now() - wall0) : 0;
      await new Promise((r) => (aheadMs > 1 ? setTimeout(r, aheadMs) : setImmediate(r)));
    }
  }

  const summary = await rec.stop();
  if (summary.abortedReason) process.stderr.write(`bench record: recording stopped early: ${summary.abortedReason}\n`);
  const cpu = process.cpuUsage(cpu0);
  const wallS = (performance.now() - wall0) / 1000;
  rmSync(dir, { recursive: true, force: true });
  return {
    files: keepAs ? summary.files : [],
    simulatedS: seconds,
    images: images ? { ...images, recorded: Math.ceil(frameSeq / images.everyNth) - summary.droppedImages, dropped: summary.droppedImages } : null,
    messages: summary.messages,
    bytesOnDisk: summary.bytes,
    mainThreadMsPerS: mainUs / 1000 / seconds,
    processCpuMsPerS: (cpu.user + cpu.system) / 1000 / seconds,
    wallS,
  };
}

/**
 * Eight images like a camera's: a smooth gradient (walls, floor), a few hard-edged bright frames (gates) and
 * ±4 levels of sensor noise, which is what decides how well they compress; RGB ones tinted per channel.
 * Deterministic (own PRNG).
 */
function syntheticFrames(width: number, height: number, count: number, pixels: 'GRAY8' | 'RGB'): CameraImage[][] {
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  return Array.from({ length: count }, () =>
    Array.from({ length: 8 }, (_, k) => {
      const data = new Uint8Array(width * height);
      const gx = Math.floor(rnd() * width * 0.6);
      const gy = Math.floor(rnd() * height * 0.4);
      const gs = Math.floor(height * (0.2 + rnd() * 0.3));
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const inGate = x >= gx && x < gx + gs && y >= gy && y < gy + gs && (x < gx + gs / 8 || x >= gx + (gs * 7) / 8 || y < gy + gs / 8 || y >= gy + (gs * 7) / 8);
          const v = inGate ? 220 : 40 + (120 * y) / height + (30 * x) / width;
          data[y * width + x] = Math.max(0, Math.min(255, Math.round(v + (rnd() - 0.5) * 8)));
        }
      }
      const base = { tUs: 0, tSampleUs: 0, rig: ['front', 'left', 'right', 'rear'][k >> 1]!, side: k % 2 ? 'right' : 'left', seq: 0, width, height } as const;
      if (pixels === 'GRAY8') return { ...base, format: 'GRAY8', data };
      const rgb = new Uint8Array(width * height * 3);
      for (let p = 0; p < data.length; p++) {
        const v = data[p]!;
        rgb[3 * p] = v;
        rgb[3 * p + 1] = (v * 7) >> 3;
        rgb[3 * p + 2] = Math.min(255, v + ((p * 5) & 7));
      }
      return { ...base, format: 'RGB', data: rgb };
    }),
  );
}

function frameSet(images: CameraImage[], tUs: number, seq: number): FrameSet {
  return { tUs, tSampleUs: tUs - 5000, seq, images: images.map((img) => ({ ...img, tUs, tSampleUs: tUs - 5000, seq })), holes: [], dead: [], skewUs: 0 };
}

const USAGE = `usage: racepilot bench record [--seconds N] [--images] [--size WxH] [--pixels rgb|gray] [--image-format png|jpeg|raw] [--jpeg-quality Q] [--hz N] [--every-nth N] [--compare] [--keep OUT.mcap] [--json]

CPU cost of recording at full rate to MCAP: the flight layer's topics, and with --images FrameSets of four stereo
rigs (8 images, --pixels rgb as the rigs deliver by default, or gray) at --hz (default 30) of --size (default
640x480, the rigs' configured size), the images of every --every-nth FrameSet (default 1: all). --compare then runs the daemon's perception (pruned model, paced at --hz, on
rendered FrameSets) on its own and reports recording's CPU as a share of the pipeline's.
--keep OUT.mcap keeps the log (OUT-000.mcap), e.g. to time \`racepilot replay --speed max\` on four rigs at 30 Hz.
`;

/** \`racepilot bench record ...\` */
export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    argv,
    {
      seconds: { type: 'string', default: '20' }, images: { type: 'boolean', default: false }, size: { type: 'string', default: '640x480' },
      pixels: { type: 'string', default: 'rgb' }, 'image-format': { type: 'string', default: 'png' }, 'jpeg-quality': { type: 'string', default: '80' },
      hz: { type: 'string', default: '30' }, 'every-nth': { type: 'string', default: '1' }, compare: { type: 'boolean', default: false }, keep: { type: 'string' }, json: { type: 'boolean', default: false },
    },
    USAGE,
  );
  if (!parsed) return 0;
  const { values } = parsed;
  const seconds = Number(values.seconds);
  if (!(seconds > 0 && seconds <= 600)) throw new UsageError(`--seconds must be a number of seconds between 0 and 600, got "${values.seconds}"`);
  const size = /^(\d+)x(\d+)$/.exec(values.size);
  if (!size) throw new UsageError(`--size must be WIDTHxHEIGHT, e.g. 640x480, not "${values.size}"`);
  const format = values['image-format'];
  if (format !== 'png' && format !== 'jpeg' && format !== 'raw') throw new UsageError(`--image-format must be png, jpeg or raw, not "${format}"`);
  if (values.pixels !== 'rgb' && values.pixels !== 'gray') throw new UsageError(`--pixels must be rgb or gray, not "${values.pixels}"`);
  const hz = Number(values.hz);
  const jpegQuality = Number(values['jpeg-quality']);
  if (!(hz > 0 && hz <= 120)) throw new UsageError(`--hz must be in (0, 120], not "${values.hz}"`);
  if (!(Number.isInteger(jpegQuality) && jpegQuality >= 1 && jpegQuality <= 100)) throw new UsageError(`--jpeg-quality must be 1..100, not "${values['jpeg-quality']}"`);
  const width = Number(size[1]);
  const height = Number(size[2]);
  const pixels = values.pixels === 'rgb' ? 'RGB' : 'GRAY8';
  const everyNth = Number(values['every-nth']);
  if (!(Number.isInteger(everyNth) && everyNth >= 1 && everyNth <= 1000)) throw new UsageError(`--every-nth must be an integer 1..1000, not "${values['every-nth']}"`);
  const r = await benchRecord(seconds, values.images ? { width, height, format, jpegQuality, hz, pixels, everyNth } : null, values.keep ? values.keep.replace(/\.mcap$/i, '') : null);
  let pipeline: { cpuMsPerFrameset: number; cpuMsPerS: number } | null = null;
  if (values.compare) {
    // Run after recording, never beside it: two cores, and each figure is a process's own CPU time.
    process.stderr.write('bench record: running perception (pruned model, paced) for the comparison...\n');
    const { benchPerception } = await import('./bench-perception.js');
    const { configWith } = await import('../core/config/load.js');
    const config = configWith({});
    config.camera.rigs = config.camera.rigs.map((rig) => ({ ...rig, width, height, fps: hz, format: pixels }));
    const p = await benchPerception({ config, models: [fileURLToPath(new URL('../../../models/gate-detector.onnx', import.meta.url))], durationS: 5, rateHz: hz });
    const cpuMsPerFrameset = p.models[0]!.paced.cpuMsPerFrameset;
    pipeline = { cpuMsPerFrameset, cpuMsPerS: cpuMsPerFrameset * hz };
  }
  const out = { ...r, pipeline, recordingVsPipeline: pipeline ? r.processCpuMsPerS / pipeline.cpuMsPerS : null };
  if (values.json) {
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } else {
    const img = r.images
      ? `, images ${r.images.format} ${r.images.pixels} ${r.images.width}x${r.images.height} 8 × ${r.images.hz} Hz${r.images.everyNth > 1 ? ` every ${r.images.everyNth}th FrameSet` : ''}: ${r.images.recorded} FrameSets recorded, ${r.images.dropped} dropped`
      : '';
    process.stdout.write(
      `recorded ${r.messages} messages over ${r.simulatedS} simulated s (${(r.bytesOnDisk / 1024).toFixed(0)} KiB on disk, ${(r.bytesOnDisk / 1048576 / r.simulatedS).toFixed(2)} MiB/s) in ${r.wallS.toFixed(1)} s${img}\n` +
        `event loop: ${r.mainThreadMsPerS.toFixed(2)} ms per simulated s; whole process: ${r.processCpuMsPerS.toFixed(1)} ms per s (${(r.processCpuMsPerS / 10).toFixed(1)}% of one core)\n` +
        (pipeline ? `perception (pruned, paced at ${hz} Hz): ${pipeline.cpuMsPerFrameset.toFixed(1)} ms CPU per FrameSet = ${pipeline.cpuMsPerS.toFixed(0)} ms per s; recording costs ${(100 * out.recordingVsPipeline!).toFixed(1)}% of it\n` : ''),
    );
  }
  return 0;
}
