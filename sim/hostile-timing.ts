/**
 * Hostile timing for the SMSC simulator: what real SMSCs do to an ESME that
 * the happy path never shows. Scripted per destination (slow or missing
 * submit_sm_resp, refused segments) and per account, i.e. per bind's
 * system_id (refused credentials, accept-then-drop, window and TPS
 * enforcement answered with ESME_RTHROTTLED, then generic_nack or unbind).
 */
import type * as smpp from 'smpp';
import { SMPP_STATUS } from '../smpp/errors';

export interface DestinationTiming {
  /** Delay before the submit_sm_resp in ms; null never answers until releaseResponses() (the message is still accepted and delivered). @default 0 */
  responseDelayMs?: number | null;
  /** Answer these concatenation segment numbers (1-based) with `status` instead of accepting them; `times` submits at most. @default times Infinity */
  refuseSegments?: { seqs: number[]; status: number; times?: number };
}

export interface AccountScript {
  /** Answer every bind_* with this command_status, e.g. ESME_RINVPASWD (0x0E). */
  refuseBind?: number;
  /** Accept the bind, then drop the connection this many ms later. */
  dropAfterBindMs?: number;
  /** Outstanding submit_sm allowed per session; more are answered ESME_RTHROTTLED. */
  window?: number;
  /** submit_sm per second allowed for the account (all its sessions); more are answered ESME_RTHROTTLED. */
  tps?: number;
  /** Throttled submits in a row on one session before the next is answered with `escalation`. @default Infinity (never escalate) */
  escalateAfter?: number;
  /** @default 'generic_nack' */
  escalation?: 'generic_nack' | 'unbind';
}

/** What the simulator must do with one submit_sm before it looks at the message. */
export type Admission = { kind: 'accept' } | { kind: 'refuse'; status: number } | { kind: 'generic_nack'; status: number } | { kind: 'unbind' };

export class HostileTiming {
  private readonly destinations = new Map<string, DestinationTiming>();
  private readonly accounts = new Map<string, AccountScript>();
  private readonly refusedSegments = new Map<string, number>();
  /** bind_* PDUs seen per system_id, refused ones included. */
  readonly bindAttempts = new Map<string, number>();
  /** Binds dropped right after they were accepted, per system_id. */
  readonly dropsAfterBind = new Map<string, number>();
  private readonly strikes = new WeakMap<smpp.Session, number>();
  private readonly sentAt = new Map<string, number[]>();
  private readonly held: (() => void)[] = [];

  setDestination(to: string, timing: DestinationTiming | null): void {
    if (timing) this.destinations.set(to, timing);
    else this.destinations.delete(to);
  }

  setAccount(systemId: string, script: AccountScript | null): void {
    if (script) this.accounts.set(systemId, script);
    else this.accounts.delete(systemId);
  }

  /** submit_sm_resp held back (responseDelayMs null) so far. */
  get heldResponses(): number {
    return this.held.length;
  }

  /** Sends every held submit_sm_resp now: the late response of a submit the ESME gave up waiting for. */
  releaseResponses(): number {
    const all = this.held.splice(0);
    for (const send of all) send();
    return all.length;
  }

  /** A bind_* arrived: the status to refuse it with, or null to check credentials as usual. */
  onBind(systemId: string): number | null {
    this.bindAttempts.set(systemId, (this.bindAttempts.get(systemId) ?? 0) + 1);
    return this.accounts.get(systemId)?.refuseBind ?? null;
  }

  /** A bind was accepted: drop it later when the account says so. */
  afterBind(systemId: string, drop: () => void, later: (ms: number, fn: () => void) => void): void {
    const ms = this.accounts.get(systemId)?.dropAfterBindMs;
    if (ms === undefined) return;
    later(ms, () => {
      this.dropsAfterBind.set(systemId, (this.dropsAfterBind.get(systemId) ?? 0) + 1);
      drop();
    });
  }

  /** Window and TPS enforcement; `outstanding` counts this submit. */
  admit(session: smpp.Session, systemId: string, outstanding: number, now = Date.now()): Admission {
    const a = this.accounts.get(systemId);
    if (!a || (a.window === undefined && a.tps === undefined)) return { kind: 'accept' };
    let over = a.window !== undefined && outstanding > a.window;
    if (a.tps !== undefined) {
      const recent = (this.sentAt.get(systemId) ?? []).filter((t) => t > now - 1000);
      if (recent.length >= a.tps) over = true;
      else recent.push(now);
      this.sentAt.set(systemId, recent);
    }
    if (!over) {
      this.strikes.set(session, 0);
      return { kind: 'accept' };
    }
    const strikes = (this.strikes.get(session) ?? 0) + 1;
    this.strikes.set(session, strikes);
    if (strikes > (a.escalateAfter ?? Infinity)) {
      return (a.escalation ?? 'generic_nack') === 'unbind' ? { kind: 'unbind' } : { kind: 'generic_nack', status: SMPP_STATUS.ESME_RTHROTTLED };
    }
    return { kind: 'refuse', status: SMPP_STATUS.ESME_RTHROTTLED };
  }

  /** The status to refuse this segment with, or null to accept it. */
  segmentRefusal(to: string, seq: number | undefined): number | null {
    const r = this.destinations.get(to)?.refuseSegments;
    if (!r || seq === undefined || !r.seqs.includes(seq)) return null;
    const used = this.refusedSegments.get(to) ?? 0;
    if (used >= (r.times ?? Infinity)) return null;
    this.refusedSegments.set(to, used + 1);
    return r.status;
  }

  /** Sends the submit_sm_resp now, later, or when released. */
  respond(to: string, send: () => void, later: (ms: number, fn: () => void) => void): boolean {
    const t = this.destinations.get(to);
    if (!t || t.responseDelayMs === undefined) return false;
    if (t.responseDelayMs === null) this.held.push(send);
    else later(t.responseDelayMs, send);
    return true;
  }
}

/** The concatenation IE of a segment's UDH: 8-bit (00 03) or 16-bit (08 04) reference. */
export function concatOf(udh: Buffer[]): { ref: number; bits: 8 | 16; total: number; seq: number } | undefined {
  for (const ie of udh) {
    if (ie[0] === 0x00 && ie[1] === 0x03) return { ref: ie[2], bits: 8, total: ie[3], seq: ie[4] };
    if (ie[0] === 0x08 && ie[1] === 0x04) return { ref: ie.readUInt16BE(2), bits: 16, total: ie[4], seq: ie[5] };
  }
  return undefined;
}
