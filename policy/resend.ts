/**
 * Resend rules of one session: cooldown between sends and most sends per
 * window, and when a send re-delivers the code already issued. Pure: the
 * send activity decides with them, the workflow reports `nextSendAt` with them.
 */
import type { CodeChannel, CodeState, DeliveryStatus, SendRefused } from '../contract';
import type { SessionRules } from './profile';

type ResendRules = Pick<SessionRules, 'resendCooldownSeconds' | 'sendWindowSeconds' | 'maxSendsPerWindow'>;

/** What a session tells the send activity about itself. */
export interface SendHistory {
  /** Send instants (epoch ms), oldest first. */
  sends: number[];
  lastSendAtMs?: number;
  /** The code now issued, if any. */
  current?: CurrentCode;
}

export interface CurrentCode {
  seq: number;
  nonce: string;
  keyId?: string;
  state: CodeState;
  delivery: DeliveryStatus;
  profile: string;
  channel: CodeChannel;
  callerCode: boolean;
  expiresAtMs: number;
}

export function recentSends(sends: number[], windowSeconds: number, now: number): number[] {
  return sends.filter((t) => t > now - windowSeconds * 1000);
}

/** When the next send may go out, or undefined when it may now. */
export function nextSendAtMs(rules: ResendRules, h: Pick<SendHistory, 'sends' | 'lastSendAtMs'>, now: number): number | undefined {
  const recent = recentSends(h.sends, rules.sendWindowSeconds, now);
  const byWindow = recent.length >= rules.maxSendsPerWindow ? recent[recent.length - rules.maxSendsPerWindow] + rules.sendWindowSeconds * 1000 : 0;
  const byCooldown = h.lastSendAtMs !== undefined ? h.lastSendAtMs + rules.resendCooldownSeconds * 1000 : 0;
  const t = Math.max(byWindow, byCooldown);
  return t > now ? t : undefined;
}

/** A typed refusal when the cooldown or the window forbids a send now; undefined when it may go. */
export function resendDecision(rules: ResendRules, h: SendHistory, now: number): Omit<SendRefused, 'sessionId' | 'maskedPhone' | 'profile'> | undefined {
  if (h.lastSendAtMs !== undefined && now - h.lastSendAtMs < rules.resendCooldownSeconds * 1000) {
    const at = h.lastSendAtMs + rules.resendCooldownSeconds * 1000;
    return { status: 'rate_limited', reason: 'resend_cooldown', retryAfterSeconds: Math.ceil((at - now) / 1000), retryAt: new Date(at).toISOString() };
  }
  const recent = recentSends(h.sends, rules.sendWindowSeconds, now);
  if (recent.length >= rules.maxSendsPerWindow) {
    const at = recent[recent.length - rules.maxSendsPerWindow] + rules.sendWindowSeconds * 1000;
    return { status: 'rate_limited', reason: 'too_many_sends', retryAfterSeconds: Math.ceil((at - now) / 1000), retryAt: new Date(at).toISOString() };
  }
  return undefined;
}

/** A code whose SMS failed is re-delivered as is: the user may still get the first SMS. */
export function shouldRedeliver(c: CurrentCode, profile: string, callerCode: string | undefined, now = Date.now()): boolean {
  return (
    c.state === 'active' &&
    c.expiresAtMs > now &&
    c.delivery === 'failed' &&
    !c.callerCode &&
    callerCode === undefined &&
    c.profile === profile &&
    c.channel === 'sms'
  );
}
