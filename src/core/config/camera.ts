import { z } from 'zod';

/**
 * The `camera` section: four stereo rigs (eight images per instant), where their frames come from, and how they are
 * put together into FrameSets.
 *
 * Default calibration. The numbers below are the measured calibration of an Arducam IMX219 wide-angle camera on the
 * TII Jetson racing quadrotor (tii-racing/drone-racing-dataset @ 616d94b1, files calib_a-trackRATM.json and
 * calib_p-trackRATM.json; kept in ../shared/data/calibration/tii_racing_arducam/). That sensor is read out at
 * 820 x 616, but the principal points (cx ≈ 317, cy ≈ 207..224) only make sense for the 640 x 480 frames the
 * dataset stores, so the calibration is taken as a 640 x 480 calibration, unscaled. fx ≠ fy by 4:3 is what was
 * measured (an anamorphic resize in their capture chain); we keep it rather than invent a square-pixel camera.
 * Left images use session "a", right images session "p" of the same camera type: two real units' worth of
 * spread instead of two identical copies. The mounting (x forward 9 cm, 5.5 cm above the centre) is their
 * drone_to_camera.json translation turned from their FLU body frame into our FRD one; their 40–50° uptilt is for
 * 20 m/s flight, we default to 20° for RacerAI-class speeds.
 */

const finite = z.number().finite();
const positive = z.number().finite().positive();
const vec3 = z.tuple([finite, finite, finite]);

export const intrinsicsSchema = z.object({ fx: positive, fy: positive, cx: finite, cy: finite }).strict();

export const distortionSchema = z.discriminatedUnion('model', [
  z.object({ model: z.literal('none') }).strict(),
  z.object({ model: z.literal('opencv'), k1: finite, k2: finite, p1: finite, p2: finite, k3: finite.default(0) }).strict(),
  z.object({ model: z.literal('fisheye'), k1: finite, k2: finite, k3: finite, k4: finite }).strict(),
]);

/**
 * One image of a stereo pair: its own intrinsics and distortion. `size` is the image size they were measured at;
 * when the rig is read out at another size of the same aspect (the Jetson's VIC scales for free), the intrinsics are
 * scaled to it. Without `size` they are taken to be at the rig's size.
 */
export const imageCalibrationSchema = z
  .object({
    intrinsics: intrinsicsSchema,
    distortion: distortionSchema.default({ model: 'none' }),
    size: z.object({ width: z.number().int().min(16), height: z.number().int().min(16) }).strict().optional(),
  })
  .strict();

/**
 * Where a rig's frames come from. Presets build the gst-launch-1.0 pipeline (src/camera/presets.ts); `custom` takes
 * pipeline text ending in raw frames of the rig's format and size (racepilot appends the fdsink). `side-by-side`
 * pipelines deliver one 2·width x height frame per instant that is split into left and right; `pair` pipelines are
 * one per sensor.
 */
export const cameraSourceSchema = z.discriminatedUnion('preset', [
  z
    .object({
      preset: z.literal('videotestsrc'),
      /** videotestsrc pattern name or number, drawn across the whole side-by-side frame. */
      pattern: z.string().min(1).default('ball'),
      /**
       * A different pattern for the right image: the two halves then come from two sources joined by a compositor,
       * so a wrong split shows. Costs several times the CPU of one source; for tests, not benches.
       */
      rightPattern: z.string().min(1).optional(),
    })
    .strict(),
  z
    .object({
      preset: z.literal('jetson-csi'),
      /** nvarguscamerasrc sensor-id of the left and right sensor. */
      sensorIds: z.tuple([z.number().int().min(0).max(15), z.number().int().min(0).max(15)]),
    })
    .strict(),
  z
    .object({
      preset: z.literal('usb-sbs'),
      /** V4L2 device of a USB stereo camera that sends side-by-side frames (2·width x height). */
      device: z.string().min(1),
      /** What the camera sends before conversion: raw YUYV or MJPEG. */
      input: z.enum(['yuyv', 'mjpeg']).default('mjpeg'),
    })
    .strict(),
  z
    .object({
      preset: z.literal('custom'),
      layout: z.enum(['side-by-side', 'pair']),
      /** One pipeline (side-by-side) or two (pair: left, right), each without the final fdsink. */
      pipelines: z.array(z.string().min(1)).min(1).max(2),
    })
    .strict(),
]);

export const rigSchema = z
  .object({
    name: z.string().regex(/^[a-z][a-z0-9_-]*$/, 'a short lower-case name such as "front"'),
    enabled: z.boolean().default(true),
    /** A multiple of 4: GStreamer pads raw rows to 4 bytes, and the frames on the pipe must have no padding. */
    width: z.number().int().min(16).max(4096).multipleOf(4),
    height: z.number().int().min(16).max(4096),
    fps: z.number().min(1).max(240),
    /**
     * Pixel format of the frames handed to the pipeline. RGB by default: the racing frames the detector is trained
     * on are colour, and the shipped model, fed the same scenes in grey, finds no gate at all (`racepilot bench
     * perception`: 7 gates per FrameSet in RGB, 0 in GRAY8). GRAY8 is for a model trained on grey frames; the
     * daemon warns when a rig's format and the model's input channels differ.
     */
    format: z.enum(['GRAY8', 'RGB']).default('RGB'),
    /** Distance between the two optical centres (m); the right camera sits at +baseline along the left camera's x. */
    baselineM: z.number().min(0.01).max(1),
    /**
     * The rig in the body FRD frame: the midpoint between the optical centres, and the left camera's orientation as
     * yaw (to the right), pitch (nose up = uptilt), roll (right side down), applied in that order to a camera
     * looking straight forward.
     */
    pose: z
      .object({ p_body_m: vec3, yawDeg: finite.default(0), pitchDeg: finite.default(0), rollDeg: finite.default(0) })
      .strict(),
    left: imageCalibrationSchema,
    right: imageCalibrationSchema,
    source: cameraSourceSchema.default({ preset: 'videotestsrc' }),
    /**
     * Exposure to arrival on our side (ms): subtracted from a frame's arrival time to give its capture time. Measure
     * it per setup (e.g. film a blinking LED driven from the daemon's clock).
     */
    pipelineLatencyMs: z.number().min(0).max(1000).default(0),
  })
  .strict()
  .superRefine((rig, ctx) => {
    const s = rig.source;
    if (s.preset === 'custom' && s.pipelines.length !== (s.layout === 'pair' ? 2 : 1)) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['source', 'pipelines'],
        message: s.layout === 'pair' ? 'a "pair" layout needs two pipelines: left, right' : 'a "side-by-side" layout needs exactly one pipeline',
      });
    }
    // A calibration serves another readout size only by scaling: the same field of view, so the same aspect.
    for (const side of ['left', 'right'] as const) {
      const size = rig[side].size;
      if (size && Math.abs(size.width / size.height - rig.width / rig.height) > 0.01 * (rig.width / rig.height)) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: [side, 'size'],
          message: `calibrated at ${size.width}x${size.height}, the rig reads ${rig.width}x${rig.height}: another aspect ratio (a crop) needs its own calibration`,
        });
      }
    }
  });

/** The size the Arducam calibration below was measured at. */
const ARDUCAM_SIZE = { width: 640, height: 480 };
const arducamA = {
  intrinsics: { fx: 286.71469312178044, fy: 383.2221537522858, cx: 316.9925488921773, cy: 206.62347762827878 },
  distortion: { model: 'opencv' as const, k1: -0.25894229675073394, k2: 0.07570608009984289, p1: 7.078987837601236e-5, p2: -2.271220076239573e-5, k3: -0.010196139812036596 },
};
const arducamP = {
  intrinsics: { fx: 286.96242885678896, fy: 382.54621083475985, cx: 318.64041082328777, cy: 223.7222973061012 },
  distortion: { model: 'opencv' as const, k1: -0.25620317177036167, k2: 0.0724094638087482, p1: -0.00014281107797667946, p2: -0.00018817820716845624, k3: -0.009308995350937686 },
};

function defaultRig(name: string, p_body_m: [number, number, number], yawDeg: number, pitchDeg: number, pattern: string) {
  return {
    name,
    width: 640,
    height: 480,
    fps: 30,
    baselineM: 0.1,
    pose: { p_body_m, yawDeg, pitchDeg, rollDeg: 0 },
    left: { ...arducamA, size: ARDUCAM_SIZE },
    right: { ...arducamP, size: ARDUCAM_SIZE },
    source: { preset: 'videotestsrc' as const, pattern },
  };
}

/** Front rig from the measured mounting; side and back rigs level, looking out over the arms. */
export const defaultRigs = [
  defaultRig('front', [0.091, 0, -0.055], 0, 20, 'ball'),
  defaultRig('left', [0.0, -0.07, -0.04], -90, 0, 'smpte'),
  defaultRig('right', [0.0, 0.07, -0.04], 90, 0, 'pinwheel'),
  defaultRig('back', [-0.09, 0.0, -0.04], 180, 0, 'checkers-8'),
];

export const cameraSchema = z
  .object({
    rigs: z
      .array(rigSchema)
      .min(1)
      .max(8)
      .default(defaultRigs)
      .superRefine((rigs, ctx) => {
        const seen = new Set<string>();
        rigs.forEach((r, i) => {
          if (seen.has(r.name)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: [i, 'name'], message: `rig name "${r.name}" used twice` });
          seen.add(r.name);
        });
      }),
    sync: z
      .object({
        /** Images whose capture times differ by at most this belong to one FrameSet. */
        maxSkewMs: z.number().min(0).max(100).default(8),
        /** How long after its first image a FrameSet waits for the rest before it goes out with holes. */
        timeoutMs: z.number().min(1).max(500).default(25),
        /** A camera with no image for this long is dead: FrameSets stop waiting for it and flag it. */
        deadAfterMs: z.number().min(10).max(10000).default(250),
      })
      .strict()
      .default({}),
    /** A pipeline with no frame for this many frame periods is stalled and restarted. */
    stallPeriods: z.number().int().min(2).max(1000).default(10),
    restart: z
      .object({ initialS: z.number().min(0.01).max(10).default(0.2), maxS: z.number().min(0.05).max(120).default(5) })
      .strict()
      .default({}),
    /** Frame buffers per image stream: a frame's pixels stay valid for this many frames, then the buffer is reused. */
    bufferFrames: z.number().int().min(2).max(64).default(8),
  })
  .strict()
  .superRefine((c, ctx) => {
    // Pooled frame buffers are reused after bufferFrames frames: they must outlive a FrameSet's wait, with room.
    c.rigs.forEach((r, i) => {
      const lifeMs = (c.bufferFrames * 1000) / r.fps;
      if (lifeMs < 2 * c.sync.timeoutMs + c.sync.maxSkewMs) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ['bufferFrames'],
          message: `${c.bufferFrames} buffers last ${lifeMs.toFixed(0)} ms at rig "${r.name}"'s ${r.fps} fps, less than twice sync.timeoutMs plus sync.maxSkewMs (${2 * c.sync.timeoutMs + c.sync.maxSkewMs} ms): raise bufferFrames`,
        });
      }
    });
  });

export type CameraConfig = z.infer<typeof cameraSchema>;
export type RigConfig = z.infer<typeof rigSchema>;
export type CameraSourceConfig = z.infer<typeof cameraSourceSchema>;
export type ImageCalibrationConfig = z.infer<typeof imageCalibrationSchema>;
