/**
 * Minimum-jerk segments: per axis a quintic polynomial fixed by position, velocity and acceleration at both ends.
 * Full boundary conditions let consecutive segments join continuously in acceleration, which the flight
 * controller's feed-forward needs, and the closed form costs a handful of multiplications.
 */
export interface Boundary {
  p: number;
  v: number;
  a: number;
}

import type { Quintic } from '../core/messages.js';

/** Coefficients c0..c5 of p(t) = Σ c_k t^k on [0, T] (declared with the trajectory topic). */
export type { Quintic };

export function quintic(start: Boundary, end: Boundary, T: number): Quintic {
  const T2 = T * T;
  const T3 = T2 * T;
  const dp = end.p - start.p - start.v * T - 0.5 * start.a * T2;
  const dv = end.v - start.v - start.a * T;
  const da = end.a - start.a;
  return [
    start.p,
    start.v,
    0.5 * start.a,
    (10 * dp - 4 * dv * T + 0.5 * da * T2) / T3,
    (-15 * dp + 7 * dv * T - da * T2) / (T3 * T),
    (6 * dp - 3 * dv * T + 0.5 * da * T2) / (T3 * T2),
  ];
}

export function position(c: Quintic, t: number): number {
  return c[0] + t * (c[1] + t * (c[2] + t * (c[3] + t * (c[4] + t * c[5]))));
}

export function velocity(c: Quintic, t: number): number {
  return c[1] + t * (2 * c[2] + t * (3 * c[3] + t * (4 * c[4] + t * 5 * c[5])));
}

export function acceleration(c: Quintic, t: number): number {
  return 2 * c[2] + t * (6 * c[3] + t * (12 * c[4] + t * 20 * c[5]));
}

export function jerk(c: Quintic, t: number): number {
  return 6 * c[3] + t * (24 * c[4] + t * 60 * c[5]);
}
