/**
 * Delivery decisions for one code: its status over segments and attempts,
 * receipts, when a staggered retry or a fallback channel is due. Pure.
 */
import type { DeliveryStatus, FallbackChannel, SessionReceipt } from '../../contract';
import type { IssuedCode } from './state';
import { destinationOf } from '../../policy/chain';

/** Receipt states worth a staggered retry; REJECTD means the carrier refused it for good. */
export const RETRYABLE_STATS = new Set(['UNDELIV', 'EXPIRED', 'DELETED', 'UNKNOWN']);

/** Any attempt fully delivered wins; else the latest attempt decides. */
export function aggregate(c: IssuedCode): { status: DeliveryStatus; stat?: string } {
  if (c.channel === 'sandbox') return { status: 'delivered' };
  if (c.channel === 'custom') return { status: 'pending' };
  // Decided once, by the POST's answer: no receipts follow.
  if (c.channel === 'webhook') return { status: c.delivery };
  if (c.attempts.some((a) => Object.values(a.parts).length > 0 && Object.values(a.parts).every((o) => o === 'delivered')))
    return { status: 'delivered', stat: 'DELIVRD' };
  const last = c.attempts[c.attempts.length - 1];
  if (last && Object.values(last.parts).some((o) => o === 'failed')) return { status: 'failed', stat: last.stat };
  return { status: 'submitted', stat: last?.stat };
}

/** Applies a receipt to the code it names. Returns false when it is not for this code or changes nothing. */
export function applyReceipt(c: IssuedCode | undefined, r: SessionReceipt): boolean {
  if (!c || c.seq !== r.codeSeq || r.outcome === 'pending') return false;
  const attempt = c.attempts.find((a) => r.messageId in a.parts);
  if (!attempt) return false;
  if (attempt.parts[r.messageId] === r.outcome && attempt.stat === r.stat) return false;
  attempt.parts[r.messageId] = r.outcome;
  attempt.stat = r.stat;
  return true;
}

/** Messages of this code with no final receipt yet, with their route. */
export function unanswered(c: IssuedCode): { route: string; messageId: string }[] {
  return c.attempts.flatMap((a) =>
    a.route
      ? Object.entries(a.parts)
          .filter(([, o]) => o === 'submitted')
          .map(([messageId]) => ({ route: a.route!, messageId }))
      : [],
  );
}

/** False once the code is delivered, or its latest send failed for good (e.g. REJECTD), or failed in a way a fallback should take over (v6). */
export function retryable(c: IssuedCode): boolean {
  if (!c.resend || c.delivery === 'delivered' || !c.attempts.length) return false;
  // v7: past the SMS step, the SMS is not tried again.
  if (c.chain && c.chain.at > 0) return false;
  const last = c.attempts[c.attempts.length - 1];
  if (escalatesNow(c)) return false;
  return !(last.stat && !RETRYABLE_STATS.has(last.stat) && Object.values(last.parts).some((o) => o === 'failed'));
}

/** v6: the latest SMS attempt failed with a state the profile escalates on, and a fallback channel is still to try. */
export function escalatesNow(c: IssuedCode): boolean {
  if (!c.escalateOnStats || c.delivery !== 'failed' || c.escalatedTo.length > 0 || !c.attempts.length || !pendingFallbacks(c).length) return false;
  const last = c.attempts[c.attempts.length - 1];
  return !!last.stat && c.escalateOnStats.includes(last.stat) && Object.values(last.parts).some((o) => o === 'failed');
}

/** When the next staggered retry is due, or undefined when none will be. */
export function nextRetryAtMs(c: IssuedCode): number | undefined {
  if (!retryable(c) || c.retriesDone >= c.retrySchedule.length) return undefined;
  const last = c.attempts[c.attempts.length - 1];
  const at = Math.max(c.attempts[0].atMs + c.retrySchedule[c.retriesDone] * 1000, last.atMs + c.receiptTimeoutSeconds * 1000);
  return at < c.expiresAtMs ? at : undefined; // a retry after expiry cannot help anyone
}

/** The SMS failed for good: REJECTD, or failed with every staggered retry used. */
export function finalSmsFailure(c: IssuedCode): boolean {
  return c.channel === 'sms' && c.delivery === 'failed' && (!retryable(c) || c.retriesDone >= c.retrySchedule.length);
}

/** Fallback channels still to try, in order, each with a destination for this send (v7: the chain's later steps). */
export function pendingFallbacks(c: IssuedCode): FallbackChannel[] {
  if (!c.fallback || c.channel !== 'sms' || c.callerCode) return [];
  if (c.chain) return c.chain.steps.slice(c.chain.at + 1).flatMap((s) => (s.channel !== 'sms' && destinationOf(c.fallback, s.channel) ? [s.channel] : []));
  return (c.fallbackChannels ?? []).filter((ch) => !c.escalatedTo.includes(ch) && (ch === 'email' ? !!c.fallback?.email : !!c.fallback?.webhookUrl));
}

/** When to try the next fallback channel: escalateAfterSeconds per step, or now once the SMS failed for good. */
export function nextEscalationAtMs(c: IssuedCode, now: number): number | undefined {
  if (c.delivery === 'delivered' || !c.attempts.length || !pendingFallbacks(c).length) return undefined;
  const step = (c.escalatedTo.length + 1) * c.escalateAfterSeconds * 1000;
  const at = (finalSmsFailure(c) || escalatesNow(c)) && c.escalatedTo.length === 0 ? now : c.attempts[0].atMs + step;
  return at < c.expiresAtMs ? at : undefined;
}
