/**
 * The session's search attributes, computed from its state (pure), and the
 * part that differs from what the workflow already carries: each upsert is a
 * history event, so only changed values are written.
 */
import type { SearchAttributeType, SearchAttributeUpdatePair, TypedSearchAttributes } from '@temporalio/common';
import { OTP_SEARCH_ATTRIBUTES, callingCodeOfMasked, type OtpSearchStatus, type OtpSearchValues } from '../../contract';
import { finalSmsFailure } from './delivery';
import { lockedUntil } from './lockout';
import { profileName, type SessionState } from './state';

/** A refusal worth finding: an overloaded one leaves nothing behind (the session ends), so it is not indexed. */
const refusedForGood = (s: SessionState) => s.events.some((e) => e.type === 'refused' && !e.detail.startsWith('overloaded'));

/**
 * The values for the session's state, or undefined while there is nothing to find it by (no code,
 * no refusal but overloaded). With `startIndexed` (v5: the client set `pending` at start), a session
 * refused only as overloaded is `refused`, so it does not stay listed as pending.
 */
export function searchValues(s: SessionState, tenant: string, masked: string | undefined, now: number, startIndexed = false): OtpSearchValues | undefined {
  const c = s.current;
  const overloadedOnly = !c && s.codeSeq === 0 && !refusedForGood(s);
  if (overloadedOnly && !(startIndexed && s.events.some((e) => e.type === 'refused'))) return undefined;
  const countryCode = callingCodeOfMasked(masked);
  const base: OtpSearchValues = { tenant, ...(countryCode ? { countryCode } : {}) };
  const sessionLocked = lockedUntil(s.lockout, now) !== undefined;
  if (!c) {
    if (sessionLocked) return { ...base, status: 'locked' };
    // codeSeq counts codes whose dispatch failed too: a first send that never got out.
    if (s.codeSeq > 0) return { ...base, status: 'failed' };
    return { ...base, status: 'refused' };
  }
  return {
    ...base,
    profile: profileName(c),
    purpose: c.purpose ?? 'login',
    status: sessionLocked ? 'locked' : s.codeSeq > c.seq ? 'failed' : codeStatus(c, now),
    channel: c.escalatedTo[c.escalatedTo.length - 1] ?? c.channel,
    delivery: c.delivery,
    codeExpiresAt: new Date(c.expiresAtMs),
  };
}

/** How long after a code's issue a `pending` index may wait for the session's next step (a receipt usually lands well within). */
export const PENDING_INDEX_GRACE_MS = 10_000;

/**
 * v5: the send's own step writes nothing while the index already says `pending` and the code is
 * fresh: its receipt, a verify or a retry writes the details in the same upsert as its own change,
 * one history event fewer per send. A refusal or a failure is written at once (it is not pending).
 */
export function pendingStaysIndexed(values: OtpSearchValues, current: TypedSearchAttributes, s: SessionState, now: number): boolean {
  const c = s.current;
  return (
    values.status === 'pending' && current.get(OTP_SEARCH_ATTRIBUTES.status) === 'pending' && c !== undefined && now - c.issuedAtMs < PENDING_INDEX_GRACE_MS
  );
}

function codeStatus(c: NonNullable<SessionState['current']>, now: number): OtpSearchStatus {
  if (c.state === 'active' && now >= c.expiresAtMs) return 'expired';
  if (c.state !== 'active') return c.state;
  if (c.delivery === 'delivered') return 'delivered';
  // A webhook POST that failed is final; an SMS is final once retries are used and no fallback took over.
  if (c.delivery === 'failed' && c.escalatedTo.length === 0 && (c.channel === 'webhook' || finalSmsFailure(c))) return 'failed';
  return 'pending';
}

/** The pairs whose value differs from `current` (the workflow's own attributes), ready for upsertSearchAttributes. */
export function changedSearchAttributes(values: OtpSearchValues, current: TypedSearchAttributes): SearchAttributeUpdatePair[] {
  const out: SearchAttributeUpdatePair[] = [];
  for (const name of Object.keys(OTP_SEARCH_ATTRIBUTES) as (keyof OtpSearchValues)[]) {
    const value = values[name];
    if (value === undefined) continue;
    const key = OTP_SEARCH_ATTRIBUTES[name];
    const had: unknown = current.get(key as { name: string; type: SearchAttributeType });
    const same = value instanceof Date ? had instanceof Date && had.getTime() === value.getTime() : had === value;
    if (!same) out.push({ key, value } as SearchAttributeUpdatePair);
  }
  return out;
}
