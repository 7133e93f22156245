/**
 * The pause an SMSC asks for with ESME_RTHROTTLED or ESME_RMSGQFUL. One per
 * route, shared by its binds (the SMSC limits the account, not one socket):
 * a throttle only ever extends it, never shortens it, and every submit waits
 * for it just before it is written, including those queued for the window.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface ThrottlePauseOptions {
  /** First pause after a throttling answer; doubles while the SMSC keeps throttling. @default 100 */
  throttleInitialMs?: number;
  /** Longest single pause. @default 2000 */
  throttleMaxMs?: number;
}

export const DEFAULT_THROTTLE_INITIAL_MS = 100;
export const DEFAULT_THROTTLE_MAX_MS = 2000;

export class ThrottlePause {
  /** No submit before this instant (ms epoch). */
  until = 0;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private stepMs: number;

  constructor(opts: ThrottlePauseOptions = {}) {
    this.initialMs = opts.throttleInitialMs ?? DEFAULT_THROTTLE_INITIAL_MS;
    this.maxMs = opts.throttleMaxMs ?? DEFAULT_THROTTLE_MAX_MS;
    this.stepMs = this.initialMs;
  }

  /** The SMSC throttled us: pause (longer each time in a row); returns the pause now in force, in ms. */
  throttled(now = Date.now()): number {
    this.extend(this.stepMs, now);
    this.stepMs = Math.min(this.stepMs * 2, this.maxMs);
    return this.until - now;
  }

  /** Pauses at least `ms` from now; a pause already longer stays as it is. */
  extend(ms: number, now = Date.now()): void {
    this.until = Math.max(this.until, now + ms);
  }

  /** A submit was accepted: the next throttle starts from the first step again (the pause in force stays). */
  accepted(): void {
    this.stepMs = this.initialMs;
  }

  remainingMs(now = Date.now()): number {
    return Math.max(0, this.until - now);
  }

  /** Waits out the pause, re-checking as it is extended; false, at once, when it lasts past `deadline`. */
  async wait(deadline = Infinity): Promise<boolean> {
    for (;;) {
      const left = this.until - Date.now();
      if (left <= 0) return true;
      if (this.until > deadline) return false;
      await sleep(left);
    }
  }
}
