/** The state of one OTP session: what continue-as-new carries, and nothing else. */
import type { CodeState, DeliveryStatus, FallbackChannel, OtpSessionEvent, SendOtpResult } from '../../contract';
import type { RenderPlan } from '../../activities/types';

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
  profile: string;
  channel: 'sms' | 'sandbox' | 'custom';
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
  resend?: { phone: string; render: RenderPlan; country: string };
  retrySchedule: number[];
  receiptTimeoutSeconds: number;
  attempts: SmsAttempt[];
  retriesDone: number;
  callbackUrl?: string;
  callbackSeq: number;
  /** Fallback contacts given with the send (encrypted state only). */
  fallback?: { email?: string; webhookUrl?: string };
  fallbackChannels: FallbackChannel[];
  escalateAfterSeconds: number;
  escalatedTo: FallbackChannel[];
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
  idempotency: Record<string, { atMs: number; result: SendOtpResult }>;
  lastAccepted?: { atMs: number; result: SendOtpResult };
  events: OtpSessionEvent[];
}

export function newSession(): SessionState {
  return { codeSeq: 0, sends: [], cooldownSeconds: 0, windowSeconds: 600, maxSendsPerWindow: 3, idempotency: {}, events: [] };
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
