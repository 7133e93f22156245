/**
 * Admission control for sends on one worker. A send past the bound, or one
 * whose request already waited too long to arrive in time, is refused at
 * once as `overloaded`: nothing is sent, and the caller retries later
 * instead of getting a code 30 s late.
 */
export interface AdmissionOptions {
  /** Sends this worker works on at once. @default 64 */
  maxInFlight?: number;
  /**
   * A send whose request is older than this is refused. The rest of the 2 s answer budget is for the submit and the
   * way back (a workflow task completion and the update's answer), which took up to 0.9 s on a saturated machine.
   * @default 1000
   */
  maxWaitMs?: number;
}

export const DEFAULT_MAX_SENDS_IN_FLIGHT = 64;
export const DEFAULT_MAX_SEND_WAIT_MS = 1000;

export type Admission = { admitted: true; release: () => void } | { admitted: false; reason: 'worker_busy' | 'request_too_old'; retryAfterSeconds: number };

export class SendAdmission {
  private inFlight = 0;
  /** resumed: sends past the wait admitted anyway because an earlier workflow task may already have sent them (enterOrResume). */
  readonly stats = { admitted: 0, busy: 0, tooOld: 0, resumed: 0, peakInFlight: 0 };
  readonly maxInFlight: number;
  readonly maxWaitMs: number;

  constructor(opts: AdmissionOptions = {}) {
    this.maxInFlight = opts.maxInFlight ?? DEFAULT_MAX_SENDS_IN_FLIGHT;
    this.maxWaitMs = opts.maxWaitMs ?? DEFAULT_MAX_SEND_WAIT_MS;
  }

  /** `requestedAtMs`: when the caller made the request (absent: not checked). */
  enter(requestedAtMs: number | undefined, now = Date.now()): Admission {
    if (requestedAtMs !== undefined && now - requestedAtMs > this.maxWaitMs) {
      this.stats.tooOld++;
      return { admitted: false, reason: 'request_too_old', retryAfterSeconds: Math.max(1, Math.ceil((now - requestedAtMs) / 1000)) };
    }
    if (this.inFlight >= this.maxInFlight) {
      this.stats.busy++;
      return { admitted: false, reason: 'worker_busy', retryAfterSeconds: 1 };
    }
    this.inFlight++;
    this.stats.admitted++;
    this.stats.peakInFlight = Math.max(this.stats.peakInFlight, this.inFlight);
    let released = false;
    return {
      admitted: true,
      release: () => {
        if (released) return;
        released = true;
        this.inFlight--;
      },
    };
  }

  /**
   * As enter(), but a request past the wait is still admitted when
   * `earlierTaskRan` says an earlier workflow task may already have run this
   * send: a worker died (or its task timed out) after the submit and before the
   * task completed, and the task now runs again with the local activity's
   * attempt back at 1. Refusing it would end the session while the first run's
   * SMS is on the handset, a code nobody can verify; sending again costs at
   * most a duplicate of the same code. Asked only on the rare too-old path.
   */
  async enterOrResume(requestedAtMs: number | undefined, earlierTaskRan: () => Promise<boolean>, now = Date.now()): Promise<Admission> {
    const first = this.enter(requestedAtMs, now);
    if (first.admitted || first.reason !== 'request_too_old' || !(await earlierTaskRan())) return first;
    this.stats.resumed++;
    return this.enter(undefined, now);
  }

  get current(): number {
    return this.inFlight;
  }
}
