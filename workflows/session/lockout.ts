/**
 * The session lock: wrong codes are counted per number, across every code and
 * resend, so a resend never buys fresh guesses. Pure.
 *
 * maxFailures wrong codes within failureWindowSeconds lock the session for
 * lockoutSeconds, doubled for each earlier lock in the last 24 h (at most 24 h).
 * With the defaults (10 per hour, 15 min) that is under 100 wrong codes a day
 * per number: test/unit/lockout.test.ts plays the best attacker against it.
 */
import type { SessionRules } from '../../policy/profile';

export type LockoutRules = Pick<SessionRules, 'maxFailures' | 'failureWindowSeconds' | 'lockoutSeconds'>;

export interface LockoutState {
  /** Instants (epoch ms) of wrong codes since the last lock ended, oldest first. */
  failures: number[];
  /** Start instants of locks in the last 24 h. */
  locks: number[];
  lockedUntilMs?: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export function newLockout(): LockoutState {
  return { failures: [], locks: [] };
}

/** The instant the lock ends, or undefined when the session is not locked at `now`. */
export function lockedUntil(l: LockoutState | undefined, now: number): number | undefined {
  return l?.lockedUntilMs !== undefined && now < l.lockedUntilMs ? l.lockedUntilMs : undefined;
}

/** Counts one wrong code. Returns the lock's end when this failure locked the session. */
export function recordFailure(l: LockoutState, rules: LockoutRules, now: number): number | undefined {
  l.failures = [...l.failures.filter((t) => t > now - rules.failureWindowSeconds * 1000), now];
  if (l.failures.length < rules.maxFailures) return undefined;
  l.locks = [...l.locks.filter((t) => t > now - DAY_MS), now];
  const ms = Math.min(rules.lockoutSeconds * 1000 * 2 ** (l.locks.length - 1), DAY_MS);
  l.failures = [];
  l.lockedUntilMs = now + ms;
  return l.lockedUntilMs;
}
