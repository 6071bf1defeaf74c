import { z } from 'zod';
import { flightSchema } from './flight.js';
import { cameraSchema } from './camera.js';
import { recordingSchema } from './recording.js';
import { telemetrySchema } from './telemetry.js';
import { perceptionSchema } from './perception.js';
import { raceSchema } from './race.js';

/**
 * The whole configuration: one file, one section per module, each section's schema in its own file beside this one.
 * Every field has a default, so `{}` is a valid (and safe: nothing arms) configuration.
 */
export const configSchema = z
  .object({
    log: z
      .object({
        level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
        format: z.enum(['json', 'pretty', 'auto']).default('auto'),
      })
      .strict()
      .default({}),
    flight: flightSchema.default({}),
    camera: cameraSchema.default({}),
    recording: recordingSchema.default({}),
    telemetry: telemetrySchema.default({}),
    perception: perceptionSchema.default({}),
    race: raceSchema.default({}),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
