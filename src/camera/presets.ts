import type { RigConfig } from '../core/config/camera.js';
import { ConfigError } from '../core/errors.js';
import { bytesPerPixel, type Side } from './rig.js';

/**
 * gst-launch-1.0 pipelines for a rig: one per stream, each ending in raw frames of a fixed format and size (the
 * GStreamer source appends `! fdsink fd=1`). A side-by-side stream carries both images in one 2·width x height
 * frame; a pair has one stream per sensor.
 */
export interface StreamSpec {
  /** "front" for a side-by-side stream, "front/left" for one sensor's. */
  name: string;
  rig: string;
  /** Where in the configuration this stream comes from, for error messages. */
  where: string;
  layout: 'side-by-side' | 'mono';
  /** For a mono stream: which image it is. */
  side: Side | null;
  pipeline: string;
  /** One image's size (a side-by-side frame is twice as wide). */
  width: number;
  height: number;
  format: RigConfig['format'];
  bpp: number;
  fps: number;
  /** Bytes of one frame on the pipe. */
  frameBytes: number;
}

export interface PresetOptions {
  /** videotestsrc only: false produces frames as fast as possible (tests count exact frames with numBuffers). */
  live?: boolean;
  /** videotestsrc only: stop after this many frames per source (EOS). */
  numBuffers?: number;
}

/** GStreamer framerate fraction for a rate in Hz ("30/1", "29970/1000"). */
export function framerate(fps: number): string {
  return Number.isInteger(fps) ? `${fps}/1` : `${Math.round(fps * 1000)}/1000`;
}

function rawCaps(format: string, width: number, height: number, fps: number): string {
  return `video/x-raw,format=${format},width=${width},height=${height},framerate=${framerate(fps)}`;
}

/** The streams of one rig (`index` is its position in camera.rigs, for error messages). */
export function rigStreams(rig: RigConfig, index: number, opts: PresetOptions = {}): StreamSpec[] {
  const { width: w, height: h, fps, format } = rig;
  const bpp = bytesPerPixel(format);
  const where = `camera rig "${rig.name}" (camera.rigs[${index}].source)`;
  const sbs = (pipeline: string): StreamSpec[] => [
    { name: rig.name, rig: rig.name, where, layout: 'side-by-side', side: null, pipeline, width: w, height: h, format, bpp, fps, frameBytes: 2 * w * h * bpp },
  ];
  const pair = (left: string, right: string): StreamSpec[] =>
    (['left', 'right'] as const).map((side) => ({
      name: `${rig.name}/${side}`,
      rig: rig.name,
      where,
      layout: 'mono' as const,
      side,
      pipeline: side === 'left' ? left : right,
      width: w,
      height: h,
      format,
      bpp,
      fps,
      frameBytes: w * h * bpp,
    }));
  const s = rig.source;
  switch (s.preset) {
    case 'videotestsrc': {
      const live = opts.live ?? true;
      const nb = opts.numBuffers !== undefined ? ` num-buffers=${opts.numBuffers}` : '';
      const src = (pattern: string) => `videotestsrc is-live=${live} pattern=${pattern}${nb}`;
      // Cheapest: one source drawing straight into the side-by-side frame in the target format.
      if (s.rightPattern === undefined) return sbs(`${src(s.pattern)} ! ${rawCaps(format, 2 * w, h, fps)}`);
      // Two sources composed side by side, the right one with its own pattern so a wrong split shows.
      const half = `video/x-raw,width=${w},height=${h},framerate=${framerate(fps)}`;
      return sbs(
        `${src(s.pattern)} ! ${half} ! m.sink_0 ${src(s.rightPattern)} ! ${half} ! m.sink_1 ` +
          `compositor name=m sink_0::xpos=0 sink_1::xpos=${w} ! videoconvert ! ${rawCaps(format, 2 * w, h, fps)}`,
      );
    }
    case 'jetson-csi': {
      // nvvidconv copies out of NVMM memory and converts on the VIC, keeping the CPU free; it cannot emit packed
      // RGB, so RGB goes through BGRx and videoconvert.
      const csi = (id: number) => {
        const nvmm = `nvarguscamerasrc sensor-id=${id} ! video/x-raw(memory:NVMM),width=${w},height=${h},framerate=${framerate(fps)}`;
        return format === 'GRAY8'
          ? `${nvmm} ! nvvidconv ! ${rawCaps('GRAY8', w, h, fps)}`
          : `${nvmm} ! nvvidconv ! video/x-raw,format=BGRx ! videoconvert ! ${rawCaps('RGB', w, h, fps)}`;
      };
      return pair(csi(s.sensorIds[0]), csi(s.sensorIds[1]));
    }
    case 'usb-sbs': {
      const input =
        s.input === 'mjpeg'
          ? `image/jpeg,width=${2 * w},height=${h},framerate=${framerate(fps)} ! jpegdec`
          : `video/x-raw,format=YUY2,width=${2 * w},height=${h},framerate=${framerate(fps)}`;
      return sbs(`v4l2src device=${s.device} ! ${input} ! videoconvert ! ${rawCaps(format, 2 * w, h, fps)}`);
    }
    case 'custom':
      if (s.layout === 'side-by-side') return sbs(s.pipelines[0]!);
      if (s.pipelines.length !== 2) throw new ConfigError('a "pair" layout needs two pipelines: left, right', where);
      return pair(s.pipelines[0]!, s.pipelines[1]!);
  }
}

/**
 * Splits pipeline text into gst-launch-1.0 arguments. gst-launch escapes the spaces inside each argument it is
 * given, so the text must arrive as separate words, the way a shell would split it: whitespace separates, single
 * or double quotes group (and are removed).
 */
export function pipelineArgs(pipeline: string): string[] {
  const args: string[] = [];
  let cur = '';
  let quote: string | null = null;
  let started = false;
  for (const ch of pipeline) {
    if (quote) {
      if (ch === quote) quote = null;
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      started = true;
    } else if (/\s/.test(ch)) {
      if (started) args.push(cur);
      cur = '';
      started = false;
    } else {
      cur += ch;
      started = true;
    }
  }
  if (quote) throw new RangeError(`unbalanced ${quote} in pipeline`);
  if (started) args.push(cur);
  return args;
}
