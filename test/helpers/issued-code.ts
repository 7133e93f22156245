/** One issued SMS code as the session state holds it, for unit tests of the session's pure modules (workflows/session/). */
import type { RenderPlan } from '../../activities/types';
import type { IssuedCode } from '../../workflows/session/state';

/** A 5-minute login code issued at `atMs`, one SMS submitted (message m1) and unanswered; `over` sets what a test is about. */
export function issuedCode(atMs: number, over: Partial<IssuedCode> = {}): IssuedCode {
  return {
    seq: 1,
    nonce: 'n',
    digest: 'd',
    profile: 'login@x',
    channel: 'sms',
    callerCode: false,
    issuedAtMs: atMs,
    expiresAtMs: atMs + 300_000,
    maxAttempts: 5,
    attemptsUsed: 0,
    state: 'active',
    delivery: 'submitted',
    segments: 1,
    encoding: 'GSM7',
    locale: 'en',
    resend: { phone: '+33612345678', country: 'FR', render: {} as RenderPlan },
    retrySchedule: [20, 60],
    receiptTimeoutSeconds: 15,
    attempts: [{ atMs, route: 'smsc', parts: { m1: 'submitted' } }],
    retriesDone: 0,
    callbackSeq: 0,
    fallbackChannels: [],
    escalateAfterSeconds: 90,
    escalatedTo: [],
    ...over,
  };
}
