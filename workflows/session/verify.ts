/**
 * The verify decision. Pure and synchronous: the update handler calls it with
 * no await in between, so concurrent verifies are serialised and at most one wins.
 */
import type { VerifyOutcome } from '../../contract';
import { constantTimeEqual } from '../constant-time';
import { expireIfDue, type IssuedCode, type SessionState } from './state';

export interface VerifyDecision {
  outcome: VerifyOutcome;
  /** The code the outcome is about (attempts remaining are counted on it). */
  code?: IssuedCode;
  /** Set when this wrong attempt locked the code. */
  lockedNow?: boolean;
}

export function verifyCode(s: SessionState, codeDigest: string, now: number): VerifyDecision {
  const c = s.current;
  if (!c) return { outcome: 'not_found' };
  expireIfDue(c, now);
  if (c.state === 'verified') return { outcome: 'already_verified', code: c };
  if (c.state === 'locked') return { outcome: 'locked', code: c };
  if (c.state === 'cancelled') return { outcome: 'cancelled', code: c };
  const p = s.previous;
  if (p && p.state !== 'verified' && now < p.graceUntilMs && now < p.expiresAtMs && constantTimeEqual(codeDigest, p.digest)) {
    p.state = 'verified';
    c.state = 'verified';
    return { outcome: 'verified', code: p };
  }
  if (c.state === 'expired') return { outcome: 'expired', code: c };
  if (constantTimeEqual(codeDigest, c.digest)) {
    c.state = 'verified';
    return { outcome: 'verified', code: c };
  }
  c.attemptsUsed++;
  if (c.attemptsUsed >= c.maxAttempts) {
    c.state = 'locked';
    return { outcome: 'invalid_code', code: c, lockedNow: true };
  }
  return { outcome: 'invalid_code', code: c };
}
