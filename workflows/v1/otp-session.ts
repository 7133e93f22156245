/**
 * One entity workflow per (tenant, phone). Send is an update (started with
 * update-with-start), verify is an update, status is a query, receipts arrive
 * as a signal from the per-message mailbox.
 *
 * Determinism: no I/O here. Policy comes from the prepareSend local activity
 * (recorded in history); codes are derived in the dispatch activity from a
 * nonce made with the workflow's seeded uuid4(), and only their digest returns.
 */
import {
  ApplicationFailure,
  ActivityFailure,
  allHandlersFinished,
  condition,
  defineUpdate,
  continueAsNew,
  log,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import {
  IDEMPOTENCY_RETENTION_MS,
  cancelUpdate,
  deliveryReceiptSignal,
  statusQuery,
  type DeliveryCallbackEvent,
  type OtpSessionEvent,
  type OtpSessionInput,
  type OtpSessionStatus,
  SEND_UPDATE,
  VERIFY_UPDATE,
  type SendOtpRequest as CurrentSendOtpRequest,
  type SendOtpResult,
  type SendRefused,
  type VerifyOtpResult,
  type VerifyOutcome,
} from '../../contract';
import type { OtpActivities, PrepareSendResult, RenderPlan } from '../../activities/types';
import { constantTimeEqual } from '../constant-time';
// The rules are shared with today's session (same logic as v0.1 had inline, so replay is unchanged).
import { aggregate, finalSmsFailure, nextEscalationAtMs, nextRetryAtMs, pendingFallbacks, retryable } from '../session/delivery';
import { attemptsRemaining, type IssuedCode, type SessionState } from '../session/state';

/** The v0.1 request shapes, frozen: v0.1 clients sent a plain caller code and a code digest. */
type SendOtpRequest = Omit<CurrentSendOtpRequest, 'sealedCode'> & { code?: string };
const sendUpdate = defineUpdate<SendOtpResult, [SendOtpRequest]>(SEND_UPDATE);
const verifyUpdate = defineUpdate<VerifyOtpResult, [{ codeDigest: string }]>(VERIFY_UPDATE);

const E164 = /^\+[1-9]\d{6,14}$/;
const MAX_EVENTS = 100;
/** A send refused by the cooldown this soon after an accepted one is the same click twice: it gets the accepted answer. */
const DOUBLE_CLICK_MS = 2000;
/** Continue-as-new past this many history events (well below Temporal's limits). */
const MAX_HISTORY_EVENTS = 2000;

const { deliverFallback } = proxyActivities<OtpActivities>({
  // A login code is useless after ~30 s, so fail fast and let the caller see it.
  startToCloseTimeout: '10 seconds',
  retry: {
    initialInterval: '250 milliseconds',
    backoffCoefficient: 2,
    maximumInterval: '2 seconds',
    maximumAttempts: 4,
    nonRetryableErrorTypes: ['SmppPermanentError', 'InvalidMessage', 'InvalidRequest'],
  },
});
const { deliverCallback } = proxyActivities<OtpActivities>({
  // Callbacks go to the caller's server: patient retries, deduplicated there by eventId.
  startToCloseTimeout: '10 seconds',
  scheduleToCloseTimeout: '1 hour',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 12 },
});
const { prepareSend, acquireSendQuota } = proxyLocalActivities<OtpActivities>({
  // Local: both sit on the critical path of every send, so they skip the task-queue round trip.
  startToCloseTimeout: '5 seconds',
  retry: { maximumAttempts: 3, nonRetryableErrorTypes: ['InvalidRequest'] },
});
const { dispatchCode } = proxyLocalActivities<OtpActivities>({
  // Local too: the worker that runs the session also owns binds, and the SMS is the latency that matters.
  startToCloseTimeout: '10 seconds',
  retry: {
    initialInterval: '250 milliseconds',
    backoffCoefficient: 2,
    maximumInterval: '2 seconds',
    maximumAttempts: 4,
    nonRetryableErrorTypes: ['SmppPermanentError', 'InvalidMessage', 'InvalidRequest'],
  },
});

function validateSend(req: SendOtpRequest): void {
  if (typeof req !== 'object' || req === null) throw new Error('send request must be an object');
  if (typeof req.phone !== 'string' || !E164.test(req.phone)) throw new Error('phone must be an E.164 number such as +33612345678');
  if (req.channel !== undefined && req.channel !== 'sms' && req.channel !== 'custom') throw new Error('channel must be "sms" or "custom"');
  for (const f of ['profile', 'locale', 'context', 'brand', 'code', 'messageText', 'idempotencyKey', 'callbackUrl', 'email', 'webhookUrl'] as const) {
    if (req[f] !== undefined && typeof req[f] !== 'string') throw new Error(`${f} must be a string`);
  }
  if (req.messageText !== undefined && req.messageText.length > 1000) throw new Error('messageText must be at most 1000 characters');
}

function failureMessage(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause instanceof Error) return err.cause.message;
  return err instanceof Error ? err.message : String(err);
}

/** The v0.1 session, frozen: sessions it started replay this code (see ../otp-session.ts). */
export async function otpSessionV1(input: OtpSessionInput): Promise<OtpSessionStatus> {
  const sessionId = workflowInfo().workflowId;
  const s: SessionState = (input.carried as SessionState | undefined) ?? {
    codeSeq: 0,
    sends: [],
    cooldownSeconds: 0,
    windowSeconds: 600,
    maxSendsPerWindow: 3,
    idempotency: {},
    events: [],
  };
  let inFlight: Promise<SendOtpResult> | undefined;
  const note = (type: OtpSessionEvent['type'], detail: string) => {
    s.events.push({ at: new Date().toISOString(), type, detail });
    if (s.events.length > MAX_EVENTS) s.events.splice(0, s.events.length - MAX_EVENTS);
    // "Current details" in the Web UI: the latest steps, reasons included, never a code or a number.
    setCurrentDetails(
      `**${input.maskedPhone}** (tenant ${input.tenant})\n\n${s.events
        .slice(-8)
        .map((e) => `- ${e.at} **${e.type}** ${e.detail}`)
        .join('\n')}`,
    );
  };
  const callbacks = new Set<Promise<void>>();

  /** Records a delivery status change and, if the send asked for it, posts a signed callback in the background. */
  const deliveryChanged = (c: IssuedCode, err?: string) => {
    const { status, stat } = aggregate(c);
    if (status === c.delivery && c.callbackSeq > 0) return;
    c.delivery = status;
    c.deliveryStat = stat;
    if (!c.callbackUrl) return;
    const event: DeliveryCallbackEvent = {
      eventId: `${sessionId}:${c.seq}:${++c.callbackSeq}`,
      sessionId,
      codeSeq: c.seq,
      status,
      stat,
      err,
      attempts: c.attempts.length,
      at: new Date().toISOString(),
    };
    const url = c.callbackUrl;
    const p: Promise<void> = deliverCallback({ url, event }).then(
      () => note('callback', `${event.eventId} ${status} delivered`),
      (e: unknown) => note('callback', `${event.eventId} ${status} gave up: ${failureMessage(e)}`),
    );
    callbacks.add(p);
    void p.finally(() => callbacks.delete(p));
  };

  /** Sends the current code again (same nonce, so the same code) for a staggered retry or an explicit re-delivery. */
  const redispatch = async (c: IssuedCode, render: RenderPlan, phone: string, country: string) => {
    const dispatched = await dispatchCode({ sessionWorkflowId: sessionId, codeSeq: c.seq, nonce: c.nonce, phone, expiresAtMs: c.expiresAtMs, render, country });
    c.attempts.push({ atMs: Date.now(), parts: Object.fromEntries(dispatched.messageIds.map((id) => [id, 'submitted' as const])) });
    c.messageId = dispatched.messageIds[0];
    c.segments = dispatched.segments;
    deliveryChanged(c);
    return dispatched;
  };
  const expireIfDue = (c: IssuedCode) => {
    if (c.state === 'active' && Date.now() >= c.expiresAtMs) {
      c.state = 'expired';
      note('expired', `code #${c.seq} expired`);
    }
  };
  const recentSends = (now: number) => s.sends.filter((t) => t > now - s.windowSeconds * 1000);
  const nextSendAtMs = (now: number): number | undefined => {
    const recent = recentSends(now);
    const byWindow = recent.length >= s.maxSendsPerWindow ? recent[recent.length - s.maxSendsPerWindow] + s.windowSeconds * 1000 : undefined;
    const byCooldown = s.lastSendAtMs !== undefined && s.lastSendAtMs + s.cooldownSeconds * 1000 > now ? s.lastSendAtMs + s.cooldownSeconds * 1000 : undefined;
    const t = Math.max(byWindow ?? 0, byCooldown ?? 0);
    return t > now ? t : undefined;
  };

  const status = (): OtpSessionStatus => {
    const c = s.current;
    const now = Date.now();
    const next = nextSendAtMs(now);
    return {
      sessionId,
      tenant: input.tenant,
      maskedPhone: input.maskedPhone,
      code: c && {
        seq: c.seq,
        profile: c.profile,
        channel: c.channel,
        state: c.state === 'active' && now >= c.expiresAtMs ? 'expired' : c.state,
        delivery: c.delivery,
        deliveryStat: c.deliveryStat,
        messageId: c.messageId,
        segments: c.segments,
        issuedAt: new Date(c.issuedAtMs).toISOString(),
        expiresAt: new Date(c.expiresAtMs).toISOString(),
        attemptsRemaining: attemptsRemaining(c),
        escalatedTo: [...(c.escalatedTo ?? [])],
      },
      sendsInWindow: recentSends(now).length,
      nextSendAt: next === undefined ? undefined : new Date(next).toISOString(),
      events: [...s.events],
    };
  };
  setHandler(statusQuery, status);

  const refuse = (r: Omit<SendRefused, 'sessionId' | 'maskedPhone'>): SendOtpResult => {
    note('refused', `${r.status}: ${r.reason}${r.retryAfterSeconds ? ` (retry in ${r.retryAfterSeconds} s)` : ''}`);
    return { sessionId, maskedPhone: input.maskedPhone, ...r };
  };

  async function send(req: SendOtpRequest): Promise<SendOtpResult> {
    let prep: PrepareSendResult;
    try {
      prep = await prepareSend({
        tenant: input.tenant,
        sessionWorkflowId: sessionId,
        phone: req.phone,
        profile: req.profile ?? 'login',
        locale: req.locale,
        context: req.context,
        brand: req.brand,
        // Current workers take sealed codes only: a v0.1 plain code is refused, never sent.
        sealedCode: req.code,
        messageText: req.messageText,
        callbackUrl: req.callbackUrl,
        channel: req.channel,
        email: req.email,
        webhookUrl: req.webhookUrl,
      });
    } catch (err) {
      const message = failureMessage(err);
      note('refused', `invalid request: ${message}`);
      throw ApplicationFailure.create({ type: 'InvalidRequest', message, nonRetryable: true });
    }
    if (prep.status !== 'ok') return refuse({ status: prep.status, reason: prep.reason, profile: prep.profile });
    const { rules } = prep;
    s.cooldownSeconds = rules.resendCooldownSeconds;
    s.windowSeconds = rules.sendWindowSeconds;
    s.maxSendsPerWindow = rules.maxSendsPerWindow;

    const now = Date.now();
    const c = s.current;
    if (c) expireIfDue(c);
    // A code whose delivery failed is re-delivered as is: the user may still get the first SMS.
    const redeliver =
      !!c && c.state === 'active' && c.delivery === 'failed' && !c.callerCode && req.code === undefined && c.profile === rules.profile && c.channel === 'sms';

    if (s.lastSendAtMs !== undefined && now - s.lastSendAtMs < rules.resendCooldownSeconds * 1000) {
      // Inside the cooldown and moments after an accepted send: the same click twice, so the same answer.
      if (s.lastAccepted && now - s.lastAccepted.atMs < DOUBLE_CLICK_MS) return s.lastAccepted.result;
      const retryAfterSeconds = Math.ceil((s.lastSendAtMs + rules.resendCooldownSeconds * 1000 - now) / 1000);
      return refuse({
        status: 'rate_limited',
        reason: 'resend_cooldown',
        retryAfterSeconds,
        retryAt: new Date(s.lastSendAtMs + rules.resendCooldownSeconds * 1000).toISOString(),
        profile: rules.profile,
      });
    }
    const recent = recentSends(now);
    if (recent.length >= rules.maxSendsPerWindow) {
      const at = recent[recent.length - rules.maxSendsPerWindow] + rules.sendWindowSeconds * 1000;
      return refuse({
        status: 'rate_limited',
        reason: 'too_many_sends',
        retryAfterSeconds: Math.ceil((at - now) / 1000),
        retryAt: new Date(at).toISOString(),
        profile: rules.profile,
      });
    }

    let shadowFlags: string[] = [];
    if (prep.quota) {
      const quota = await acquireSendQuota({ tenant: input.tenant, request: prep.quota });
      if (!quota.allowed) {
        const retryAt = quota.retryAfterSeconds ? new Date(Date.now() + quota.retryAfterSeconds * 1000).toISOString() : undefined;
        return refuse({
          status: quota.status ?? 'blocked',
          reason: quota.reason ?? 'velocity',
          retryAfterSeconds: quota.retryAfterSeconds,
          retryAt,
          profile: rules.profile,
        });
      }
      shadowFlags = quota.shadowFlags;
      if (shadowFlags.length) note('shadow', `would have blocked: ${shadowFlags.join(', ')}`);
    }

    s.sends = [...recentSends(now), now];
    s.lastSendAtMs = now;

    if (redeliver && c) {
      let dispatched;
      try {
        dispatched = await redispatch(c, prep.render, req.phone, prep.country);
      } catch (err) {
        const cause = failureMessage(err);
        note('sent', `code #${c.seq} re-delivery failed: ${cause}`);
        throw ApplicationFailure.create({ type: 'DispatchFailed', message: `SMS dispatch failed: ${cause}`, nonRetryable: true });
      }
      note(
        'sent',
        `code #${c.seq} re-delivered (same code) as ${dispatched.segments} ${dispatched.encoding} segment(s), message ${dispatched.messageIds.join(',')}`,
      );
      return {
        sessionId,
        status: 'sent',
        codeSeq: c.seq,
        sameCode: true,
        maskedPhone: input.maskedPhone,
        channel: 'sms',
        messageId: dispatched.messageIds[0],
        segments: dispatched.segments,
        encoding: dispatched.encoding,
        expiresAt: new Date(c.expiresAtMs).toISOString(),
        profile: rules.profile,
        locale: prep.render.locale,
        ...(shadowFlags.length ? { shadowFlags } : {}),
      };
    }

    const seq = ++s.codeSeq;
    const nonce = uuid4();
    const expiresAtMs = now + rules.ttlSeconds * 1000;
    let issued: Pick<IssuedCode, 'digest' | 'channel' | 'messageId' | 'segments' | 'encoding' | 'delivery' | 'attempts'>;
    if (prep.sandboxDigest) {
      issued = { digest: prep.sandboxDigest, channel: 'sandbox', segments: prep.segments, encoding: prep.encoding, delivery: 'delivered', attempts: [] };
      note('sent', `code #${seq} issued for a sandbox number (not dispatched), profile ${rules.profile}`);
    } else if (prep.customDigest) {
      issued = { digest: prep.customDigest, channel: 'custom', segments: 0, encoding: prep.encoding, delivery: 'pending', attempts: [] };
      note('sent', `code #${seq} issued for the custom channel (the caller delivers it), profile ${rules.profile}`);
    } else {
      let dispatched;
      try {
        dispatched = await dispatchCode({
          sessionWorkflowId: sessionId,
          codeSeq: seq,
          nonce,
          phone: req.phone,
          expiresAtMs,
          render: prep.render,
          callerCode: req.code,
          country: prep.country,
        });
      } catch (err) {
        const cause = failureMessage(err);
        note('sent', `code #${seq} dispatch failed: ${cause}`);
        throw ApplicationFailure.create({ type: 'DispatchFailed', message: `SMS dispatch failed: ${cause}`, nonRetryable: true });
      }
      issued = {
        digest: dispatched.codeDigest,
        channel: 'sms',
        messageId: dispatched.messageIds[0],
        segments: dispatched.segments,
        encoding: dispatched.encoding,
        delivery: 'submitted',
        attempts: [{ atMs: Date.now(), parts: Object.fromEntries(dispatched.messageIds.map((id) => [id, 'submitted' as const])) }],
      };
      note(
        'sent',
        `code #${seq} submitted on route ${dispatched.route} as ${dispatched.segments} ${dispatched.encoding} segment(s), message ${dispatched.messageIds.join(',')}, profile ${rules.profile}`,
      );
    }
    // The replaced code stays valid for a short grace window: its SMS may be the one that arrives.
    const old = s.current;
    if (old && old.state === 'active' && old.expiresAtMs > now) {
      s.previous = { ...old, graceUntilMs: now + rules.previousCodeGraceSeconds * 1000 };
      old.state = 'expired';
    } else s.previous = undefined;
    s.current = {
      seq,
      nonce,
      profile: rules.profile,
      callerCode: req.code !== undefined,
      issuedAtMs: now,
      expiresAtMs,
      maxAttempts: rules.maxAttempts,
      attemptsUsed: 0,
      state: 'active',
      locale: prep.render.locale,
      // Caller codes cannot be re-derived, so they get no staggered retries.
      resend:
        req.code === undefined && !prep.sandboxDigest && !prep.customDigest ? { phone: req.phone, render: prep.render, country: prep.country } : undefined,
      retrySchedule: rules.retrySchedule,
      receiptTimeoutSeconds: rules.receiptTimeoutSeconds,
      retriesDone: 0,
      callbackUrl: req.callbackUrl,
      callbackSeq: 0,
      fallback: req.email || req.webhookUrl ? { email: req.email, webhookUrl: req.webhookUrl } : undefined,
      fallbackChannels: rules.fallbackChannels,
      escalateAfterSeconds: rules.escalateAfterSeconds,
      escalatedTo: [],
      ...issued,
    };
    if (s.current.channel === 'sms') deliveryChanged(s.current);
    return {
      sessionId,
      status: 'sent',
      codeSeq: seq,
      sameCode: false,
      maskedPhone: input.maskedPhone,
      channel: issued.channel,
      messageId: issued.messageId,
      segments: issued.segments,
      encoding: issued.encoding,
      expiresAt: new Date(expiresAtMs).toISOString(),
      profile: rules.profile,
      locale: prep.render.locale,
      ...(shadowFlags.length ? { shadowFlags } : {}),
    };
  }

  setHandler(
    sendUpdate,
    async (req: SendOtpRequest): Promise<SendOtpResult> => {
      const key = req.idempotencyKey;
      const now = Date.now();
      const seen = key ? s.idempotency[key] : undefined;
      if (seen && now - seen.atMs < IDEMPOTENCY_RETENTION_MS) return seen.result;
      // A concurrent double click joins the send already under way: one SMS, one code.
      const joined = inFlight !== undefined;
      const run = inFlight ?? (inFlight = send(req));
      try {
        const result = await run;
        if (key) s.idempotency[key] = { atMs: now, result };
        if (result.status === 'sent' && !joined) s.lastAccepted = { atMs: Date.now(), result };
        return result;
      } finally {
        if (!joined) inFlight = undefined;
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
      const c = s.current;
      if (!c) return answer('not_found');
      expireIfDue(c);
      if (c.state === 'verified') return answer('already_verified', c);
      if (c.state === 'locked') return answer('locked', c);
      if (c.state === 'cancelled') return answer('cancelled', c);
      const p = s.previous;
      if (p && p.state !== 'verified' && Date.now() < p.graceUntilMs && Date.now() < p.expiresAtMs && constantTimeEqual(codeDigest, p.digest)) {
        p.state = 'verified';
        c.state = 'verified';
        return answer('verified', p);
      }
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

  setHandler(cancelUpdate, () => {
    const c = s.current;
    if (c) expireIfDue(c);
    if (!c || c.state !== 'active') return { sessionId, cancelled: false, codeSeq: c?.seq };
    c.state = 'cancelled';
    if (s.previous) s.previous.graceUntilMs = 0;
    note('cancelled', `code #${c.seq} cancelled; it no longer verifies and is not re-sent`);
    return { sessionId, cancelled: true, codeSeq: c.seq };
  });

  setHandler(deliveryReceiptSignal, (r) => {
    note('receipt', `message ${r.messageId}: ${r.stat} err:${r.err} (code #${r.codeSeq})`);
    const c = s.current;
    if (!c || c.seq !== r.codeSeq) return;
    const attempt = c.attempts.find((a) => r.messageId in a.parts);
    if (!attempt || r.outcome === 'pending') return;
    attempt.parts[r.messageId] = r.outcome;
    attempt.stat = r.stat;
    deliveryChanged(c, r.err);
  });

  async function staggeredRetry(c: IssuedCode): Promise<void> {
    c.retriesDone++;
    // Receipts may have arrived while we slept: decide on what is known now.
    if (!c.resend || !retryable(c)) return;
    const last = c.attempts[c.attempts.length - 1];
    const why = c.delivery === 'failed' ? `receipt ${last.stat}` : `no receipt within ${c.receiptTimeoutSeconds} s`;
    try {
      const d = await redispatch(c, c.resend.render, c.resend.phone, c.resend.country);
      note('retry', `code #${c.seq} re-sent (same code), retry ${c.retriesDone}/${c.retrySchedule.length} after ${why}, message ${d.messageIds.join(',')}`);
    } catch (err) {
      note('retry', `code #${c.seq} retry ${c.retriesDone} failed: ${failureMessage(err)}`);
    }
  }

  /** Sends the same code through the next fallback channel; a channel that fails is skipped, not retried forever. */
  async function escalate(c: IssuedCode): Promise<void> {
    const channel = pendingFallbacks(c)[0];
    if (!channel || !c.resend) return;
    c.escalatedTo.push(channel);
    const to = channel === 'email' ? c.fallback!.email! : c.fallback!.webhookUrl!;
    const why = c.delivery === 'failed' ? `SMS ${c.deliveryStat ?? 'failed'}` : `SMS not delivered after ${c.escalatedTo.length * c.escalateAfterSeconds} s`;
    try {
      await deliverFallback({ channel, to, sessionWorkflowId: sessionId, codeSeq: c.seq, nonce: c.nonce, expiresAtMs: c.expiresAtMs, render: c.resend.render });
      note('escalated', `code #${c.seq} (same code) sent by ${channel}: ${why}`);
    } catch (err) {
      note('escalated', `code #${c.seq} ${channel} failed: ${failureMessage(err)}`);
    }
  }

  const retentionEnd = () => (s.lastSendAtMs ?? workflowInfo().startTime.getTime()) + IDEMPOTENCY_RETENTION_MS;
  const tooLong = () => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > MAX_HISTORY_EVENTS;

  for (;;) {
    if (inFlight) await condition(() => inFlight === undefined);
    const c = s.current;
    if (c && c.state === 'active') {
      expireIfDue(c);
      if (c.state !== 'active') continue;
      const retryAt = nextRetryAtMs(c);
      const escalateAt = nextEscalationAtMs(c, Date.now());
      const finalFailure = finalSmsFailure(c);
      const until = Math.min(c.expiresAtMs, retryAt ?? Infinity, escalateAt ?? Infinity);
      const changed = await condition(
        () =>
          s.current !== c ||
          c.state !== 'active' ||
          tooLong() ||
          ((retryAt !== undefined || escalateAt !== undefined) && c.delivery === 'delivered') ||
          (escalateAt !== undefined && !finalFailure && finalSmsFailure(c)),
        Math.max(1, until - Date.now()),
      );
      if (s.current !== c || c.state !== 'active' || inFlight !== undefined) continue;
      if (!changed && retryAt !== undefined && Date.now() >= retryAt) await staggeredRetry(c);
      const due = nextEscalationAtMs(c, Date.now());
      if (due !== undefined && Date.now() >= due) await escalate(c);
    } else {
      // Idle: stay to answer repeat verifies, honour idempotency keys and resend windows, then finish.
      const lastSend = s.lastSendAtMs;
      const woke = await condition(
        () => inFlight !== undefined || s.current !== c || s.lastSendAtMs !== lastSend || tooLong(),
        Math.max(1, retentionEnd() - Date.now()),
      );
      if (!woke && Date.now() >= retentionEnd()) break;
    }
    if (tooLong() && inFlight === undefined) {
      await Promise.all([...callbacks]);
      await condition(allHandlersFinished);
      const now = Date.now();
      for (const [k, v] of Object.entries(s.idempotency)) if (now - v.atMs >= IDEMPOTENCY_RETENTION_MS) delete s.idempotency[k];
      await continueAsNew<typeof otpSessionV1>({ ...input, carried: s });
    }
  }
  await Promise.all([...callbacks]);
  await condition(allHandlersFinished);
  log.info('otp session finished', { sessionId, codes: s.codeSeq });
  return status();
}
