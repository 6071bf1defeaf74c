import type { Vec3, VehicleState } from '../core/messages.js';
import { quatRotate } from '../core/vec3.js';

/**
 * Which way is down in the body frame at an image's capture time, from the flight controller's attitude. A racing
 * quad rolls at several hundred degrees per second, so the attitude nearest in time is not good enough: the two
 * samples around the capture are interpolated, and a capture after the newest sample is carried forward with the
 * body rates. Too far from any sample (the link is quiet, or no attitude yet) there is no answer, and perception
 * falls back to the corners alone. Pure: samples and times come in, nothing is read from a clock.
 */
export class GravityHistory {
  private readonly samples: { tUs: number; down: Vec3; w: Vec3 | null }[] = [];

  /** maxGapUs: how far from a sample an answer may be carried; keep: samples kept (at 100 Hz, 32 is a third of a second). */
  constructor(private readonly maxGapUs = 30_000, private readonly keep = 32) {}

  push(v: VehicleState): void {
    const last = this.samples.at(-1);
    if (last && v.tSampleUs <= last.tUs) return;
    const [qw, qx, qy, qz] = v.q_ned_body;
    // q rotates body vectors into NED; its conjugate takes NED's down into the body frame.
    this.samples.push({ tUs: v.tSampleUs, down: quatRotate([qw, -qx, -qy, -qz], [0, 0, 1]), w: v.w_body_radps });
    if (this.samples.length > this.keep) this.samples.shift();
  }

  /** Unit gravity direction in the body frame at tUs, or null when no attitude is close enough in time. */
  downAt(tUs: number): Vec3 | null {
    const s = this.samples;
    if (s.length === 0) return null;
    let i = s.length - 1;
    while (i > 0 && s[i]!.tUs > tUs) i--;
    const a = s[i]!;
    const b = s[i + 1];
    if (b && a.tUs <= tUs) {
      if (b.tUs - a.tUs > 2 * this.maxGapUs) return null;
      const f = (tUs - a.tUs) / (b.tUs - a.tUs);
      return unit([a.down[0] + f * (b.down[0] - a.down[0]), a.down[1] + f * (b.down[1] - a.down[1]), a.down[2] + f * (b.down[2] - a.down[2])]);
    }
    const dt = (tUs - a.tUs) / 1e6;
    if (Math.abs(dt) * 1e6 > this.maxGapUs) return null;
    if (!a.w) return a.down;
    // A world-fixed vector seen from a body turning at ω changes as d/dt = −ω × v.
    const [wx, wy, wz] = a.w;
    const d = a.down;
    return unit([d[0] - dt * (wy * d[2] - wz * d[1]), d[1] - dt * (wz * d[0] - wx * d[2]), d[2] - dt * (wx * d[1] - wy * d[0])]);
  }
}

function unit(v: Vec3): Vec3 {
  const n = Math.hypot(v[0], v[1], v[2]);
  return [v[0] / n, v[1] / n, v[2] / n];
}
