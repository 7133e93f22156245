/**
 * The session lock: wrong codes are counted per number, across every code and
 * resend, so a resend never buys fresh guesses. Pure.
 *
 * - maxFailures wrong codes within failureWindowSeconds lock the session for
 *   lockoutSeconds, doubled for each earlier lock in the last 24 h (at most 24 h);
 * - maxFailuresPerDay wrong codes within any 24 h lock it for 24 h, so an
 *   attacker who paces guesses under the hourly limit is stopped too.
 * With the defaults no number takes 100 wrong codes in any 24 h (NIST SP 800-63B):
 * test/unit/session-rules.test.ts plays fast and paced attackers against it.
 */
import { PRESETS, type SessionRules } from '../../policy/profile';

export type LockoutRules = Pick<SessionRules, 'maxFailures' | 'failureWindowSeconds' | 'lockoutSeconds' | 'maxFailuresPerDay'>;

export interface LockoutState {
  /** Instants (epoch ms) of wrong codes since the last lock ended, oldest first. */
  failures: number[];
  /** Instants of wrong codes in the last 24 h. */
  day?: number[];
  /** Start instants of locks in the last 24 h. */
  locks: number[];
  lockedUntilMs?: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export function newLockout(): LockoutState {
  return { failures: [], day: [], locks: [] };
}

/** The lockout rules of a send's profile; fields a v2 session's rules lack take the login preset's. */
export function lockoutRulesOf(r: Partial<LockoutRules>): LockoutRules {
  const d = PRESETS.login;
  return {
    maxFailures: r.maxFailures ?? d.maxFailures,
    failureWindowSeconds: r.failureWindowSeconds ?? d.failureWindowSeconds,
    lockoutSeconds: r.lockoutSeconds ?? d.lockoutSeconds,
    maxFailuresPerDay: r.maxFailuresPerDay ?? d.maxFailuresPerDay,
  };
}

/** The instant the lock ends, or undefined when the session is not locked at `now`. */
export function lockedUntil(l: LockoutState | undefined, now: number): number | undefined {
  return l?.lockedUntilMs !== undefined && now < l.lockedUntilMs ? l.lockedUntilMs : undefined;
}

/**
 * Counts a wrong code: `weight` is how many codes it was compared with (a
 * replaced code still in its grace window, other codes of one custom send), so
 * a guess that could match several counts as several. Returns the lock's end
 * when this failure locked the session.
 */
export function recordFailure(l: LockoutState, rules: LockoutRules, now: number, weight = 1): number | undefined {
  const n = Math.max(1, Math.floor(weight));
  const add = Array.from({ length: n }, () => now);
  l.failures = [...l.failures.filter((t) => t > now - rules.failureWindowSeconds * 1000), ...add];
  l.day = [...(l.day ?? []).filter((t) => t > now - DAY_MS), ...add];
  if (l.day.length >= rules.maxFailuresPerDay) {
    l.locks = [...l.locks.filter((t) => t > now - DAY_MS), now];
    l.failures = [];
    l.day = [];
    l.lockedUntilMs = now + DAY_MS;
    return l.lockedUntilMs;
  }
  if (l.failures.length < rules.maxFailures) return undefined;
  l.locks = [...l.locks.filter((t) => t > now - DAY_MS), now];
  const ms = Math.min(rules.lockoutSeconds * 1000 * 2 ** (l.locks.length - 1), DAY_MS);
  l.failures = [];
  l.lockedUntilMs = now + ms;
  return l.lockedUntilMs;
}
