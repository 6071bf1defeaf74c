import { z } from 'zod';

/**
 * The `perception` section: which detector model runs, on which ONNX Runtime execution providers (tried in the
 * order listed; the first whose session opens and passes the self-test runs), and the thresholds that turn the
 * network's output into gates. Everything about the model's input and output is read from the model file's own
 * metadata, never from here.
 */

const providerName = z.enum(['tensorrt', 'cuda', 'cpu']);

export const perceptionSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** ONNX model with racepilot metadata; relative paths are taken from the working directory. */
    model: z.string().min(1).default('models/gate-detector.onnx'),
    /** Execution providers in order of preference. */
    providers: z
      .array(providerName)
      .min(1)
      .refine((l) => new Set(l).size === l.length, 'each provider at most once')
      .default(['tensorrt', 'cuda', 'cpu']),
    tensorrt: z
      .object({
        deviceId: z.number().int().min(0).default(0),
        fp16: z.boolean().default(true),
        /** Built engines are kept here so that a restart does not rebuild them (minutes on a Xavier). */
        engineCacheDir: z.string().min(1).default('.cache/tensorrt'),
        /** Builder workspace (MiB). */
        workspaceMb: z.number().int().min(16).max(65536).default(1024),
      })
      .strict()
      .default({}),
    cuda: z.object({ deviceId: z.number().int().min(0).default(0) }).strict().default({}),
    cpu: z
      .object({
        /**
         * Threads inside one operator (ONNX Runtime intra-op pool), counting each inference worker's own thread. 1:
         * on the CPU the lanes (below) already put every core to work on each FrameSet, in larger pieces. With one
         * lane, 2 threads were measured at twice the CPU per FrameSet for a fifth off the inference time (`racepilot bench
         * perception --lanes 1 --threads 2`).
         */
        intraOpThreads: z.number().int().min(1).max(64).default(1),
        /** Operators run in parallel (1: sequential execution). */
        interOpThreads: z.number().int().min(1).max(64).default(1),
        /**
         * ONNX Runtime's graph optimisation on the CPU. "all" adds the NCHWc layout, which computes convolutions in
         * blocks of channels as wide as the vector unit (16 with AVX-512): the pruned net's 9/18/33/67 channels are
         * rounded up to whole blocks and cost about what the dense net's 16/32/48/96 do. Measured on this VM, batch of 8, one thread, p50: pruned 13.1 ms with
         * "extended" against 15.3 ms with "all"; dense 27.9 against 15.6 ms. "extended" suits the shipped pruned
         * model; set "all" for the dense one. Measured with `node scripts/ort-levels.mjs`; `racepilot bench perception`
         * runs both models with the configured level.
         */
        graphOptimization: z.enum(['all', 'extended', 'basic']).default('extended'),
      })
      .strict()
      .default({}),
    /**
     * Lanes (perception-lanes.ts): each a preprocessing worker and a detector worker that take a share of every
     * FrameSet, so that its images are worked on by all cores at once. "auto": one per core (at most one per
     * stereo rig) where the detector runs on the CPU, one where a GPU takes the whole batch.
     */
    lanes: z.union([z.literal('auto'), z.number().int().min(1).max(16)]).default('auto'),
    /** Lowest centre-heatmap score reported as a gate. */
    gateThreshold: z.number().min(0).max(1).default(0.3),
    /** Lowest corner-heatmap value for a corner to count as seen (others are weighted down in the geometry). */
    cornerThreshold: z.number().min(0).max(1).default(0.15),
    maxGatesPerImage: z.number().int().min(1).max(50).default(10),
    /** The gate's inner (flyable) square side (m): AIRR 8 ft. */
    gateInnerSizeM: z.number().positive().max(20).default(2.438),
    /** Detected corner noise at full image resolution (px, 1σ); drives the reported uncertainties. */
    cornerSigmaPx: z.number().positive().max(50).default(1.5),
    /**
     * Racing gates stand upright: the 1σ (degrees) by which a gate's down axis may differ from gravity as the flight
     * controller's attitude gives it (attitude error, camera mounting, a gate not quite plumb). It pins the gates'
     * tilt so that the corners only have to give the yaw (perception/upright.ts). 0 switches the prior off, for
     * gates that lean.
     */
    uprightPriorDeg: z.number().min(0).max(45).default(2),
    /** Images darker or brighter than this mean (0..255) on average are reported as blind, not inferred on. */
    blindMeanBelow: z.number().min(0).max(255).default(4),
    blindMeanAbove: z.number().min(0).max(255).default(251),
  })
  .strict();

export type PerceptionConfig = z.infer<typeof perceptionSchema>;
