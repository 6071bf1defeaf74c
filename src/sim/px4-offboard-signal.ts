/** A 2 Hz stream has gaps of at most 500 ms. */
const MAX_SETPOINT_GAP_US = 500_000;

/**
 * PX4's offboard "proof of life": setpoints streaming at more than 2 Hz. OFFBOARD may be entered only once the
 * stream has run for `proofS` (PX4's docs: more than a second), and in OFFBOARD the failsafe triggers when none has
 * arrived for COM_OF_LOSS_T. Times are µs on the simulator's clock.
 */
export class OffboardSignal {
  private lastUs: number | null = null;
  private sinceUs: number | null = null;

  constructor(
    private readonly proofS: number,
    private readonly lossS: number,
  ) {}

  received(nowUs: number): void {
    if (this.lastUs === null || nowUs - this.lastUs > MAX_SETPOINT_GAP_US) this.sinceUs = nowUs;
    this.lastUs = nowUs;
  }

  available(nowUs: number): boolean {
    return (
      this.lastUs !== null &&
      this.sinceUs !== null &&
      nowUs - this.lastUs <= MAX_SETPOINT_GAP_US &&
      // A 20 ms allowance: a client that streams for exactly its warm-up second must not be refused by jitter.
      nowUs - this.sinceUs >= this.proofS * 1e6 - 20_000
    );
  }

  lost(nowUs: number): boolean {
    return this.lastUs === null || nowUs - this.lastUs > this.lossS * 1e6;
  }
}
