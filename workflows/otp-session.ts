/**
 * One entity workflow per (tenant, phone). Send is an update (started with
 * update-with-start), verify is an update, status is a query, receipts arrive
 * as a signal from the per-message mailbox.
 *
 * Determinism: no I/O here. Codes are derived in an activity from a nonce
 * made with the workflow's seeded uuid4(); only their digest comes back.
 */
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  log,
  proxyActivities,
  setHandler,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import {
  MAX_CODE_LENGTH,
  MIN_CODE_LENGTH,
  deliveryReceiptSignal,
  sendUpdate,
  statusQuery,
  verifyUpdate,
  type CodeState,
  type DeliveryStatus,
  type OtpSessionEvent,
  type OtpSessionInput,
  type OtpSessionStatus,
  type SendOtpRequest,
  type SendOtpResult,
  type VerifyOtpResult,
  type VerifyOutcome,
} from '../contract';
import type { OtpActivities } from '../activities/types';
import { constantTimeEqual } from './constant-time';

/** Defaults for a send that names nothing (login / 2FA). */
export const SESSION_DEFAULTS = { codeLength: 6, ttlSeconds: 300, maxAttempts: 5 } as const;
/** After the last code ends, the session stays open this long so repeat verifies get a typed answer. */
const LINGER_MS = 5 * 60 * 1000;
const E164 = /^\+[1-9]\d{6,14}$/;

const { dispatchCode } = proxyActivities<OtpActivities>({
  // A login code is useless after ~30 s, so fail fast and let the caller see it.
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '250 milliseconds', backoffCoefficient: 2, maximumInterval: '2 seconds', maximumAttempts: 4, nonRetryableErrorTypes: ['SmppPermanentError', 'InvalidMessage'] },
});

interface IssuedCode {
  seq: number;
  digest: string;
  issuedAtMs: number;
  expiresAtMs: number;
  maxAttempts: number;
  attemptsUsed: number;
  state: CodeState;
  delivery: DeliveryStatus;
  deliveryStat?: string;
  messageId?: string;
  segments: number;
}

function validateSend(req: SendOtpRequest): void {
  if (typeof req !== 'object' || req === null) throw new Error('send request must be an object');
  if (typeof req.phone !== 'string' || !E164.test(req.phone)) throw new Error('phone must be an E.164 number such as +33612345678');
  const range = (name: string, v: unknown, min: number, max: number) => {
    if (v === undefined) return;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new Error(`${name} must be an integer from ${min} to ${max}`);
  };
  range('codeLength', req.codeLength, MIN_CODE_LENGTH, MAX_CODE_LENGTH);
  range('ttlSeconds', req.ttlSeconds, 10, 86_400);
  range('maxAttempts', req.maxAttempts, 1, 20);
  if (req.brand !== undefined && (typeof req.brand !== 'string' || req.brand.length > 40)) throw new Error('brand must be a string of at most 40 characters');
}

export async function otpSession(input: OtpSessionInput): Promise<OtpSessionStatus> {
  const sessionId = workflowInfo().workflowId;
  let current: IssuedCode | undefined;
  let codeSeq = 0;
  let sendsInFlight = 0;
  const events: OtpSessionEvent[] = [];
  const note = (type: OtpSessionEvent['type'], detail: string) => events.push({ at: new Date().toISOString(), type, detail });

  const attemptsRemaining = (c: IssuedCode) => Math.max(c.maxAttempts - c.attemptsUsed, 0);
  const expireIfDue = (c: IssuedCode) => {
    if (c.state === 'active' && Date.now() >= c.expiresAtMs) {
      c.state = 'expired';
      note('expired', `code #${c.seq} expired`);
    }
  };

  const status = (): OtpSessionStatus => ({
    sessionId,
    tenant: input.tenant,
    maskedPhone: input.maskedPhone,
    code: current && {
      seq: current.seq,
      state: current.state,
      delivery: current.delivery,
      deliveryStat: current.deliveryStat,
      messageId: current.messageId,
      segments: current.segments,
      issuedAt: new Date(current.issuedAtMs).toISOString(),
      expiresAt: new Date(current.expiresAtMs).toISOString(),
      attemptsRemaining: attemptsRemaining(current),
    },
    events: [...events],
  });

  setHandler(statusQuery, status);

  setHandler(
    sendUpdate,
    async (req: SendOtpRequest): Promise<SendOtpResult> => {
      sendsInFlight++;
      try {
        const seq = ++codeSeq;
        const codeLength = req.codeLength ?? SESSION_DEFAULTS.codeLength;
        const ttlSeconds = req.ttlSeconds ?? SESSION_DEFAULTS.ttlSeconds;
        const issuedAtMs = Date.now();
        const expiresAtMs = issuedAtMs + ttlSeconds * 1000;
        let dispatched;
        try {
          dispatched = await dispatchCode({
            sessionWorkflowId: sessionId,
            codeSeq: seq,
            nonce: uuid4(),
            phone: req.phone,
            codeLength,
            ttlSeconds,
            expiresAtMs,
            brand: req.brand,
          });
        } catch (err) {
          const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : String(err);
          note('sent', `code #${seq} dispatch failed: ${cause}`);
          throw ApplicationFailure.create({ type: 'DispatchFailed', message: `SMS dispatch failed: ${cause}`, nonRetryable: true });
        }
        // A newer code replaces the older one; the older one stops verifying.
        if (current && current.state === 'active' && current.seq < seq) current.state = 'expired';
        current = {
          seq,
          digest: dispatched.codeDigest,
          issuedAtMs,
          expiresAtMs,
          maxAttempts: req.maxAttempts ?? SESSION_DEFAULTS.maxAttempts,
          attemptsUsed: 0,
          state: 'active',
          delivery: dispatched.delivery,
          messageId: dispatched.messageIds[0],
          segments: dispatched.segments,
        };
        note('sent', `code #${seq} submitted as ${dispatched.segments} ${dispatched.encoding} segment(s), message ${dispatched.messageIds.join(',')}`);
        return {
          sessionId,
          status: 'sent',
          codeSeq: seq,
          maskedPhone: input.maskedPhone,
          channel: 'sms',
          messageId: dispatched.messageIds[0],
          segments: dispatched.segments,
          encoding: dispatched.encoding,
          expiresAt: new Date(expiresAtMs).toISOString(),
        };
      } finally {
        sendsInFlight--;
      }
    },
    { validator: validateSend },
  );

  // Synchronous on purpose: no await between check and state change, so
  // concurrent verifies are serialised and at most one can succeed.
  setHandler(
    verifyUpdate,
    ({ codeDigest }): VerifyOtpResult => {
      const answer = (outcome: VerifyOutcome, c?: IssuedCode): VerifyOtpResult => {
        note('verify', `${outcome}${c ? ` (code #${c.seq})` : ''}`);
        return { sessionId, valid: outcome === 'verified', outcome, attemptsRemaining: c ? attemptsRemaining(c) : 0 };
      };
      const c = current;
      if (!c) return answer('not_found');
      expireIfDue(c);
      if (c.state === 'verified') return answer('already_verified', c);
      if (c.state === 'locked') return answer('locked', c);
      if (c.state === 'expired') return answer('expired', c);
      if (constantTimeEqual(codeDigest, c.digest)) {
        c.state = 'verified';
        return answer('verified', c);
      }
      c.attemptsUsed++;
      if (c.attemptsUsed >= c.maxAttempts) {
        c.state = 'locked';
        note('locked', `code #${c.seq} locked after ${c.attemptsUsed} wrong attempts`);
      }
      return answer('invalid_code', c);
    },
    {
      validator: (req) => {
        if (typeof req?.codeDigest !== 'string' || req.codeDigest.length < 16) throw new Error('codeDigest must be the base64url HMAC of the code');
      },
    },
  );

  setHandler(deliveryReceiptSignal, (r) => {
    note('receipt', `message ${r.messageId}: ${r.stat} err:${r.err} (code #${r.codeSeq})`);
    if (!current || current.seq !== r.codeSeq) return;
    if (current.delivery === 'delivered') return; // a late failure receipt for another segment must not undo delivery
    current.delivery = r.outcome === 'pending' ? 'submitted' : r.outcome;
    current.deliveryStat = r.stat;
  });

  for (;;) {
    const c = current;
    if (c && c.state === 'active') {
      expireIfDue(c);
      if (c.state !== 'active') continue;
      await condition(() => current !== c || c.state !== 'active', c.expiresAtMs - Date.now());
      continue;
    }
    const woke = await condition(() => sendsInFlight > 0 || (current !== undefined && current !== c), LINGER_MS);
    if (!woke) break;
    await condition(() => sendsInFlight === 0);
  }
  await condition(allHandlersFinished);
  log.info('otp session finished', { sessionId, codes: codeSeq });
  return status();
}
