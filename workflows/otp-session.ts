/**
 * One entity workflow per (tenant, phone): the handlers and a short main
 * loop, as in Temporal's safe-message-handlers sample. The rules live in pure
 * modules: session/delivery.ts (receipts, retries, escalation),
 * session/verify.ts, policy/resend.ts (decided by the sendCode activity).
 *
 * Send is one local activity (sendCode): admission, policy, resend rules,
 * quota and dispatch. A send + receipt + verify costs about 24 history events
 * (19, plus the search-attributes patch marker with its TemporalChangeVersion upsert, and 3 upserts).
 *
 * Determinism: no I/O here; codes are derived in activities from a nonce made
 * with the workflow's seeded uuid4(), and only their digest comes back.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  proxySinks,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
  type RetryPolicy,
} from '@temporalio/workflow';
import {
  EMPTY_CODE,
  IDEMPOTENCY_RETENTION_MS,
  NAME_PATTERN,
  cancelRequestProblem,
  sendRequestProblem,
  verifyRequestProblem,
  SEAL_MAX_AGE_MS,
  SEAL_MAX_SKEW_MS,
  isUnencrypted,
  SESSION_VERSION,
  cancelUpdate,
  deliveryReceiptSignal,
  sendUpdate,
  statusQuery,
  verifyUpdate,
  type DeliveryCallbackEvent,
  type FallbackChannel,
  type OtpSessionEvent,
  type OtpSessionInput,
  type OtpSessionStatus,
  type SendOtpRequest,
  type SendOtpResult,
  type VerifyOtpRequest,
  type VerifyOtpResult,
  type VerifyOutcome,
} from '../contract';
import type { DispatchCodeResult, FallbackInput, OtpActivities, SendCodeRefusal } from '../activities/types';
import { nextSendAtMs, recentSends } from '../policy/resend';
import { aggregate, applyReceipt, finalSmsFailure, nextRetryAtMs, pendingFallbacks, retryable, unanswered } from './session/delivery';
import { currentOutcome, moveReason, nextStepAtMs, nextStepIndex, startStep, stepsView } from './session/chain';
import { destinationOf, resolveChain } from '../policy/chain';
import { DEFAULT_ESCALATE_ON_STATS } from '../policy/profile';
import { constantTimeEqual } from './constant-time';
import { lockedUntil, lockoutRulesOf, newLockout, recordFailure } from './session/lockout';
import { attemptsRemaining, expireIfDue, newSession, profileName, type IssuedCode, type SessionState } from './session/state';
import { changedSearchAttributes, pendingStaysIndexed, searchValues } from './session/search';
import { WakeUp } from './session/timer';
import { keyIdsToCheck, verifyCode } from './session/verify';
import { otpSessionV1 } from './v1/otp-session';
import { METRICS_SINK, countryLabel, type OtpMetricsSink } from '../lib/metric-names';

const UNENCRYPTED_REFUSAL = 'the request was not encrypted with the payload keys (OTP_PAYLOAD_KEYS): use the payload codec';
const MAX_EVENTS = 100;
/** A send refused by the cooldown this soon after an accepted one is the same click twice: it gets the accepted answer. */
const DOUBLE_CLICK_MS = 2000;
/** Continue-as-new past this many history events (well below Temporal's limits). */
const MAX_HISTORY_EVENTS = 2000;
const SESSION_V2_PATCH = 'session-v2-hot-path';
/** v3: sealed codes, session lockout, purpose binding (issue 9). Sessions started as v2 replay without them. */
const SESSION_V3_PATCH = 'session-v3-sealed-codes';
/** Most codes one custom-channel send may answer with (retries with a fresh code each). */
const MAX_ALT_DIGESTS = 4;
/** Most verify answers kept under idempotency keys; the oldest go first. */
const MAX_VERIFY_KEYS = 50;
/** Most send answers kept under idempotency keys; the oldest go first. */
const MAX_SEND_KEYS = 200;
/** Most sealed codes one session takes within their age window (past it, requests are refused until they age out). */
const MAX_SEALS_SEEN = 1000;
/** v2 sessions still running at the upgrade get the session lockout from their next verify on. */
const V2_LOCKOUT_PATCH = 'session-v2-lockout';
/** A session a v2 client starts now runs as v3 (its protections are not the caller's choice). */
const NEW_V2_AS_V3_PATCH = 'new-v2-sessions-run-as-v3';
/** Search attributes (issue 12): sessions whose history has no upserts replay without them. */
const SEARCH_ATTRIBUTES_PATCH = 'session-search-attributes';

/** A login code is useless after ~30 s: code deliveries fail fast and let the caller see it. */
const DELIVERY_RETRY: RetryPolicy = {
  initialInterval: '250 milliseconds',
  backoffCoefficient: 2,
  maximumInterval: '2 seconds',
  maximumAttempts: 4,
  nonRetryableErrorTypes: ['SmppPermanentError', 'InvalidMessage', 'InvalidRequest'],
};
const { deliverFallback } = proxyActivities<OtpActivities>({ startToCloseTimeout: '10 seconds', retry: DELIVERY_RETRY });
const { deliverCallback } = proxyActivities<OtpActivities>({
  // Callbacks go to the caller's server: patient retries, deduplicated there by eventId.
  startToCloseTimeout: '10 seconds',
  scheduleToCloseTimeout: '1 hour',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 12,
  },
});
const { sendCode, retryCode } = proxyLocalActivities<OtpActivities>({
  // Local: the whole critical path of a send skips the task-queue round trip; the worker running the session owns binds.
  startToCloseTimeout: '10 seconds',
  retry: DELIVERY_RETRY,
});

// Verify outcomes are decided here, so the worker's metrics hear of them through a sink: no command, no history.
const { [METRICS_SINK]: metricsSink } = proxySinks<{ [METRICS_SINK]: OtpMetricsSink }>();

/** Reports to the worker's metrics, never while replaying (replay workers have no such sink, and nothing counts twice). */
function report(record: (sink: OtpMetricsSink) => void): void {
  if (!workflowInfo().unsafe.isReplaying) record(metricsSink);
}

/** A request that can never succeed as sent: typed and permanent, as the activities' (never in history: validators only). */
function invalid(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: 'InvalidRequest', message, nonRetryable: true });
}

function validateSend(req: SendOtpRequest): void {
  if (isUnencrypted(req)) throw invalid(UNENCRYPTED_REFUSAL);
  if (typeof req === 'object' && req !== null && 'code' in req)
    throw invalid('code must be sent sealed, as sealedCode (see the README contract): a plain code would sit in history');
  const problem = sendRequestProblem(req);
  if (problem) throw invalid(problem);
  if (req.sealedCode !== undefined) validateOpened(req.opened, 'send');
}

/** The worker's codec opened the sealed code, for this session. */
function validateOpened(opened: VerifyOtpRequest['opened'], use: 'verify' | 'send'): void {
  if (!opened) throw invalid('the sealed code was not opened: this worker lacks the seal codec (run worker.ts)');
  // An empty code (e.g. "-") is nothing to compare: refused without using an attempt.
  if (opened.error === EMPTY_CODE) throw invalid('the sealed code is empty (nothing but spaces or "-")');
  if (opened.error) throw invalid(`sealedCode is invalid (${opened.error}): seal it with OTP_SEAL_PUBLIC_KEY for this session`);
  if (opened.sealedFor !== workflowInfo().workflowId) throw invalid('sealedCode was sealed for another session');
  // A code sealed for a send (the caller's own code, readable in history as ciphertext) is never a verify, nor the reverse.
  if (opened.use !== use) throw invalid(`sealedCode was sealed for a ${opened.use || 'different'} request, not a ${use}`);
  const age = Date.now() - opened.sealedAtMs;
  if (age > SEAL_MAX_AGE_MS || age < -SEAL_MAX_SKEW_MS)
    throw invalid('sealedCode is too old (or from a clock far ahead): seal the code again for each request, and keep clocks in sync');
}

function validateVerify(req: VerifyOtpRequest): void {
  if (isUnencrypted(req)) throw invalid(UNENCRYPTED_REFUSAL);
  const problem = verifyRequestProblem(req);
  if (problem) throw invalid(problem);
  if (typeof req.sealedCode !== 'string' || req.sealedCode.length < 20)
    throw invalid('sealedCode must be the code sealed with OTP_SEAL_PUBLIC_KEY (see the README contract)');
  validateOpened(req.opened, 'verify');
}

/** What a send asks for, without its key and timing: two requests with the same one are the same click. */
function sendFingerprint(req: SendOtpRequest): string {
  const { idempotencyKey: _k, requestedAt: _r, sealedCode: _c, opened: _o, ...rest } = req;
  return JSON.stringify(
    Object.entries(rest)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => a.localeCompare(b)),
  );
}

/** Drops the oldest entries past `max`. */
function trimOldest<T extends { atMs: number }>(map: Record<string, T>, max: number): void {
  const keys = Object.keys(map);
  if (keys.length <= max) return;
  for (const [k] of Object.entries(map)
    .sort(([, a], [, b]) => a.atMs - b.atMs)
    .slice(0, keys.length - max))
    delete map[k];
}

function failure(err: unknown): { message: string; type?: string } {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) return { message: cause.message, type: cause.type ?? undefined };
  return { message: cause instanceof Error ? cause.message : String(cause) };
}

export async function otpSession(input: OtpSessionInput): Promise<OtpSessionStatus> {
  if (isUnencrypted(input)) throw ApplicationFailure.create({ type: 'InvalidRequest', message: UNENCRYPTED_REFUSAL, nonRetryable: true });
  // A malformed input (null, no tenant) would throw a TypeError below and fail every workflow task, forever:
  // it fails the session at once instead. Every recorded history has a valid input, so replays are unchanged.
  if (
    typeof input !== 'object' ||
    input === null ||
    Array.isArray(input) ||
    typeof input.tenant !== 'string' ||
    !NAME_PATTERN.test(input.tenant) ||
    (input.maskedPhone !== undefined && typeof input.maskedPhone !== 'string')
  ) {
    throw invalid('the session input must be {"tenant", "maskedPhone", "v"?} (see the README contract)');
  }
  // Carried state is trusted (it names the number and the nonce), so only this workflow's own continue-as-new may pass it.
  // Its signature is checked by the workers' codec; cron runs and retries also continue from a run, so they are refused too.
  const info = workflowInfo();
  if (input.carriedRefused || (input.carried !== undefined && (!info.continuedFromExecutionRunId || info.cronSchedule || info.attempt > 1))) {
    throw ApplicationFailure.create({ type: 'InvalidRequest', message: 'carried state is accepted only from continue-as-new', nonRetryable: true });
  }
  // Sessions started by v0.1 replay the code they ran; new ones take this path (clients that set v skip the marker).
  // A version the client states needs no patch marker: only workers that know it run it (upgrade workers first).
  const atLeast = (v: number) => typeof input.v === 'number' && input.v >= v && input.v <= SESSION_VERSION;
  if (input.v !== 2 && !atLeast(3) && !patched(SESSION_V2_PATCH)) return otpSessionV1(input);
  // Clients that set v skip the marker; v2 sessions keep the v2 handlers, so their histories replay.
  // A session started as v2 after this version (not a continue-as-new of one) runs as v3: v2 is only for replaying old ones.
  const v3 = atLeast(3) || (input.v !== 2 && patched(SESSION_V3_PATCH)) || (input.v === 2 && input.carried === undefined && patched(NEW_V2_AS_V3_PATCH));

  const sessionId = workflowInfo().workflowId;
  const s: SessionState = (input.carried as SessionState | undefined) ?? newSession();
  /** Bumped by every handler that changes state: the main loop re-plans on it. */
  let version = 0;
  let inFlight: Promise<SendOtpResult> | undefined;
  /** A staggered retry is under way: a send waits for it, so one decision sends at a time. */
  let retrying = false;
  const callbacks = new Set<Promise<void>>();
  const wake = new WakeUp();
  /** The worker's masking of the number it checked; before any check, the caller's. */
  const masked = () => s.maskedPhone ?? input.maskedPhone;

  const note = (type: OtpSessionEvent['type'], detail: string) => {
    s.events.push({ at: new Date().toISOString(), type, detail });
    if (s.events.length > MAX_EVENTS) s.events.splice(0, s.events.length - MAX_EVENTS);
    // "Current details" in the Web UI: the latest steps, reasons included, never a code or a number.
    setCurrentDetails(
      `**${masked()}** (tenant ${input.tenant})\n\n${s.events
        .slice(-8)
        .map((e) => `- ${e.at} **${e.type}** ${e.detail}`)
        .join('\n')}`,
    );
  };

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
    const p: Promise<void> = deliverCallback({
      url: c.callbackUrl,
      event,
    }).then(
      () => note('callback', `${event.eventId} ${status} delivered`),
      (e: unknown) => note('callback', `${event.eventId} ${status} gave up: ${failure(e).message}`),
    );
    callbacks.add(p);
    void p.finally(() => callbacks.delete(p));
  };

  const addAttempt = (c: IssuedCode, d: Pick<DispatchCodeResult, 'route' | 'messageIds' | 'segments'>) => {
    c.attempts.push({
      atMs: Date.now(),
      route: d.route,
      parts: Object.fromEntries(d.messageIds.map((id) => [id, 'submitted' as const])),
    });
    c.messageId = d.messageIds[0];
    c.segments = d.segments;
    deliveryChanged(c);
  };

  const status = (): OtpSessionStatus => {
    const c = s.current;
    const now = Date.now();
    const next = nextSendAtMs(
      {
        resendCooldownSeconds: s.cooldownSeconds,
        sendWindowSeconds: s.windowSeconds,
        maxSendsPerWindow: s.maxSendsPerWindow,
      },
      s,
      now,
    );
    return {
      sessionId,
      tenant: input.tenant,
      maskedPhone: masked(),
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
        escalatedTo: [...c.escalatedTo],
        ...(c.chain ? { step: stepsView(c, now) } : {}),
      },
      sendsInWindow: recentSends(s.sends, s.windowSeconds, now).length,
      nextSendAt: next === undefined ? undefined : new Date(next).toISOString(),
      events: [...s.events],
    };
  };
  setHandler(statusQuery, status);

  /** Decided once per run, at the first write, so a history recorded without upserts replays without them. */
  let indexed: boolean | undefined;
  /** Writes the search attributes that changed (each upsert is one history event); called from the main loop only, so one per activation. */
  const syncSearchAttributes = () => {
    const now = Date.now();
    const v5 = atLeast(5);
    const values = searchValues(s, input.tenant, masked(), now, v5);
    const current = workflowInfo().typedSearchAttributes;
    if (!values || (v5 && pendingStaysIndexed(values, current, s, now))) return;
    const changed = changedSearchAttributes(values, current);
    if (changed.length === 0) return;
    indexed ??= atLeast(4) || patched(SEARCH_ATTRIBUTES_PATCH);
    if (indexed) upsertSearchAttributes(changed);
  };

  const refuse = (r: SendCodeRefusal): SendOtpResult => {
    note('refused', `${r.status}: ${r.reason}${r.retryAfterSeconds ? ` (retry in ${r.retryAfterSeconds} s)` : ''}`);
    return { sessionId, ...r, maskedPhone: r.maskedPhone ?? masked() };
  };

  async function send(req: SendOtpRequest): Promise<SendOtpResult> {
    const now = Date.now();
    expireIfDue(s.current, now);
    const c = s.current;
    const next = { seq: s.codeSeq + 1, nonce: uuid4() };
    const { idempotencyKey: _key, requestedAt, opened: _opened, ...fields } = req;
    let r;
    try {
      r = await sendCode({
        ...fields,
        tenant: input.tenant,
        sessionWorkflowId: sessionId,
        profile: req.profile ?? 'login',
        requestedAtMs: requestedAt !== undefined ? Date.parse(requestedAt) : undefined,
        nowMs: now,
        session: {
          sends: s.sends,
          lastSendAtMs: s.lastSendAtMs,
          current: c && {
            seq: c.seq,
            nonce: c.nonce,
            state: c.state,
            delivery: c.delivery,
            profile: c.profile,
            channel: c.channel,
            callerCode: c.callerCode,
            expiresAtMs: c.expiresAtMs,
          },
        },
        next,
        // v7: an SMS refused for good at submit, or not submitted on the last try, goes on to the chain's next channel.
        ...(atLeast(7) ? { continueOnRefusal: true } : {}),
      });
    } catch (err) {
      const f = failure(err);
      if (f.type === 'InvalidRequest') {
        note('refused', `invalid request: ${f.message}`);
        throw ApplicationFailure.create({
          type: 'InvalidRequest',
          message: f.message,
          nonRetryable: true,
        });
      }
      // The SMSC refused or never answered: the attempt still counts towards the resend window.
      s.sends = [...s.sends, now];
      s.lastSendAtMs = now;
      s.codeSeq = next.seq;
      note('sent', `code #${next.seq} dispatch failed: ${f.message}`);
      throw ApplicationFailure.create({
        type: 'DispatchFailed',
        message: `SMS dispatch failed: ${f.message}`,
        nonRetryable: true,
      });
    }
    if (r.maskedPhone) s.maskedPhone = r.maskedPhone;
    if (r.status !== 'ok') {
      // Inside the cooldown and moments after an accepted send: the same click twice, so the same answer
      // (a click that asked for something else gets the refusal).
      const last = s.lastAccepted;
      if (r.reason === 'resend_cooldown' && last && now - last.atMs < DOUBLE_CLICK_MS && (last.request === undefined || last.request === sendFingerprint(req)))
        return last.result;
      return refuse(r);
    }
    const { rules } = r;
    s.lockoutRules = lockoutRulesOf(rules);
    if (v3) s.lockout ??= newLockout();
    s.cooldownSeconds = rules.resendCooldownSeconds;
    s.windowSeconds = rules.sendWindowSeconds;
    s.maxSendsPerWindow = rules.maxSendsPerWindow;
    s.sends = [...recentSends(s.sends, rules.sendWindowSeconds, now), now];
    s.lastSendAtMs = now;
    if (r.shadowFlags.length) note('shadow', `would have blocked: ${r.shadowFlags.join(', ')}`);
    const shadow = r.shadowFlags.length ? { shadowFlags: r.shadowFlags } : {};

    if (r.kind === 'sms' && r.redeliver && c) {
      addAttempt(c, r);
      note('sent', `code #${c.seq} re-delivered (same code) as ${r.segments} ${r.encoding} segment(s), message ${r.messageIds.join(',')}`);
      return {
        sessionId,
        status: 'sent',
        codeSeq: c.seq,
        sameCode: true,
        maskedPhone: r.maskedPhone,
        channel: 'sms',
        messageId: r.messageIds[0],
        segments: r.segments,
        encoding: r.encoding,
        expiresAt: new Date(c.expiresAtMs).toISOString(),
        profile: rules.profile,
        locale: r.render.locale,
        ...shadow,
      };
    }

    const seq = (s.codeSeq = next.seq);
    const expiresAtMs = now + rules.ttlSeconds * 1000;
    if (r.kind === 'sandbox') note('sent', `code #${seq} issued for a sandbox number (not dispatched), profile ${rules.profile}`);
    else if (r.kind === 'custom') note('sent', `code #${seq} issued for the custom channel (the caller delivers it), profile ${rules.profile}`);
    else if (r.kind === 'sms' && r.smsRefused !== undefined)
      note('sent', `code #${seq} issued; the SMS was not submitted (${r.smsRefused}), so the chain goes on, profile ${rules.profile}`);
    else if (r.kind === 'sms')
      note(
        'sent',
        `code #${seq} submitted on route ${r.route} as ${r.segments} ${r.encoding} segment(s), message ${r.messageIds.join(',')}, profile ${rules.profile}`,
      );
    else if (r.kind === 'webhook')
      note('sent', `code #${seq} posted to the profile's delivery webhook: ${r.delivered ? 'delivered' : 'failed'} (${r.detail}), profile ${rules.profile}`);
    // The replaced code stays valid for a short grace window: its SMS may be the one that arrives.
    const old = s.current;
    if (old && old.state === 'active' && old.expiresAtMs > now) {
      s.previous = {
        ...old,
        graceUntilMs: now + rules.previousCodeGraceSeconds * 1000,
      };
      old.state = 'expired';
    } else s.previous = undefined;
    // v7: the profile's chain; the SMS step's attempts bound its staggered retries.
    const chain = atLeast(7) && r.kind === 'sms' ? resolveChain(rules.chain ?? null, rules) : undefined;
    const code: IssuedCode = {
      seq,
      nonce: next.nonce,
      digest: r.digest,
      keyId: r.keyId,
      profile: rules.profile,
      purpose: rules.purpose,
      context: req.context?.trim() || undefined,
      channel: r.kind,
      callerCode: req.sealedCode !== undefined,
      issuedAtMs: now,
      expiresAtMs,
      maxAttempts: rules.maxAttempts,
      attemptsUsed: 0,
      state: 'active',
      delivery:
        r.kind === 'sandbox' ? 'delivered' : r.kind === 'custom' ? 'pending' : r.kind === 'webhook' ? (r.delivered ? 'delivered' : 'failed') : 'submitted',
      segments: r.segments,
      encoding: r.encoding,
      locale: r.render.locale,
      // Caller codes cannot be re-derived, so they get no staggered retries.
      resend:
        req.sealedCode === undefined && r.kind === 'sms'
          ? {
              phone: req.phone,
              render: r.render,
              country: r.country,
              quota: r.quota,
            }
          : undefined,
      retrySchedule: chain ? rules.retrySchedule.slice(0, chain[0].attempts - 1) : rules.retrySchedule,
      receiptTimeoutSeconds: rules.receiptTimeoutSeconds,
      attempts: [],
      retriesDone: 0,
      callbackUrl: req.callbackUrl,
      callbackSeq: 0,
      fallback: r.fallback,
      fallbackChannels: rules.fallbackChannels,
      escalateAfterSeconds: rules.escalateAfterSeconds,
      ...(atLeast(6) ? { escalateOnStats: chain?.[0].moveOnStats ?? rules.escalateOnStats ?? DEFAULT_ESCALATE_ON_STATS } : {}), // results recorded before v6 lack it
      escalatedTo: [],
      ...(chain
        ? {
            chain: {
              steps: chain,
              at: 0,
              startedAtMs: now,
              outcomes: [
                r.kind === 'sms' && r.smsRefused !== undefined
                  ? {
                      channel: 'sms' as const,
                      startedAt: new Date(now).toISOString(),
                      outcome: 'failed' as const,
                      reason: `not submitted: ${r.smsRefused}`,
                    }
                  : { channel: 'sms' as const, startedAt: new Date(now).toISOString(), outcome: 'pending' as const },
              ],
            },
          }
        : {}),
    };
    s.current = code;
    if (r.kind === 'sms' && r.smsRefused !== undefined) code.delivery = 'failed';
    else if (r.kind === 'sms') addAttempt(code, r);
    if (r.kind === 'webhook') {
      deliveryChanged(code);
      // The code stays recorded (a receiver may have taken it and still failed): the caller sees the failure.
      if (!r.delivered) throw ApplicationFailure.create({ type: 'DispatchFailed', message: `webhook delivery failed: ${r.detail}`, nonRetryable: true });
    }
    return {
      sessionId,
      status: 'sent',
      codeSeq: seq,
      sameCode: false,
      maskedPhone: r.maskedPhone,
      channel: r.kind,
      messageId: code.messageId,
      segments: r.segments,
      encoding: r.encoding,
      expiresAt: new Date(expiresAtMs).toISOString(),
      profile: rules.profile,
      locale: r.render.locale,
      ...shadow,
      ...(r.kind === 'sms' && r.smsRefused !== undefined ? { smsRefused: r.smsRefused } : {}),
    };
  }

  /** Another answer to a custom-channel send carries the caller's new code: that code verifies too. */
  function alsoAccept(req: SendOtpRequest, result: SendOtpResult): void {
    const c = s.current;
    if (req.channel !== 'custom' || req.sealedCode === undefined || result.status !== 'sent' || result.channel !== 'custom') return;
    if (!v3 || !c || c.seq !== result.codeSeq || c.state !== 'active') return;
    const d = req.opened?.digests[c.keyId ?? ''];
    if (d === undefined || d === c.digest || c.altDigests?.includes(d)) return;
    if ((c.altDigests?.length ?? 0) >= MAX_ALT_DIGESTS) {
      throw ApplicationFailure.create({
        type: 'InvalidRequest',
        message: `this send was already answered with ${MAX_ALT_DIGESTS + 1} different codes: send again without the idempotency key`,
        nonRetryable: true,
      });
    }
    c.altDigests = [...(c.altDigests ?? []), d];
    note('sent', `code #${c.seq}: a retry of the custom-channel send carries another code, which verifies too`);
  }

  let inFlightRequest: string | undefined;
  setHandler(
    sendUpdate,
    async (req: SendOtpRequest): Promise<SendOtpResult> => {
      if (v3) takeSeal(req.opened);
      const key = req.idempotencyKey;
      const seen = key ? s.idempotency[key] : undefined;
      if (seen && Date.now() - seen.atMs < IDEMPOTENCY_RETENTION_MS) {
        // Only the same request may add its code, and never while the number is locked.
        if (v3 && seen.request !== undefined && seen.request !== sendFingerprint(req)) {
          throw ApplicationFailure.create({
            type: 'InvalidRequest',
            message: 'idempotencyKey was already used for a different send request',
            nonRetryable: true,
          });
        }
        if (lockedUntil(s.lockout, Date.now()) === undefined) alsoAccept(req, seen.result);
        return seen.result;
      }
      // Too many wrong codes: no new code (and no fresh attempts) until the lock ends.
      const until = lockedUntil(s.lockout, Date.now());
      // (A lockout exists only in v3 sessions, and in v2 ones from their first verify after the upgrade.)
      if (until !== undefined) {
        version++;
        report((m) => m.sendRefused({ channel: req.channel ?? 'sms', country: countryLabel(masked()), outcome: 'locked' }));
        return refuse({
          status: 'locked',
          reason: 'too_many_failures',
          retryAfterSeconds: Math.ceil((until - Date.now()) / 1000),
          retryAt: new Date(until).toISOString(),
        });
      }
      if (retrying) await condition(() => !retrying);
      // A concurrent double click (the same request) joins the send under way: one SMS, one code.
      // A different request waits for it and is decided on its own.
      const request = sendFingerprint(req);
      if (inFlight !== undefined && inFlightRequest !== request && v3) {
        while (inFlight !== undefined && inFlightRequest !== request) await condition(() => inFlight === undefined || inFlightRequest === request);
      }
      const joined = inFlight !== undefined;
      if (!joined) inFlightRequest = request;
      const run = inFlight ?? (inFlight = send(req));
      try {
        const result = await run;
        // Only accepted sends are kept: a refusal (rate_limited, overloaded…) must be decided again after retryAfterSeconds.
        const keep = result.status === 'sent' || (result.status !== 'overloaded' && !v3);
        if (key && keep) {
          s.idempotency[key] = { atMs: Date.now(), result, request };
          trimOldest(s.idempotency, MAX_SEND_KEYS);
        }
        if (result.status === 'sent' && !joined) s.lastAccepted = { atMs: Date.now(), result, request };
        if (joined) alsoAccept(req, result);
        return result;
      } finally {
        if (!joined) {
          inFlight = undefined;
          inFlightRequest = undefined;
        }
        version++;
      }
    },
    {
      validator: (req) => {
        validateSend(req);
        if (v3) checkSeal(req.opened);
      },
    },
  );

  setHandler(
    verifyUpdate,
    (req: VerifyOtpRequest): VerifyOtpResult => {
      takeSeal(req.opened);
      if (!v3) return verifyV2(req as VerifyOtpRequest & { codeDigest?: string });
      const purpose = req.purpose ?? 'login';
      const key = req.idempotencyKey;
      const keys = (s.verifyKeys ??= {});
      const seen = key && keys[key] && Date.now() - keys[key].atMs < IDEMPOTENCY_RETENTION_MS ? keys[key] : undefined;
      const answer = (outcome: VerifyOutcome, c?: IssuedCode, until?: number): VerifyOtpResult => {
        note('verify', `${outcome}${c ? ` (code #${c.seq})` : ''}`);
        reportVerify(outcome, c);
        version++;
        return {
          sessionId,
          valid: outcome === 'verified',
          outcome,
          attemptsRemaining: c ? attemptsRemaining(c) : 0,
          ...(until !== undefined ? { retryAt: new Date(until).toISOString() } : {}),
        };
      };
      // Locked, or nothing to compare with: answered without opening the code.
      const until = lockedUntil(s.lockout, Date.now());
      if (until !== undefined) return answer('locked', s.current, until);
      if (!s.current && !seen) return answer('not_found');
      // Opened by the worker's codec (codec/sealed-code-codec.ts); the validator made sure it is there.
      const opened = req.opened!;
      if (seen) {
        if (constantTimeEqual(seen.fingerprint, opened.fingerprint)) return seen.result;
        // Another request under a used key is refused, and counts as a wrong code: replays are no oracle.
        const lockedNow = s.lockout ? recordFailure(s.lockout, lockoutRulesOf(s.lockoutRules ?? {}), Date.now()) : undefined;
        if (lockedNow !== undefined) note('locked', `session locked until ${new Date(lockedNow).toISOString()} after too many wrong codes`);
        return answer('idempotency_conflict', s.current, lockedNow);
      }
      const d = verifyCode(s, { digests: opened.digests, purpose, profile: req.profile, context: req.context }, Date.now());
      if (d.lockedNow && d.code) note('locked', `code #${d.code.seq} locked after ${d.code.attemptsUsed} wrong attempts`);
      if (d.lockedUntilMs !== undefined && d.outcome !== 'locked')
        note('locked', `session locked until ${new Date(d.lockedUntilMs).toISOString()} after ${s.lockoutRules?.maxFailures} wrong codes`);
      const result = answer(d.outcome, d.code, d.lockedUntilMs);
      if (key) {
        keys[key] = {
          atMs: Date.now(),
          fingerprint: opened.fingerprint,
          result,
        };
        trimOldest(keys, MAX_VERIFY_KEYS);
      }
      return result;
    },
    {
      validator: (req) => {
        // A v2 session takes sealed codes too (codes it issued since the upgrade are digested with the code key).
        validateVerify(req);
        checkSeal(req.opened);
      },
    },
  );

  /** One verify answer for the worker's metrics: outcome, country calling code, and for a match the time since the code was issued. */
  function reportVerify(outcome: VerifyOutcome, c: IssuedCode | undefined): void {
    const sinceIssuedSeconds = outcome === 'verified' && c ? (Date.now() - c.issuedAtMs) / 1000 : undefined;
    report((m) => m.verified({ outcome, country: countryLabel(masked()), ...(sinceIssuedSeconds !== undefined ? { sinceIssuedSeconds } : {}) }));
  }

  /** Remembers a sealed code a verify took, for as long as it could be taken. */
  function takeSeal(opened: VerifyOtpRequest['opened']): void {
    if (!opened) return;
    const now = Date.now();
    const seen = (s.sealsSeen ??= {});
    for (const [id, at] of Object.entries(seen)) if (at < now - SEAL_MAX_AGE_MS - SEAL_MAX_SKEW_MS) delete seen[id];
    seen[opened.sealId] = now;
  }

  /** A sealed code is taken once; a number flooded with them takes no more until they age out (never forgets a young one). */
  function checkSeal(opened: VerifyOtpRequest['opened']): void {
    if (!opened) return;
    const seen = s.sealsSeen ?? {};
    if (seen[opened.sealId] !== undefined) throw invalid('this sealedCode was already used: seal the code again for each request');
    const young = Object.values(seen).filter((at) => at >= Date.now() - SEAL_MAX_AGE_MS - SEAL_MAX_SKEW_MS).length;
    if (young >= MAX_SEALS_SEEN) {
      throw ApplicationFailure.create({
        type: 'TooManyRequests',
        message: 'too many requests with sealed codes for this number in the last minutes: try again later',
        nonRetryable: true,
      });
    }
  }

  /** v2 sessions: a v2 client's digest (replays of v2 histories), or a sealed code opened by the codec (after the upgrade). */
  function verifyV2(req: VerifyOtpRequest & { codeDigest?: string }): VerifyOtpResult {
    const c = s.current;
    if (!s.lockout && patched(V2_LOCKOUT_PATCH)) {
      s.lockout = newLockout();
      s.lockoutRules ??= lockoutRulesOf({});
    }
    const legacy = req.codeDigest ?? '';
    const d = verifyCode(
      s,
      req.opened
        ? { digests: req.opened.digests, purpose: req.purpose ?? 'login', profile: req.profile, context: req.context }
        : {
            digests: { [c?.keyId ?? '']: legacy, [s.previous?.keyId ?? '']: legacy },
            purpose: c?.purpose ?? 'login',
            context: c?.context,
          },
      Date.now(),
    );
    if (d.lockedNow && d.code) note('locked', `code #${d.code.seq} locked after ${d.code.attemptsUsed} wrong attempts`);
    note('verify', `${d.outcome}${d.code ? ` (code #${d.code.seq})` : ''}`);
    reportVerify(d.outcome, d.code);
    version++;
    return {
      sessionId,
      valid: d.outcome === 'verified',
      outcome: d.outcome,
      attemptsRemaining: d.code ? attemptsRemaining(d.code) : 0,
    };
  }

  setHandler(
    cancelUpdate,
    () => {
      const c = s.current;
      expireIfDue(c, Date.now());
      version++;
      if (!c || c.state !== 'active') return { sessionId, cancelled: false, codeSeq: c?.seq };
      c.state = 'cancelled';
      if (s.previous) s.previous.graceUntilMs = 0;
      note('cancelled', `code #${c.seq} cancelled; it no longer verifies and is not re-sent`);
      return { sessionId, cancelled: true, codeSeq: c.seq };
    },
    {
      // An encrypted argument proves the caller holds the payload keys; a bare or plain cancel does not.
      validator: (req?: unknown) => {
        if (req === undefined || req === null || typeof req !== 'object' || isUnencrypted(req)) throw invalid(UNENCRYPTED_REFUSAL);
        const problem = cancelRequestProblem(req);
        if (problem) throw invalid(problem);
      },
    },
  );

  setHandler(deliveryReceiptSignal, (r) => {
    // A receipt only a keyless writer could send (plain payload) or that is malformed changes nothing.
    if (isUnencrypted(r) || typeof r?.messageId !== 'string' || typeof r.codeSeq !== 'number' || typeof r.stat !== 'string') {
      note('refused', 'a receipt signal that was not encrypted with the payload keys (or is malformed) was ignored');
      return;
    }
    note('receipt', `message ${r.messageId}: ${r.stat} err:${r.err} (code #${r.codeSeq})`);
    const c = s.current;
    if (c && applyReceipt(c, r)) {
      deliveryChanged(c, r.err);
      version++;
    }
  });

  /** Sends the code again (same nonce, so the same code), unless a final receipt turns up first. */
  async function staggeredRetry(c: IssuedCode): Promise<void> {
    retrying = true;
    try {
      await retryOnce(c);
    } finally {
      retrying = false;
    }
  }

  async function retryOnce(c: IssuedCode): Promise<void> {
    if (!c.resend) return;
    const last = c.attempts[c.attempts.length - 1];
    const why = c.delivery === 'failed' ? `receipt ${last.stat}` : `no receipt within ${c.receiptTimeoutSeconds} s`;
    const dispatch = {
      sessionWorkflowId: sessionId,
      codeSeq: c.seq,
      nonce: c.nonce,
      keyId: c.keyId,
      phone: c.resend.phone,
      expiresAtMs: c.expiresAtMs,
      render: c.resend.render,
      country: c.resend.country,
      tenant: input.tenant,
      quota: c.resend.quota,
    };
    try {
      const open = unanswered(c);
      if (open.length) {
        const claimed = await retryCode({
          ...dispatch,
          unanswered: open,
          claimOnly: true,
        });
        // Our own backlog, another worker or a restart held these back: they count, and decide.
        for (const receipt of 'receipts' in claimed ? claimed.receipts : []) {
          note('receipt', `message ${receipt.messageId}: ${receipt.stat} err:${receipt.err} (code #${c.seq}, found before a retry)`);
          if (applyReceipt(c, { ...receipt, codeSeq: c.seq })) deliveryChanged(c, receipt.err);
        }
      }
      // A verify, cancel or new send while we looked: the retry is moot.
      if (s.current !== c || c.state !== 'active' || Date.now() >= c.expiresAtMs || !retryable(c)) return;
      const r = await retryCode({
        ...dispatch,
        unanswered: [],
        linkNow: c.retriesDone + 1 >= c.retrySchedule.length,
      });
      if ('refused' in r) {
        c.retriesDone++;
        note('retry', `code #${c.seq} retry ${c.retriesDone} not sent: ${r.refused} (retries count against the tenant's limits)`);
        return;
      }
      if (!('dispatched' in r)) return;
      c.retriesDone++;
      addAttempt(c, r.dispatched);
      note(
        'retry',
        `code #${c.seq} re-sent (same code), retry ${c.retriesDone}/${c.retrySchedule.length} after ${why}, message ${r.dispatched.messageIds.join(',')}`,
      );
    } catch (err) {
      c.retriesDone++;
      note('retry', `code #${c.seq} retry ${c.retriesDone} failed: ${failure(err).message}`);
    }
  }

  /** What a fallback send of this code needs: the same nonce (so the same code), its destination for `channel`, charged like a send. */
  function fallbackInput(c: IssuedCode, resend: NonNullable<IssuedCode['resend']>, channel: FallbackChannel): FallbackInput {
    return {
      channel,
      to: destinationOf(c.fallback, channel)!,
      sessionWorkflowId: sessionId,
      codeSeq: c.seq,
      nonce: c.nonce,
      keyId: c.keyId,
      expiresAtMs: c.expiresAtMs,
      render: resend.render,
      tenant: input.tenant,
      quota: resend.quota,
    };
  }

  /** v7: ends the chain's current step and sends the same code by the next one; a channel that keeps refusing fails its step, and the chain goes on. */
  async function moveOn(c: IssuedCode): Promise<void> {
    const next = nextStepIndex(c);
    if (next === undefined || !c.chain || !c.resend) return;
    const why = moveReason(c);
    const ended = currentOutcome(c)!;
    const channel = startStep(c, next, Date.now());
    report((m) => m.chainStep({ channel: ended.channel, outcome: ended.outcome }));
    c.escalatedTo.push(channel);
    const step = c.chain.steps[next];
    const outcome = currentOutcome(c)!;
    // Tries of this step: the activity's attempts (an SMTP 5xx is final at once).
    const { deliverFallback: deliverStep } = proxyActivities<OtpActivities>({
      startToCloseTimeout: '10 seconds',
      retry: { ...DELIVERY_RETRY, maximumAttempts: step.attempts, nonRetryableErrorTypes: [...DELIVERY_RETRY.nonRetryableErrorTypes!, 'EmailRefused'] },
    });
    try {
      await deliverStep({
        ...fallbackInput(c, c.resend, channel),
        ...(channel === 'voice' ? { phone: c.resend.phone } : {}),
        chainStep: true,
        templates: step.templates,
      });
      outcome.outcome = 'sent';
      report((m) => m.chainStep({ channel, outcome: 'sent' }));
      note('escalated', `code #${c.seq} (same code) sent by ${channel}: ${why} (step ${next + 1} of the chain)`);
    } catch (err) {
      outcome.outcome = 'failed';
      outcome.reason = failure(err).message;
      report((m) => m.chainStep({ channel, outcome: 'failed' }));
      note('escalated', `code #${c.seq} ${channel} (step ${next + 1}) failed: ${outcome.reason}`);
    }
  }

  /** Sends the same code through the next fallback channel; a channel that fails is skipped, not retried forever. */
  async function escalate(c: IssuedCode): Promise<void> {
    if (c.chain) return moveOn(c);
    const channel = pendingFallbacks(c)[0];
    if (!channel || !c.resend || !c.fallback) return;
    c.escalatedTo.push(channel);
    const why = c.delivery === 'failed' ? `SMS ${c.deliveryStat ?? 'failed'}` : `SMS not delivered after ${c.escalatedTo.length * c.escalateAfterSeconds} s`;
    try {
      await deliverFallback(fallbackInput(c, c.resend, channel));
      note('escalated', `code #${c.seq} (same code) sent by ${channel}: ${why}`);
    } catch (err) {
      note('escalated', `code #${c.seq} ${channel} failed: ${failure(err).message}`);
    }
  }

  // A locked session stays until its lock ends, so closing it never lifts the lock.
  const retentionEnd = () => Math.max((s.lastSendAtMs ?? workflowInfo().startTime.getTime()) + IDEMPOTENCY_RETENTION_MS, s.lockout?.lockedUntilMs ?? 0);
  const tooLong = () => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > MAX_HISTORY_EVENTS;
  /** Nothing to remember: every send so far was refused as overloaded (no code, no send, no key). */
  const forgettable = () =>
    version > 0 &&
    s.codeSeq === 0 &&
    s.sends.length === 0 &&
    Object.keys(s.idempotency).length === 0 &&
    s.events.every((e) => e.type === 'refused' && e.detail.startsWith('overloaded'));

  // Started by update-with-start: let the first send begin before planning anything (a start
  // whose update was rejected by the validator ends after the retention period).
  if (!input.carried && inFlight === undefined && version === 0) await condition(() => inFlight !== undefined || version > 0, IDEMPOTENCY_RETENTION_MS);

  for (;;) {
    if (inFlight) await condition(() => inFlight === undefined);
    const now = Date.now();
    const c = s.current;
    if (expireIfDue(c, now)) note('expired', `code #${c!.seq} expired`);
    syncSearchAttributes();
    if (c && c.state === 'active') {
      const retryAt = nextRetryAtMs(c);
      if (retryAt !== undefined && now >= retryAt) {
        await staggeredRetry(c);
        continue;
      }
      const escalateAt = nextStepAtMs(c, now);
      if (escalateAt !== undefined && now >= escalateAt) {
        await escalate(c);
        continue;
      }
    }
    if (tooLong()) {
      await Promise.all([...callbacks]);
      await condition(allHandlersFinished);
      const cutoff = Date.now() - IDEMPOTENCY_RETENTION_MS;
      for (const [k, v] of Object.entries(s.idempotency)) if (v.atMs <= cutoff) delete s.idempotency[k];
      await continueAsNew<typeof otpSession>({ ...input, carried: s });
    }
    if (now >= retentionEnd() || forgettable()) break;
    // One timer for the nearest deadline; an unchanged deadline keeps its timer.
    const active = c && c.state === 'active';
    const deadlines = [retentionEnd(), active ? nextRetryAtMs(c) : undefined, active ? nextStepAtMs(c, now) : undefined];
    wake.arm(Math.min(...deadlines.filter((t): t is number => t !== undefined && t > now)));
    const seen = version;
    await condition(() => wake.fired || version !== seen || inFlight !== undefined || tooLong());
  }
  await Promise.all([...callbacks]);
  await condition(allHandlersFinished);
  log.info('otp session finished', { sessionId, codes: s.codeSeq });
  return status();
}
