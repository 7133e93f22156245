/**
 * The chaos run's open-loop load: one session per distinct number at fixed
 * arrival times that never wait for replies, whatever the faults do; each
 * code is verified once its SMS is in the simulator's handset inbox, as a
 * user would after reading it.
 */
import type { SimFeed } from '../bench/lib/sim-feed';
import { monotonicMs } from '../bench/lib/sim-feed';
import { sleep } from '../bench/lib/stats';
import { errorType, type Target } from '../bench/lib/targets';
import { OtpRequestError, type VerifyOtpResult } from '../client';

export interface SessionRecord {
  i: number;
  phone: string;
  /** Wall clock of the send call, ms epoch. */
  startedAt: number;
  /** Host monotonic clock of the call, ms (the simulator stamps submits with the same clock). */
  startedMono: number;
  endedAt?: number;
  /** The send's answer: "sent" or a typed refusal status. */
  status?: string;
  reason?: string;
  channel?: string;
  /** A thrown error, "Name[:type]". */
  error?: string;
  /** The error was an OtpRequestError with a type: the caller can act on it. */
  errorTyped?: boolean;
  verifyStarted?: boolean;
  /** The verify's answer; a thrown verify is retried like a user would, a few times. */
  verifyOutcome?: string;
  verifyValid?: boolean;
  verifyError?: string;
  verifyDone?: boolean;
}

export interface LoadSpec {
  rate: number;
  durationS: number;
  /** The number of the i-th session (distinct). */
  phone: (i: number) => string;
  target: Target;
  tenant: string;
  feed: SimFeed;
  /** A user's reading and typing time before the verify. */
  verifyAfterMs: number;
  /** Verifies a code; a retry after an error passes the same idempotency key, as a careful caller does. */
  verify: (phone: string, code: string, idempotencyKey: string) => Promise<VerifyOtpResult>;
}

const CODE = /code is (\d+)/;

export class OpenLoad {
  readonly records: SessionRecord[] = [];
  readonly byPhone = new Map<string, SessionRecord>();
  private readonly pending = new Set<Promise<void>>();
  private next = 0;
  private stopped = false;
  /** Samples of error messages by type (no numbers, no codes: the client's errors carry neither). */
  readonly errorSamples: Record<string, string> = {};

  constructor(private readonly spec: LoadSpec) {}

  /** Numbers of the next `n` sends not yet fired, to script them at the simulator first. */
  upcoming(n: number, skip = 0): string[] {
    return Array.from({ length: n }, (_, k) => this.spec.phone(this.next + skip + k));
  }

  get planned(): number {
    return Math.round(this.spec.rate * this.spec.durationS);
  }

  /** Fires every send on schedule; resolves when the last one has left (answers come later). */
  async run(): Promise<void> {
    this.spec.feed.onInbox = (m) => {
      const r = this.byPhone.get(m.to);
      if (r) this.maybeVerify(r, m.text);
    };
    const t0 = performance.now() + 50;
    const gap = 1000 / this.spec.rate;
    while (this.next < this.planned && !this.stopped) {
      // Catch up on every arrival that is due: the schedule never waits for replies.
      while (this.next < this.planned && t0 + this.next * gap <= performance.now()) this.fire(this.next++);
      if (this.next < this.planned) await sleep(t0 + this.next * gap - performance.now());
    }
  }

  stop(): void {
    this.stopped = true;
  }

  /** Waits for every send and verify in flight, at most `ms`. */
  async settle(ms: number): Promise<void> {
    const end = performance.now() + ms;
    while (this.pending.size && performance.now() < end) await sleep(100);
  }

  get inFlight(): number {
    return this.pending.size;
  }

  private track(p: Promise<void>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  private fire(i: number): void {
    const phone = this.spec.phone(i);
    const r: SessionRecord = { i, phone, startedAt: Date.now(), startedMono: monotonicMs() };
    this.records.push(r);
    this.byPhone.set(phone, r);
    this.track(
      this.spec.target.send(phone, this.spec.tenant).then(
        (o) => {
          r.endedAt = Date.now();
          r.status = o.status;
          r.reason = o.reason;
          r.channel = o.channel;
          // The SMS may have come before the answer.
          const sms = this.spec.feed.inboxByPhone.get(phone)?.[0];
          if (sms) this.maybeVerify(r, sms.text);
        },
        (err: unknown) => {
          r.endedAt = Date.now();
          r.error = errorType(err);
          r.errorTyped = err instanceof OtpRequestError && err.type !== undefined;
          this.errorSamples[r.error] ??= (err instanceof Error ? err.message : String(err)).replace(/\+?\d{6,}/g, '…').slice(0, 300);
          // A send that timed out may still have sent: its SMS, if it comes, is verified too.
          const sms = this.spec.feed.inboxByPhone.get(phone)?.[0];
          if (sms) this.maybeVerify(r, sms.text);
        },
      ),
    );
  }

  /** Verifies the first SMS's code once, after the reading time; a thrown verify is tried again (a user retries). */
  private maybeVerify(r: SessionRecord, text: string): void {
    if (r.verifyStarted || r.endedAt === undefined) return;
    r.verifyStarted = true;
    const code = CODE.exec(text)?.[1];
    if (!code) {
      r.verifyOutcome = 'no_code_in_sms';
      r.verifyValid = false;
      r.verifyDone = true;
      return;
    }
    this.track(
      (async () => {
        await sleep(this.spec.verifyAfterMs);
        for (let attempt = 1; ; attempt++) {
          try {
            const v = await this.spec.verify(r.phone, code, `chaos-verify-${r.i}`);
            r.verifyOutcome = v.outcome;
            r.verifyValid = v.valid;
            r.verifyError = undefined;
            break;
          } catch (err) {
            r.verifyError = errorType(err);
            this.errorSamples[`verify:${r.verifyError}`] ??= (err instanceof Error ? err.message : String(err)).replace(/\+?\d{6,}/g, '…').slice(0, 300);
            if (attempt >= 8) break;
            await sleep(2000);
          }
        }
        r.verifyDone = true;
      })(),
    );
  }

  /** Verifies sessions whose SMS came after their send's error was recorded (a late send), once. */
  verifyLate(): void {
    for (const r of this.records) {
      const sms = this.spec.feed.inboxByPhone.get(r.phone)?.[0];
      if (sms && !r.verifyStarted) this.maybeVerify(r, sms.text);
    }
  }
}
