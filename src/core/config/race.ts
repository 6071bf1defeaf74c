import { z } from 'zod';

/**
 * The `race` section: which track the daemon races, where its gate sightings come from, and the vehicle limits the
 * planner keeps. No track (the default): no race; `racepilot run` only monitors or holds.
 */
export const raceSchema = z
  .object({
    /** Race track JSON (see README, "Writing a track"); relative paths are taken from the working directory. */
    track: z.string().min(1).nullable().default(null),
    /**
     * Where gate sightings come from. `live` (the vehicle): the camera section's GStreamer rigs, and the perception
     * section's detector on their FrameSets. `rendered`: software in the loop; the rig cameras are rendered from the
     * pose the flight controller reports (PX4 SITL's odometry), and the same detector runs on them.
     */
    cameras: z.enum(['live', 'rendered']).default('live'),
    /** Seed of the rendered world: where each gate stands within its stated uncertainty, the hall's clutter. */
    renderSeed: z.number().int().min(0).default(1),
    /** Rendered size as a fraction of the rigs' configured size (0.5: 320×240). */
    renderScale: z.number().gt(0).max(1).default(0.5),
    /** What the planner may ask of the vehicle. */
    limits: z
      .object({
        thrustToWeight: z.number().gt(1).max(10).default(4),
        thrustMargin: z.number().gt(0).max(1).default(0.75),
        maxTiltDeg: z.number().gt(0).max(85).default(55),
        maxSpeedMps: z.number().gt(0).max(50).default(16),
        dragPerM: z.number().min(0).max(1).default(0.02),
        maxJerkMps3: z.number().min(0).default(0),
      })
      .strict()
      .default({}),
  })
  .strict();

export type RaceConfig = z.infer<typeof raceSchema>;
