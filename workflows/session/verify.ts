/**
 * The verify decision. Pure and synchronous: the update handler calls it with
 * no await in between, so concurrent verifies are serialised and at most one wins.
 *
 * What the code confirms is checked before the code: a request for another
 * profile or context is answered without looking at the code, so it is no
 * oracle and uses no attempt. Every wrong code counts against the code and
 * against the session (./lockout.ts), across resends.
 */
import type { VerifyOutcome } from '../../contract';
import { constantTimeEqual } from '../constant-time';
import { lockedUntil, lockoutRulesOf, recordFailure } from './lockout';
import { expireIfDue, profileName, type IssuedCode, type SessionState } from './state';

export interface VerifyCandidate {
  /** Digest of the entered code under each code key id asked for ('' = codes made before key ids). */
  digests: Record<string, string>;
  purpose: NonNullable<IssuedCode['purpose']>;
  /** When set, the profile name must match too. */
  profile?: string;
  context?: string;
}

export interface VerifyDecision {
  outcome: VerifyOutcome;
  /** The code the outcome is about (attempts remaining are counted on it). */
  code?: IssuedCode;
  /** Set when this wrong attempt locked the code. */
  lockedNow?: boolean;
  /** Set while the session is locked: its end (epoch ms). */
  lockedUntilMs?: number;
}

/** Key ids whose digests a verify needs: the current code's and the previous one's. */
export function keyIdsToCheck(s: SessionState): string[] {
  return [...new Set([s.current, s.previous].filter((c): c is IssuedCode => c !== undefined).map((c) => c.keyId ?? ''))];
}

/** The request names what this code confirms. */
export function confirms(c: IssuedCode, v: Pick<VerifyCandidate, 'purpose' | 'profile' | 'context'>): VerifyOutcome | undefined {
  if ((c.purpose ?? 'login') !== v.purpose) return 'purpose_mismatch';
  if (v.profile !== undefined && profileName(c) !== v.profile) return 'purpose_mismatch';
  if ((c.context ?? '') !== (v.context ?? '').trim()) return 'context_mismatch';
  return undefined;
}

function matches(c: IssuedCode, v: VerifyCandidate): boolean {
  const d = v.digests[c.keyId ?? ''];
  if (d === undefined) return false;
  // Evaluate every digest: the time taken does not depend on which one matched.
  return [c.digest, ...(c.altDigests ?? [])].map((x) => constantTimeEqual(d, x)).reduce((a, b) => a || b, false);
}

export function verifyCode(s: SessionState, v: VerifyCandidate, now: number): VerifyDecision {
  const c = s.current;
  if (!c) return { outcome: 'not_found' };
  expireIfDue(c, now);
  const until = lockedUntil(s.lockout, now);
  if (until !== undefined) return { outcome: 'locked', code: c, lockedUntilMs: until };
  if (c.state === 'verified') return { outcome: 'already_verified', code: c };
  if (c.state === 'locked') return { outcome: 'locked', code: c };
  if (c.state === 'cancelled') return { outcome: 'cancelled', code: c };
  const p = s.previous;
  const inGrace = p !== undefined && p.state !== 'verified' && now < p.graceUntilMs && now < p.expiresAtMs && !confirms(p, v);
  if (p && inGrace && matches(p, v)) {
    p.state = 'verified';
    c.state = 'verified';
    return { outcome: 'verified', code: p };
  }
  if (c.state === 'expired') return { outcome: 'expired', code: c };
  const mismatch = confirms(c, v);
  if (mismatch) return { outcome: mismatch, code: c };
  if (matches(c, v)) {
    c.state = 'verified';
    return { outcome: 'verified', code: c };
  }
  c.attemptsUsed++;
  // A guess compared with several codes had several chances: it counts as that many.
  const compared = 1 + (c.altDigests?.length ?? 0) + (p && inGrace ? 1 + (p.altDigests?.length ?? 0) : 0);
  const lockedUntilMs = s.lockout ? recordFailure(s.lockout, lockoutRulesOf(s.lockoutRules ?? {}), now, compared) : undefined;
  if (c.attemptsUsed >= c.maxAttempts) {
    c.state = 'locked';
    return { outcome: 'invalid_code', code: c, lockedNow: true, lockedUntilMs };
  }
  return { outcome: 'invalid_code', code: c, lockedUntilMs };
}
