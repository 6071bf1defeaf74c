import { z } from 'zod';

const MiB = 1024 * 1024;

/**
 * Flight logs (MCAP). Recording is an edge: it never slows the control loop, and when the disk runs low it gives up
 * images before telemetry, and telemetry before the disk is full.
 */
export const recordingSchema = z
  .object({
    /** Record every topic while the daemon runs. */
    enabled: z.boolean().default(false),
    /** Folder the logs go to (created if missing). */
    dir: z.string().min(1).default('logs'),
    /** Start a new file once the current one reaches this size (bytes). */
    rotateBytes: z.number().int().min(MiB).default(512 * MiB),
    /** A chunk is closed (compressed and written) once it holds this many bytes... */
    chunkBytes: z.number().int().min(4096).max(64 * MiB).default(4 * MiB),
    /** ...or once it is this old (ms): the most a power loss or `kill -9` can take with it. */
    flushIntervalMs: z.number().int().min(50).max(1000).default(500),
    /** Chunk compression: zstd (best ratio for JSON telemetry at a cost we measured), or none. */
    compression: z.enum(['zstd', 'none']).default('zstd'),
    /** zstd level: 1 is fast enough for full rate on a Jetson core; higher saves disk at more CPU. */
    zstdLevel: z.number().int().min(1).max(19).default(1),
    /** Below this much free space (bytes) images are dropped and telemetry kept. */
    minFreeBytesImages: z.number().int().min(0).default(2048 * MiB),
    /** Below this much free space (bytes) recording stops altogether (the file is closed cleanly). */
    minFreeBytes: z.number().int().min(0).default(256 * MiB),
    /**
     * Camera images, one Foxglove channel per camera (/camera/<rig>/<side>), as Foxglove's image messages in CDR
     * (ros2-image.ts), in chunks of their own that are not compressed again. png: lossless (a replay sees the very
     * pixels), CompressedImage; jpeg: CompressedImage, smaller but lossy and, in pure JS, far too slow for 8 × 30 Hz;
     * raw: RawImage, the cheapest in CPU and the largest on disk; none: no images at all. Four RGB rigs at 30 Hz on a
     * two-core VM (`racepilot bench record --images --image-format F`): raw 211 MiB/s at about half a core; png
     * cannot keep up and drops FrameSets' images (counted and logged), so thin them with everyNth.
     */
    images: z
      .object({
        format: z.enum(['png', 'jpeg', 'raw', 'none']).default('png'),
        /** JPEG quality 1..100. */
        jpegQuality: z.number().int().min(1).max(100).default(80),
        /** zlib level of the PNG data: 1 is the fastest that still compresses. */
        pngLevel: z.number().int().min(0).max(9).default(1),
        /** Record every n-th FrameSet's images (1: all). Telemetry is always recorded in full. */
        everyNth: z.number().int().min(1).max(1000).default(1),
      })
      .strict()
      .default({}),
  })
  .strict()
  .refine((r) => r.minFreeBytesImages >= r.minFreeBytes, {
    message: 'minFreeBytesImages must be at least minFreeBytes (images are dropped before telemetry)',
    path: ['minFreeBytesImages'],
  });

export type RecordingConfig = z.infer<typeof recordingSchema>;
