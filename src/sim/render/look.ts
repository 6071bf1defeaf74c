/**
 * The photographic side of a rendered frame, drawn per image from a seeded PRNG: exposure, contrast, colour cast,
 * haze, motion blur and sensor noise. The geometry (and so the labels) never depends on it.
 */
import { Prng } from './prng.js';

export interface Look {
  /** Linear gain before the tone curve (1: a well-exposed hall). */
  exposure: number;
  /** Tone curve exponent on the linear value (<1 brightens shadows). */
  gamma: number;
  /** Per-channel multipliers (white balance). */
  tint: [number, number, number];
  /** Scales the scene's haze distance (bigger: clearer air). */
  hazeScale: number;
  /** Motion blur streak length (px) and direction (rad, image frame). 0: none. */
  blurPx: number;
  blurAngle: number;
  /** Standard deviation of the additive sensor noise, in 8-bit levels. */
  noiseSigma: number;
  /** Seeds the noise pattern. */
  noiseSeed: number;
}

export const NEUTRAL_LOOK: Look = {
  exposure: 1,
  gamma: 0.9,
  tint: [1, 1, 1],
  hazeScale: 1,
  blurPx: 0,
  blurAngle: 0,
  noiseSigma: 0,
  noiseSeed: 1,
};

/** A random look in the range the real onboard frames span (dim to glaring, sharp to streaked). */
export function randomLook(rng: Prng): Look {
  const blurred = rng.next() < 0.6;
  return {
    exposure: Math.exp(rng.range(-0.6, 0.5)),
    gamma: rng.range(0.7, 1.1),
    tint: [rng.range(0.84, 1.0), rng.range(0.92, 1.02), rng.range(1.0, 1.2)],
    hazeScale: rng.range(0.5, 1.6),
    blurPx: blurred ? rng.range(1, 9) : 0,
    blurAngle: rng.range(0, Math.PI),
    noiseSigma: rng.range(1, 7),
    noiseSeed: rng.int(1, 0x7fffffff),
  };
}
