/**
 * The client's bound on sends in flight, adaptive (AIMD on latency, as in
 * TCP congestion control and Netflix's concurrency-limits): it starts small,
 * grows by one per round while sends answer within the target and the bound
 * is in use, and a slow answer cuts it by a fifth. Past the bound a send is
 * refused at once, so a busy server sees a short queue and callers get an
 * answer within seconds.
 */
export interface SendLimiterOptions {
  /** Upper bound on sends in flight. @default 64 */
  max?: number;
  /** Lower bound: the limit never falls below it. @default 2 */
  min?: number;
  /** The limit to start from (a burst finds a short queue, not max). @default 16 */
  initial?: number;
  /**
   * A send slower than this shrinks the limit. A quarter of the 2 s a send
   * must be answered in: the queue behind a busy server stays short enough
   * that its slowest answers still arrive in time. @default 500
   */
  targetMs?: number;
}

export const DEFAULT_CLIENT_MAX_SENDS_IN_FLIGHT = 64;
export const DEFAULT_CLIENT_SEND_TARGET_MS = 500;

export class SendLimiter {
  private inFlight = 0;
  private current: number;
  private lastCutAt = 0;
  readonly max: number;
  readonly min: number;
  readonly targetMs: number;

  constructor(opts: SendLimiterOptions = {}) {
    this.max = opts.max ?? DEFAULT_CLIENT_MAX_SENDS_IN_FLIGHT;
    this.min = Math.min(opts.min ?? 2, this.max);
    this.targetMs = opts.targetMs ?? DEFAULT_CLIENT_SEND_TARGET_MS;
    this.current = Math.max(this.min, Math.min(this.max, opts.initial ?? 16));
  }

  /** A slot for one send, or false when the limit is reached. */
  tryAcquire(): boolean {
    if (this.inFlight >= Math.floor(this.current)) return false;
    this.inFlight++;
    return true;
  }

  /** Frees the slot; `latencyMs` of the send adjusts the limit. */
  release(latencyMs: number, now = Date.now()): void {
    // Grow only when the bound is in use: an idle client must not drift up to max.
    const busy = this.inFlight >= this.current / 2;
    this.inFlight--;
    if (latencyMs > this.targetMs) {
      // One cut per target period: a burst of slow answers is one signal, not many.
      if (now - this.lastCutAt >= this.targetMs) {
        this.current = Math.max(this.min, this.current * 0.8);
        this.lastCutAt = now;
      }
    } else if (busy) {
      this.current = Math.min(this.max, this.current + 1 / this.current);
    }
  }

  get limit(): number {
    return Math.floor(this.current);
  }

  get active(): number {
    return this.inFlight;
  }
}
