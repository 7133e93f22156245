/**
 * A submit rate that no 1 s window ever exceeds. A token bucket that starts
 * full with capacity `rate` lets 2 × rate through in the first second (the
 * full bucket plus a second's refill); carriers count per second, so we keep
 * the send times of the last `limit` takes and wait until the oldest leaves
 * the window.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface RateClock {
  now(): number;
  sleep(ms: number): Promise<unknown>;
}

const realClock: RateClock = { now: () => Date.now(), sleep: (ms) => sleep(ms) };

export class RateLimiter {
  /** Takes allowed per window. */
  readonly limit: number;
  /** Window length in ms: 1000, or longer for a rate under 1/s (e.g. 0.5/s → 1 per 2000 ms). */
  readonly windowMs: number;
  private readonly times: number[] = [];
  private queue: Promise<void> = Promise.resolve();

  /**
   * @param rate takes per second; 0 or less = unlimited. A fractional rate of 1 or more is
   *   rounded down (never up: the SMSC's limit is the ceiling).
   */
  constructor(
    rate: number,
    private readonly clock: RateClock = realClock,
  ) {
    if (!(rate > 0)) {
      this.limit = Infinity;
      this.windowMs = 0;
    } else if (rate >= 1) {
      this.limit = Math.floor(rate);
      this.windowMs = 1000;
    } else {
      this.limit = 1;
      this.windowMs = Math.ceil(1000 / rate);
    }
  }

  /** Resolves when one more submit fits; callers are served in order. */
  take(): Promise<void> {
    if (this.limit === Infinity) return Promise.resolve();
    const turn = this.queue.then(() => this.wait());
    this.queue = turn;
    return turn;
  }

  private async wait(): Promise<void> {
    for (;;) {
      const now = this.clock.now();
      while (this.times.length && this.times[0] <= now - this.windowMs) this.times.shift();
      if (this.times.length < this.limit) {
        this.times.push(now);
        return;
      }
      await this.clock.sleep(this.times[0] + this.windowMs - now);
    }
  }
}
