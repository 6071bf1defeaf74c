import { ManualClock } from '../core/clock.js';

/**
 * The replay's clock: a ManualClock of kind 'log'. Replay moves it with `advanceBefore` to feed a recorded input at
 * exactly its time on the right side of that instant's timers, so that what the stages compute (timestamps
 * included) is what they computed live.
 */
export class LogClock extends ManualClock {
  declare readonly kind: 'log';

  constructor(startUs = 0) {
    super('log', startUs);
  }
}
