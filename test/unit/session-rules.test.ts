/**
 * The session's rules as pure modules, without a server: resend rules
 * (policy/resend.ts), verify (workflows/session/verify.ts) and delivery,
 * retries and escalation (workflows/session/delivery.ts).
 */
import { issuedCode } from '../helpers/issued-code';
import { nextSendAtMs, resendDecision, shouldRedeliver, type CurrentCode } from '../../policy/resend';
import {
  aggregate,
  applyReceipt,
  finalSmsFailure,
  nextEscalationAtMs,
  nextRetryAtMs,
  pendingFallbacks,
  retryable,
  unanswered,
} from '../../workflows/session/delivery';
import { newLockout, lockedUntil, lockoutRulesOf } from '../../workflows/session/lockout';
import { newSession, type IssuedCode } from '../../workflows/session/state';
import { verifyCode, type VerifyCandidate } from '../../workflows/session/verify';

/** A login verify of the code whose digest is `d`. */
const login = (d: string, over: Partial<VerifyCandidate> = {}): VerifyCandidate => ({ digests: { '': d }, purpose: 'login', ...over });

const rules = { resendCooldownSeconds: 30, sendWindowSeconds: 600, maxSendsPerWindow: 3 };
const T = 1_800_000_000_000;

function code(over: Partial<IssuedCode> = {}): IssuedCode {
  return issuedCode(T, { digest: 'digest-of-the-right-code', maxAttempts: 3, fallbackChannels: ['email', 'webhook'], ...over });
}

describe('resend rules', () => {
  test('the cooldown refuses with the instant a send may go', () => {
    expect(resendDecision(rules, { sends: [T], lastSendAtMs: T }, T + 10_000)).toEqual({
      status: 'rate_limited',
      reason: 'resend_cooldown',
      retryAfterSeconds: 20,
      retryAt: new Date(T + 30_000).toISOString(),
    });
    expect(resendDecision(rules, { sends: [T], lastSendAtMs: T }, T + 30_000)).toBeUndefined();
  });

  test('the window refuses the fourth send in ten minutes until the first leaves it', () => {
    const sends = [T, T + 60_000, T + 120_000];
    expect(resendDecision(rules, { sends, lastSendAtMs: sends[2] }, T + 200_000)).toMatchObject({
      reason: 'too_many_sends',
      retryAt: new Date(T + 600_000).toISOString(),
    });
    expect(nextSendAtMs(rules, { sends, lastSendAtMs: sends[2] }, T + 200_000)).toBe(T + 600_000);
    expect(resendDecision(rules, { sends, lastSendAtMs: sends[2] }, T + 600_001)).toBeUndefined();
  });

  test('only an active SMS code whose delivery failed is re-delivered as is', () => {
    const failed: CurrentCode = {
      seq: 1,
      nonce: 'n',
      state: 'active',
      delivery: 'failed',
      profile: 'login@x',
      channel: 'sms',
      callerCode: false,
      expiresAtMs: T + 1000,
    };
    expect(shouldRedeliver(failed, 'login@x', undefined, T)).toBe(true);
    expect(shouldRedeliver(failed, 'login@y', undefined, T)).toBe(false);
    expect(shouldRedeliver(failed, 'login@x', '123456', T)).toBe(false);
    expect(shouldRedeliver({ ...failed, delivery: 'delivered' }, 'login@x', undefined, T)).toBe(false);
    expect(shouldRedeliver(failed, 'login@x', undefined, T + 1000)).toBe(false);
  });
});

describe('verify', () => {
  test('right code verifies once; a repeat says already_verified', () => {
    const s = newSession();
    s.current = code();
    expect(verifyCode(s, login('digest-of-the-right-code'), T).outcome).toBe('verified');
    expect(verifyCode(s, login('digest-of-the-right-code'), T).outcome).toBe('already_verified');
  });

  test('wrong codes count down and lock; the right code is then refused', () => {
    const s = newSession();
    s.current = code();
    expect(verifyCode(s, login('wrong-digest-000000'), T)).toMatchObject({ outcome: 'invalid_code' });
    expect(verifyCode(s, login('wrong-digest-000000'), T)).toMatchObject({ outcome: 'invalid_code' });
    expect(verifyCode(s, login('wrong-digest-000000'), T)).toMatchObject({ outcome: 'invalid_code', lockedNow: true });
    expect(verifyCode(s, login('digest-of-the-right-code'), T).outcome).toBe('locked');
  });

  test('expired, cancelled, absent; the replaced code verifies within its grace window only', () => {
    const s = newSession();
    expect(verifyCode(s, login('x'.repeat(20)), T).outcome).toBe('not_found');
    s.current = code();
    expect(verifyCode(s, login('digest-of-the-right-code'), T + 300_000).outcome).toBe('expired');
    s.current = code({ state: 'cancelled' });
    expect(verifyCode(s, login('digest-of-the-right-code'), T).outcome).toBe('cancelled');
    s.current = code({ seq: 2, digest: 'digest-of-the-new-code' });
    s.previous = { ...code(), graceUntilMs: T + 10_000 };
    expect(verifyCode(s, login('digest-of-the-right-code'), T + 5_000).outcome).toBe('verified');
    s.current = code({ seq: 2, digest: 'digest-of-the-new-code' });
    s.previous = { ...code(), graceUntilMs: T + 10_000 };
    expect(verifyCode(s, login('digest-of-the-right-code'), T + 11_000).outcome).toBe('invalid_code');
  });
});

describe('delivery, retries and escalation', () => {
  test('a receipt for the code updates its segment; others are ignored', () => {
    const c = code();
    const r = { messageId: 'm1', stat: 'DELIVRD', outcome: 'delivered' as const, err: '000', receivedAt: '', codeSeq: 1 };
    expect(applyReceipt(c, { ...r, codeSeq: 2 })).toBe(false);
    expect(applyReceipt(c, { ...r, messageId: 'other' })).toBe(false);
    expect(applyReceipt(c, { ...r, outcome: 'pending', stat: 'ENROUTE' })).toBe(false);
    expect(applyReceipt(c, r)).toBe(true);
    expect(applyReceipt(c, r)).toBe(false); // the same receipt twice changes nothing
    expect(aggregate(c)).toEqual({ status: 'delivered', stat: 'DELIVRD' });
    expect(unanswered(c)).toEqual([]);
  });

  test('no receipt: the first retry is due at +20 s, the second at +60 s, none after expiry', () => {
    const c = code();
    expect(unanswered(c)).toEqual([{ route: 'smsc', messageId: 'm1' }]);
    expect(nextRetryAtMs(c)).toBe(T + 20_000);
    c.retriesDone = 1;
    c.attempts.push({ atMs: T + 20_000, route: 'smsc', parts: { m2: 'submitted' } });
    expect(nextRetryAtMs(c)).toBe(T + 60_000);
    c.retriesDone = 2;
    expect(nextRetryAtMs(c)).toBeUndefined();
    expect(nextRetryAtMs(code({ expiresAtMs: T + 10_000 }))).toBeUndefined();
  });

  test('a delivered code is never retried; REJECTD stops retries and escalates at once', () => {
    const delivered = code({ delivery: 'delivered' });
    expect(retryable(delivered)).toBe(false);
    const rejected = code({ fallback: { email: 'a@b.example' } });
    applyReceipt(rejected, { messageId: 'm1', stat: 'REJECTD', outcome: 'failed', err: '001', receivedAt: '', codeSeq: 1 });
    rejected.delivery = aggregate(rejected).status;
    expect(retryable(rejected)).toBe(false);
    expect(finalSmsFailure(rejected)).toBe(true);
    expect(nextEscalationAtMs(rejected, T + 1_000)).toBe(T + 1_000);
  });

  test('escalation follows the profile order, only to contacts given, every escalateAfterSeconds', () => {
    const c = code({ fallback: { webhookUrl: 'https://hooks.example/otp' } });
    expect(pendingFallbacks(c)).toEqual(['webhook']);
    expect(nextEscalationAtMs(c, T)).toBe(T + 90_000);
    c.escalatedTo.push('webhook');
    expect(nextEscalationAtMs(c, T)).toBeUndefined();
    expect(pendingFallbacks(code())).toEqual([]);
    expect(pendingFallbacks(code({ callerCode: true, fallback: { email: 'a@b.example' } }))).toEqual([]);
  });
});

describe('what a code confirms', () => {
  test('a code is verified only for the profile and the context it was sent with, and a mismatch uses no attempt', () => {
    const s = newSession();
    s.current = code({ profile: 'payments@abc', purpose: 'transaction', context: 'Pay €500 to Alice' });
    expect(verifyCode(s, login('digest-of-the-right-code'), T).outcome).toBe('purpose_mismatch');
    expect(verifyCode(s, login('digest-of-the-right-code', { purpose: 'transaction', profile: 'login' }), T).outcome).toBe('purpose_mismatch');
    expect(verifyCode(s, login('digest-of-the-right-code', { purpose: 'transaction', context: 'Pay €900 to Mallory' }), T).outcome).toBe('context_mismatch');
    expect(verifyCode(s, login('digest-of-the-right-code', { purpose: 'transaction' }), T).outcome).toBe('context_mismatch');
    expect(s.current.attemptsUsed).toBe(0);
    expect(verifyCode(s, login('digest-of-the-right-code', { purpose: 'transaction', profile: 'payments', context: ' Pay €500 to Alice ' }), T).outcome).toBe(
      'verified',
    );
  });

  test('the other codes a custom-channel send answered with verify too', () => {
    const s = newSession();
    s.current = code({ altDigests: ['digest-of-a-retry-code'] });
    expect(verifyCode(s, login('digest-of-a-retry-code'), T).outcome).toBe('verified');
  });
});

describe('session lockout', () => {
  const lockRules = lockoutRulesOf({});

  test('wrong codes count across resends: a new code does not bring fresh attempts', () => {
    const s = newSession();
    s.lockout = newLockout();
    s.lockoutRules = lockRules;
    let t = T;
    for (let seq = 1; seq <= 2; seq++) {
      s.current = code({ seq, issuedAtMs: t, expiresAtMs: t + 300_000, maxAttempts: 5 });
      for (let i = 0; i < 5; i++) verifyCode(s, login(`wrong-${seq}-${i}-00000000`), (t += 1000));
    }
    expect(lockedUntil(s.lockout, t)).toBe(t + 900_000);
    // A third code, sent after the lock (or by a worker that missed it), still answers locked.
    s.current = code({ seq: 3, issuedAtMs: t, expiresAtMs: t + 300_000 });
    expect(verifyCode(s, login('digest-of-the-right-code'), t + 1000)).toMatchObject({ outcome: 'locked', lockedUntilMs: t + 900_000 });
    // After the lock, a new code verifies.
    s.current = code({ seq: 4, issuedAtMs: t + 900_000, expiresAtMs: t + 1_200_000 });
    expect(verifyCode(s, login('digest-of-the-right-code'), t + 900_001).outcome).toBe('verified');
  });

  /** Plays an attacker who guesses every `gapMs` (whenever the session lets it) for 30 days; returns the most wrong codes in any 24 h. */
  function worstDay(gapMs: number): number {
    const s = newSession();
    s.lockout = newLockout();
    s.lockoutRules = lockRules;
    let t = T;
    const failures: number[] = [];
    let seq = 0;
    while (t < T + 30 * 86_400_000) {
      const until = lockedUntil(s.lockout, t);
      if (until !== undefined) {
        t = until;
        continue;
      }
      if (!s.current || s.current.state !== 'active' || t >= s.current.expiresAtMs)
        s.current = code({ seq: ++seq, issuedAtMs: t, expiresAtMs: t + 300_000, maxAttempts: 5 });
      const d = verifyCode(s, login('wrong-guess-000000000'), t);
      if (d.outcome === 'invalid_code') failures.push(t);
      t += gapMs;
    }
    let worst = 0;
    for (let i = 0, j = 0; i < failures.length; i++) {
      while (failures[j] <= failures[i] - 86_400_000) j++;
      worst = Math.max(worst, i - j + 1);
    }
    return worst;
  }

  test.each([
    ['as fast as it can', 1000],
    ['9 an hour, under the hourly limit', 400_000],
    ['one every 10 minutes', 600_000],
    ['one every 20 minutes', 1_200_000],
  ])('an attacker guessing %s stays under 100 wrong codes in any 24 h (NIST SP 800-63B)', (_how, gapMs) => {
    const worst = worstDay(gapMs);
    expect(worst).toBeLessThan(100);
    expect(worst).toBeGreaterThanOrEqual(10);
  });

  test('a guess compared with several live codes counts as several', () => {
    const s = newSession();
    s.lockout = newLockout();
    s.lockoutRules = lockRules;
    s.current = code({ seq: 2, digest: 'digest-of-the-new-code', maxAttempts: 5, altDigests: ['alt-1', 'alt-2'] });
    s.previous = { ...code(), graceUntilMs: T + 10_000 };
    verifyCode(s, login('wrong-guess-000000000'), T + 1000);
    expect(s.lockout.failures).toHaveLength(4);
  });
});
