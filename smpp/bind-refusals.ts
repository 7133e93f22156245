/**
 * Bind refusals. An SMSC that refuses our credentials will refuse them again,
 * and carriers lock an account after a few failed logins. So a refusal of the
 * credentials waits minutes, not seconds, before the next bind, and after
 * `maxBindRefusals` of them in a row (all binds of the route together: they
 * share the account) the route stops binding until an operator resets it
 * (reset(), POST /binds/reset on the worker's status port) or the worker
 * restarts. An accepted bind clears the count.
 */
import { EventEmitter } from 'node:events';
import { SMPP_STATUS, statusName } from './errors';

export interface BindRefusalOptions {
  /** Wait after the SMSC refused our credentials before any bind of the route tries again. @default 300000 (5 min) */
  bindRefusedBackoffMs?: number;
  /** Credential refusals in a row, over all binds of the route, after which it stops binding until reset or restart. @default 3 */
  maxBindRefusals?: number;
}

export const DEFAULT_BIND_REFUSED_BACKOFF_MS = 300_000;
export const DEFAULT_MAX_BIND_REFUSALS = 3;

/** ESME_RINVSYSTYP is not in SMPP_STATUS: only binds answer with it. */
const ESME_RINVSYSTYP = 0x53;

/** Refusals that mean "these credentials are wrong": retrying soon cannot help and may lock the account. */
const CREDENTIAL_REFUSALS: Record<number, string> = {
  [SMPP_STATUS.ESME_RBINDFAIL]: 'bind failed',
  [SMPP_STATUS.ESME_RINVPASWD]: 'invalid password',
  [SMPP_STATUS.ESME_RINVSYSID]: 'invalid system_id',
  [ESME_RINVSYSTYP]: 'invalid system_type',
};

export function isCredentialRefusal(status: number): boolean {
  return status in CREDENTIAL_REFUSALS;
}

/** e.g. "bind refused by the SMSC: invalid password (0x0E)". */
export function describeBindRefusal(status: number): string {
  const what = CREDENTIAL_REFUSALS[status] ?? statusName(status);
  return `bind refused by the SMSC: ${what} (0x${status.toString(16).toUpperCase().padStart(2, '0')})`;
}

/** Shared by the binds of one route. Emits 'reset' when an operator clears a stop. */
export class BindRefusals extends EventEmitter {
  /** Credential refusals in a row. */
  count = 0;
  /** Why the last bind was refused, for status and send errors. */
  reason?: string;
  private notBefore = 0;
  /** After a refusal one bind at a time probes the account, so N binds cost one failed login, not N. */
  private probing = false;
  readonly backoffMs: number;
  readonly max: number;

  constructor(opts: BindRefusalOptions = {}) {
    super();
    this.backoffMs = opts.bindRefusedBackoffMs ?? DEFAULT_BIND_REFUSED_BACKOFF_MS;
    this.max = opts.maxBindRefusals ?? DEFAULT_MAX_BIND_REFUSALS;
  }

  get stopped(): boolean {
    return this.count >= this.max;
  }

  /** May a bind try now? After a refusal only one at a time; call settled() when its attempt ends. */
  tryBind(now = Date.now()): boolean {
    if (this.waitMs(now) > 0) return false;
    if (this.count === 0) return true;
    if (this.probing) return false;
    this.probing = true;
    return true;
  }

  /** A bind attempt that tryBind() allowed is over (bound, refused or failed). */
  settled(): void {
    this.probing = false;
  }

  refused(status: number, now = Date.now()): void {
    this.count++;
    this.reason = describeBindRefusal(status);
    this.notBefore = now + this.backoffMs;
  }

  accepted(): void {
    this.count = 0;
    this.reason = undefined;
    this.notBefore = 0;
  }

  /** How long a bind must wait before it may try: Infinity once stopped. */
  waitMs(now = Date.now()): number {
    if (this.stopped) return Infinity;
    return Math.max(0, this.notBefore - now);
  }

  /** Why binds are held back right now, or undefined when they may try. */
  blocking(now = Date.now()): string | undefined {
    if (!this.reason || this.waitMs(now) === 0) return undefined;
    return this.stopped
      ? `${this.reason}; stopped after ${this.count} refusal${this.count === 1 ? '' : 's'} (fix the credentials, then restart the worker or POST /binds/reset)`
      : `${this.reason}; next bind in ${Math.ceil(this.waitMs(now) / 1000)} s`;
  }

  /** Operator: try again now. */
  reset(): void {
    const wasHeld = this.count > 0;
    this.accepted();
    if (wasHeld) this.emit('reset');
  }

  describe(): { refusals: number; stopped: boolean; reason: string | null; nextBindInMs: number | null } {
    const wait = this.waitMs();
    return { refusals: this.count, stopped: this.stopped, reason: this.reason ?? null, nextBindInMs: wait === Infinity ? null : wait };
  }
}
