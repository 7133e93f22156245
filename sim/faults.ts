/**
 * SMSC-wide faults for a chaos run (chaos/), switched on over HTTP
 * (`POST /faults`) while load runs: unlike the per-destination scripts of
 * hostile-timing.ts, they hit every message of a time window, whatever its
 * number, as a failing carrier does.
 */

export const SIM_FAULT_KINDS = ['drop', 'unbind', 'nack', 'throttle', 'slow', 'receipt-delay', 'unknown-receipts', 'malformed-receipts'] as const;
export type SimFaultKind = (typeof SIM_FAULT_KINDS)[number];

export interface SimFaultRequest {
  kind: SimFaultKind;
  /**
   * How long the fault lasts, ms. drop: how long submit_sm_resp are held
   * before every connection is dropped (the window in flight); nack, throttle,
   * slow, receipt-delay: the window it applies to; malformed-receipts: how long
   * the bind script stays. Others ignore it.
   */
  ms?: number;
  /** slow: submit_sm_resp delay; receipt-delay: extra receipt delay. ms. */
  delayMs?: number;
  /** unknown-receipts, malformed-receipts: how many. @default 5 */
  count?: number;
}

/** What the simulator must do with a submit_sm under the current faults. */
export type FaultAdmission = 'accept' | 'generic_nack' | 'throttle';

/** Parses a request body; throws with a message for the HTTP 400 answer. */
export function parseFaultRequest(body: unknown): SimFaultRequest {
  if (typeof body !== 'object' || body === null) throw new Error('body must be a JSON object');
  const b = body as Record<string, unknown>;
  if (typeof b.kind !== 'string' || !(SIM_FAULT_KINDS as readonly string[]).includes(b.kind))
    throw new Error(`kind must be one of ${SIM_FAULT_KINDS.join(', ')}`);
  const num = (name: string): number | undefined => {
    const v = b[name];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 3_600_000) throw new Error(`${name} must be an integer from 0 to 3600000`);
    return v;
  };
  return { kind: b.kind as SimFaultKind, ms: num('ms'), delayMs: num('delayMs'), count: num('count') };
}

/** Timed fault windows; the simulator asks it at each submit, response and receipt. */
export class SimFaults {
  private nackUntil = 0;
  private throttleUntil = 0;
  private slowUntil = 0;
  private slowMs = 0;
  private receiptDelayUntil = 0;
  private receiptDelayMs = 0;
  private holdUntil = 0;
  /** submit_sm_resp held for a drop: discarded when the connections go. */
  private held: (() => void)[] = [];
  /** Faults applied so far, by kind, for GET /faults. */
  readonly applied: Partial<Record<SimFaultKind, number>> = {};

  constructor(private readonly now: () => number = Date.now) {}

  /** Records a timed fault; instant ones (unbind, unknown and malformed receipts) are acted on by the simulator. */
  start(f: SimFaultRequest): void {
    this.applied[f.kind] = (this.applied[f.kind] ?? 0) + 1;
    const until = this.now() + (f.ms ?? 0);
    if (f.kind === 'nack') this.nackUntil = until;
    else if (f.kind === 'throttle') this.throttleUntil = until;
    else if (f.kind === 'slow') {
      this.slowUntil = until;
      this.slowMs = f.delayMs ?? 2000;
    } else if (f.kind === 'receipt-delay') {
      this.receiptDelayUntil = until;
      this.receiptDelayMs = f.delayMs ?? 120_000;
    } else if (f.kind === 'drop') this.holdUntil = until;
  }

  admission(): FaultAdmission {
    const t = this.now();
    if (t < this.nackUntil) return 'generic_nack';
    if (t < this.throttleUntil) return 'throttle';
    return 'accept';
  }

  /** Takes over a submit_sm_resp (held for a drop, or late); false: send it as usual. */
  respond(send: () => void, later: (ms: number, fn: () => void) => void): boolean {
    const t = this.now();
    if (t < this.holdUntil) {
      this.held.push(send);
      return true;
    }
    if (t < this.slowUntil) {
      later(this.slowMs, send);
      return true;
    }
    return false;
  }

  /** Extra delay of the receipt of a message accepted now. */
  extraReceiptDelay(): number {
    return this.now() < this.receiptDelayUntil ? this.receiptDelayMs : 0;
  }

  /** The drop happened: held answers are never sent (their connections are gone). */
  discardHeld(): number {
    const n = this.held.length;
    this.held = [];
    this.holdUntil = 0;
    return n;
  }

  get heldResponses(): number {
    return this.held.length;
  }

  clear(): void {
    this.nackUntil = this.throttleUntil = this.slowUntil = this.receiptDelayUntil = this.holdUntil = 0;
    this.held = [];
  }

  state(): Record<string, unknown> {
    const t = this.now();
    const left = (until: number) => Math.max(0, until - t);
    return {
      applied: this.applied,
      nackMs: left(this.nackUntil),
      throttleMs: left(this.throttleUntil),
      slowMs: left(this.slowUntil),
      receiptDelayMs: left(this.receiptDelayUntil),
      holdMs: left(this.holdUntil),
      heldResponses: this.held.length,
    };
  }
}
