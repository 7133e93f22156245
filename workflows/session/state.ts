/** The state of one OTP session: what continue-as-new carries, and nothing else. */
import type {
  ChainStepOutcome,
  CodeChannel,
  CodeState,
  OtpPurpose,
  DeliveryStatus,
  FallbackChannel,
  OtpSessionEvent,
  QuotaRequest,
  SendOtpResult,
  VerifyOtpResult,
} from '../../contract';
import type { RenderPlan } from '../../activities/types';
import type { LockoutRules, LockoutState } from './lockout';
import type { ChainStep, FallbackDestinations } from '../../policy/chain';

/** v7: the profile's channel chain for one code, the step it is on, and each step's outcome so far. */
export interface ChainProgress {
  steps: ChainStep[];
  /** Index of the current step in `steps`. */
  at: number;
  /** When the current step started (workflow time, epoch ms). */
  startedAtMs: number;
  /** One per step started, in order; the last is the current step. */
  outcomes: ChainStepOutcome[];
}

/** One SMS send of a code: its segments' message ids and their receipt outcomes. */
export interface SmsAttempt {
  atMs: number;
  /** SMSC route that took it (receipts are keyed by route and id). */
  route?: string;
  parts: Record<string, 'submitted' | 'delivered' | 'failed'>;
  stat?: string;
}

export interface IssuedCode {
  seq: number;
  nonce: string;
  digest: string;
  /** Id of the worker code key that made the code and its digest (absent: made before key ids). */
  keyId?: string;
  /** Digests of other codes answers to this same send carried (custom-channel retries); they verify like `digest`. */
  altDigests?: string[];
  /** Profile name@revision; a verify may name the profile. */
  profile: string;
  /** The profile's purpose; a verify must name it (absent in v2 sessions: login). */
  purpose?: OtpPurpose;
  /** The context line the code confirms (transactions); a verify must repeat it. */
  context?: string;
  channel: CodeChannel;
  /** Caller-supplied codes cannot be re-derived, so they are never re-delivered. */
  callerCode: boolean;
  issuedAtMs: number;
  expiresAtMs: number;
  maxAttempts: number;
  attemptsUsed: number;
  state: CodeState;
  delivery: DeliveryStatus;
  deliveryStat?: string;
  messageId?: string;
  segments: number;
  encoding: 'GSM7' | 'UCS2';
  locale: string;
  /** What a staggered retry needs to send the same code again (inside encrypted state only). */
  resend?: { phone: string; render: RenderPlan; country: string; quota?: QuotaRequest | null };
  retrySchedule: number[];
  receiptTimeoutSeconds: number;
  attempts: SmsAttempt[];
  retriesDone: number;
  callbackUrl?: string;
  callbackSeq: number;
  /** Fallback destinations the profile allowed for this send (encrypted state only). */
  fallback?: FallbackDestinations;
  fallbackChannels: FallbackChannel[];
  escalateAfterSeconds: number;
  /** v6: receipt states that escalate at once when a fallback is pending (absent: the v5 rules). */
  escalateOnStats?: string[];
  escalatedTo: FallbackChannel[];
  /** v7: the channel chain (absent: the fallback rules of v6 and before). */
  chain?: ChainProgress;
}

export interface SessionState {
  codeSeq: number;
  current?: IssuedCode;
  /** The code a resend replaced, still accepted until graceUntilMs. */
  previous?: IssuedCode & { graceUntilMs: number };
  /** Send instants (epoch ms) for the resend window. */
  sends: number[];
  lastSendAtMs?: number;
  cooldownSeconds: number;
  windowSeconds: number;
  maxSendsPerWindow: number;
  /** Accepted sends by idempotency key, with what they asked for (sendFingerprint). */
  idempotency: Record<string, { atMs: number; result: SendOtpResult; request?: string }>;
  /** The accepted send a double click inside the cooldown gets again, with what it asked for. */
  lastAccepted?: { atMs: number; result: SendOtpResult; request?: string };
  events: OtpSessionEvent[];
  /** Wrong codes across codes and resends, and the session lock (absent in sessions carried over from before it existed). */
  lockout?: LockoutState;
  lockoutRules?: LockoutRules;
  /** Masked number as the worker computed it from the number it checked. */
  maskedPhone?: string;
  /** Sealed codes a verify took (sealId -> when), so none is taken twice; kept SEAL_MAX_AGE_MS. */
  sealsSeen?: Record<string, number>;
  /** Verify answers by idempotency key, with a keyed fingerprint of the request they answered. */
  verifyKeys?: Record<string, { atMs: number; fingerprint: string; result: VerifyOtpResult }>;
}

export function newSession(): SessionState {
  return { codeSeq: 0, sends: [], cooldownSeconds: 0, windowSeconds: 600, maxSendsPerWindow: 3, idempotency: {}, events: [], verifyKeys: {} };
}

/** A code past its expiry is expired, whatever else it was waiting for. Returns true when that changed it. */
export function expireIfDue(c: IssuedCode | undefined, now: number): boolean {
  if (c && c.state === 'active' && now >= c.expiresAtMs) {
    c.state = 'expired';
    return true;
  }
  return false;
}

export const attemptsRemaining = (c: IssuedCode): number => Math.max(c.maxAttempts - c.attemptsUsed, 0);

/** Profile name of a code ("login" of "login@3f2a9c0b1d4e"). */
export const profileName = (c: Pick<IssuedCode, 'profile'>): string => c.profile.split('@')[0];
