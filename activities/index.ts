/**
 * Activities, built by a factory that closes over what the worker process
 * owns: the SMPP binds, a Temporal client, the keys and the policy profiles.
 */
import { createHmac } from 'node:crypto';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { RECEIPT_MAILBOX_WORKFLOW, mailboxSubmittedSignal, receiptMailboxId, type QuotaRequest, type QuotaResult } from '../contract';
import { codeDigest, normalizeCode } from '../contract/keys';
import { MessageError, renderMessage } from '../policy/message';
import { checkPhone } from '../policy/phone';
import { ALPHABETS, DEFAULT_PROFILE, isInAlphabet, sessionRules, type ResolvedProfile } from '../policy/profile';
import { resendDecision, shouldRedeliver } from '../policy/resend';
import type { ProfileStore } from '../policy/store';
import { SmppPermanentError } from '../smpp/errors';
import type { SmscRouter } from '../smpp/smsc';
import { deriveCode } from './code';
import type { Transporter } from 'nodemailer';
import type { WebhookChannelMessage } from '../contract';
import type { SendAdmission } from './admission';
import type { ReceiptLinks } from './receipt-links';
import type { VelocityGate } from './velocity-gate';
import type { DispatchCodeInput, DispatchCodeResult, FallbackInput, OtpActivities, PrepareSendInput, PrepareSendResult, RenderPlan, RetryCodeInput, RetryCodeResult, SendCodeInput, SendCodeResult } from './types';

export type * from './types';

export interface ActivityDeps {
  smsc: SmscRouter;
  client: Client;
  taskQueue: string;
  codeKey: string;
  hashKey: string;
  /** Brand and sender used when neither the send nor the profile names one. */
  brand: string;
  senderId: string;
  profiles: ProfileStore;
  /** Signs delivery callbacks and webhook-channel messages. */
  callbackKey: string;
  /** SMTP transport for the email channel, and its From address. */
  mail: { transport: Transporter; from: string };
  /** Decides tenant rate and velocity at once, from a cache (activities/velocity-gate.ts). */
  gate: VelocityGate;
  /** Pairs receipts with sessions (activities/receipt-links.ts). */
  links: ReceiptLinks;
  /** Bounds the sends this worker has in flight (activities/admission.ts). */
  admission: SendAdmission;
}

/** A signed POST: X-OTP-Timestamp and X-OTP-Signature = sha256=hex(HMAC(key, timestamp + "." + body)). */
async function signedPost(key: string, url: string, body: string, eventId: string, what: string): Promise<number> {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const signature = createHmac('sha256', key).update(`${timestamp}.${body}`).digest('hex');
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-otp-event-id': eventId, 'x-otp-timestamp': timestamp, 'x-otp-signature': `sha256=${signature}` },
      body,
      signal: AbortSignal.timeout(5000),
    });
  } catch (err) {
    throw new Error(`${what} to ${new URL(url).host} failed: ${(err as Error).message}`);
  }
  if (res.status < 200 || res.status >= 300) throw new Error(`${what} to ${new URL(url).host} answered HTTP ${res.status}`);
  return res.status;
}

/** A request that can never succeed as sent: the update fails with this message, nothing is sent. */
function invalidRequest(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: 'InvalidRequest', message, nonRetryable: true });
}

function resolveTemplate(p: ResolvedProfile, input: PrepareSendInput): { template: string; locale: string } {
  if (input.messageText !== undefined) {
    if (!p.allowCallerMessage) throw invalidRequest(`profile "${p.name}" does not allow caller message text`);
    if (!input.messageText.includes('{code}')) throw invalidRequest('messageText must contain the {code} placeholder');
    if (/\{(?!code\}|brand\}|ttlMinutes\}|context\})[^}]*\}/.test(input.messageText)) throw invalidRequest('messageText may use only {code}, {brand}, {ttlMinutes} and {context}');
    return { template: input.messageText, locale: input.locale ?? p.defaultLocale };
  }
  const wanted = input.locale ?? p.defaultLocale;
  const base = wanted.split(/[-_]/)[0];
  if (p.templates[wanted]) return { template: p.templates[wanted], locale: wanted };
  if (p.templates[base]) return { template: p.templates[base], locale: base };
  return { template: p.templates[p.defaultLocale], locale: p.defaultLocale };
}

/** Resolves the profile and decides whether this send may go out at all. */
function prepare(deps: ActivityDeps, input: PrepareSendInput): PrepareSendResult {
  const profileName = input.profile ?? DEFAULT_PROFILE;
  const p = deps.profiles.get(profileName);
  if (!p) throw invalidRequest(`unknown profile "${profileName}" (known: ${deps.profiles.names().join(', ')})`);
  const label = `${p.name}@${p.revision}`;
  const phone = checkPhone(input.phone, p);
  if (!phone.ok) return { status: phone.status, reason: phone.reason, profile: label };

  const custom = input.channel === 'custom';
  if (custom) {
    if (!p.allowCustomChannel) throw invalidRequest(`profile "${p.name}" does not allow the custom channel`);
    if (input.code === undefined) throw invalidRequest('channel "custom" needs the code the caller will deliver');
    if (input.messageText !== undefined) throw invalidRequest('channel "custom" sends no message: drop messageText');
  }
  if (input.code !== undefined) {
    if (!p.allowCallerCode && !custom) throw invalidRequest(`profile "${p.name}" does not allow caller-supplied codes`);
    const code = normalizeCode(input.code);
    if (code.length < 4 || code.length > 10 || !isInAlphabet(code, p.alphabet)) {
      throw invalidRequest(`code must be 4–10 characters of the ${p.alphabet} alphabet (${ALPHABETS[p.alphabet]})`);
    }
  }
  if (p.requireContext && !input.context?.trim()) throw invalidRequest(`profile "${p.name}" needs a context line, e.g. "Confirm transfer of €500 to Alice"`);
  if (input.context !== undefined && input.context.length > 160) throw invalidRequest('context must be at most 160 characters');
  if (input.brand !== undefined && (input.brand.length < 1 || input.brand.length > 40)) throw invalidRequest('brand must be 1–40 characters');
  for (const [name, value] of [['callbackUrl', input.callbackUrl], ['webhookUrl', input.webhookUrl]] as const) {
    if (value === undefined) continue;
    let url: URL | undefined;
    try {
      url = new URL(value);
    } catch {
      url = undefined;
    }
    if (!url || !['http:', 'https:'].includes(url.protocol) || value.length > 2048) throw invalidRequest(`${name} must be an http(s) URL of at most 2048 characters`);
  }
  if (input.email !== undefined && (!/^[^\s@<>,;]+@[^\s@<>,;]+\.[^\s@<>,;]+$/.test(input.email) || input.email.length > 254)) throw invalidRequest('email must be one email address');

  const { template, locale } = resolveTemplate(p, input);
  const codeLength = input.code !== undefined ? normalizeCode(input.code).length : p.codeLength;
  const render: RenderPlan = {
    template,
    brand: input.brand ?? p.brand ?? deps.brand,
    senderId: p.senderId ?? deps.senderId,
    ttlSeconds: p.ttlSeconds,
    context: input.context,
    autofill: p.autofill,
    normalize: p.normalizeLookalikes,
    maxSegments: p.maxSegments,
    codeLength,
    alphabet: p.alphabet,
    locale,
  };
  // Dry run with a stand-in code of the same length: a template over budget sends nothing.
  let dry;
  try {
    dry = renderMessage({ ...render, code: ALPHABETS[p.alphabet][0].repeat(codeLength) });
  } catch (err) {
    if (err instanceof MessageError) throw invalidRequest(err.message);
    throw err;
  }
  const { velocity } = p;
  const quota: QuotaRequest | null =
    p.tenantSendsPerMinute > 0 || velocity.perCountryPerHour !== null || velocity.perPrefixPerHour !== null
      ? {
          country: phone.country,
          prefix: phone.prefix,
          tenantSendsPerMinute: p.tenantSendsPerMinute,
          perCountryPerHour: velocity.perCountryPerHour,
          perPrefixPerHour: velocity.perPrefixPerHour,
          shadow: velocity.shadow,
        }
      : null;
  const sandbox = p.sandbox.numbers.includes(input.phone) && !custom;
  return {
    status: 'ok',
    rules: sessionRules(p),
    render,
    quota: sandbox || custom ? null : quota,
    sandboxDigest: sandbox ? codeDigest(deps.hashKey, input.sessionWorkflowId, p.sandbox.code) : undefined,
    customDigest: custom ? codeDigest(deps.hashKey, input.sessionWorkflowId, input.code!) : undefined,
    segments: dry.segments,
    encoding: dry.encoding,
    country: phone.country,
  };
}

/**
 * Derives the code, renders and submits it, and links its message ids to the
 * session: in this worker's memory (fast path) or durably in mailboxes (v0.1 sessions).
 */
async function dispatch(deps: ActivityDeps, input: DispatchCodeInput, link: 'memory' | 'mailbox'): Promise<DispatchCodeResult> {
  const { render } = input;
  const code = input.callerCode !== undefined ? normalizeCode(input.callerCode) : deriveCode(deps.codeKey, input.sessionWorkflowId, input.nonce, render.codeLength, render.alphabet);
  let message;
  try {
    message = renderMessage({ ...render, code });
  } catch (err) {
    if (err instanceof MessageError) throw ApplicationFailure.create({ type: 'InvalidMessage', message: err.message, nonRetryable: true });
    throw err;
  }
  const remainingSeconds = Math.ceil((input.expiresAtMs - Date.now()) / 1000);
  const submitDone = deps.links.beginSubmit();
  try {
    return await submitAndLink(deps, input, link, message.text, remainingSeconds, code);
  } finally {
    submitDone();
  }
}

async function submitAndLink(deps: ActivityDeps, input: DispatchCodeInput, link: 'memory' | 'mailbox', text: string, remainingSeconds: number, code: string): Promise<DispatchCodeResult> {
  const { render } = input;
  let submitted;
  try {
    submitted = await deps.smsc.submitText(input.phone, text, { senderId: render.senderId, validitySeconds: remainingSeconds, country: input.country, trafficClass: 'otp' });
  } catch (err) {
    if (err instanceof SmppPermanentError) {
      throw ApplicationFailure.create({ type: 'SmppPermanentError', message: err.message, nonRetryable: true });
    }
    throw err;
  }
  // Link every segment's message id to this session before we report success.
  const route = deps.smsc.route(submitted.route)!;
  await Promise.all(
    submitted.messageIds.map((messageId) => {
      const submittedLink = { sessionWorkflowId: input.sessionWorkflowId, codeSeq: input.codeSeq, messageId };
      if (link === 'memory') return deps.links.register({ route: route.name, key: route.submitKey(messageId) }, submittedLink);
      return deps.client.workflow.signalWithStart(RECEIPT_MAILBOX_WORKFLOW, {
        workflowId: receiptMailboxId(route.name, route.submitKey(messageId)),
        taskQueue: deps.taskQueue,
        signal: mailboxSubmittedSignal,
        signalArgs: [submittedLink],
      });
    }),
  );
  Context.current().log.info('code dispatched', { codeSeq: input.codeSeq, route: submitted.route, segments: submitted.segments, messageIds: submitted.messageIds });
  return {
    route: submitted.route,
    codeDigest: codeDigest(deps.hashKey, input.sessionWorkflowId, code),
    messageIds: submitted.messageIds,
    segments: submitted.segments,
    encoding: submitted.encoding,
  };
}

export function createActivities(deps: ActivityDeps): OtpActivities {
  return {
    /** Local activity, the whole critical path of a send: admission, policy, resend rules, quota, dispatch. */
    async sendCode(input: SendCodeInput): Promise<SendCodeResult> {
      // The age check is for the first attempt only: a retry of a send already under way is not stale.
      const admission = deps.admission.enter(Context.current().info.attempt === 1 ? input.requestedAtMs : undefined);
      if (!admission.admitted) return { status: 'overloaded', reason: admission.reason, retryAfterSeconds: admission.retryAfterSeconds };
      try {
        const prep = prepare(deps, input);
        if (prep.status !== 'ok') return prep;
        const { rules } = prep;
        const refusal = resendDecision(rules, input.session, input.nowMs);
        if (refusal) return { ...refusal, profile: rules.profile };
        let shadowFlags: string[] = [];
        if (prep.quota) {
          const quota = deps.gate.acquire(input.tenant, prep.quota);
          if (!quota.allowed) return { status: quota.status ?? 'blocked', reason: quota.reason ?? 'velocity', retryAfterSeconds: quota.retryAfterSeconds, profile: rules.profile };
          shadowFlags = quota.shadowFlags;
        }
        const base = { status: 'ok' as const, rules, render: prep.render, country: prep.country, shadowFlags };
        if (prep.sandboxDigest) return { ...base, kind: 'sandbox', digest: prep.sandboxDigest, segments: prep.segments, encoding: prep.encoding };
        if (prep.customDigest) return { ...base, kind: 'custom', digest: prep.customDigest, segments: 0, encoding: prep.encoding };
        const current = input.session.current;
        const redeliver = current !== undefined && shouldRedeliver(current, rules.profile, input.code, input.nowMs);
        const target = redeliver ? { seq: current.seq, nonce: current.nonce, expiresAtMs: current.expiresAtMs } : { ...input.next, expiresAtMs: input.nowMs + rules.ttlSeconds * 1000 };
        // Without staggered retries no claim will ever look for this message's receipt: link it durably now.
        const link = rules.retrySchedule.length > 0 && input.code === undefined ? 'memory' : 'mailbox';
        const d = await dispatch(deps, { sessionWorkflowId: input.sessionWorkflowId, codeSeq: target.seq, nonce: target.nonce, phone: input.phone, expiresAtMs: target.expiresAtMs, render: prep.render, callerCode: input.code, country: prep.country }, link);
        return { ...base, kind: 'sms', redeliver, digest: d.codeDigest, route: d.route, messageIds: d.messageIds, segments: d.segments, encoding: d.encoding };
      } finally {
        admission.release();
      }
    },

    /**
     * Local activity before a staggered retry: if a final receipt for these
     * messages is known here or in a mailbox, returns it instead of re-sending.
     */
    async retryCode(input: RetryCodeInput): Promise<RetryCodeResult> {
      const receipts = await deps.links.claim(
        input.unanswered.map((m) => {
          const route = deps.smsc.route(m.route);
          return { route: m.route, key: route ? route.submitKey(m.messageId) : m.messageId, link: { sessionWorkflowId: input.sessionWorkflowId, codeSeq: input.codeSeq, messageId: m.messageId } };
        }),
      );
      if (receipts.length || input.claimOnly) return { receipts };
      return { dispatched: await dispatch(deps, input, input.linkNow ? 'mailbox' : 'memory') };
    },

    /** v0.1 sessions: policy only (sendCode does it all now). */
    async prepareSend(input: PrepareSendInput): Promise<PrepareSendResult> {
      return prepare(deps, input);
    },

    /** v0.1 sessions: tenant rate and velocity, now from the worker's gate. */
    async acquireSendQuota({ tenant, request }: { tenant: string; request: QuotaRequest }): Promise<QuotaResult> {
      return deps.gate.acquire(tenant, request);
    },

    /** v0.1 sessions: dispatch with a durable mailbox link per message. */
    async dispatchCode(input: DispatchCodeInput): Promise<DispatchCodeResult> {
      return dispatch(deps, input, 'mailbox');
    },

    async deliverCallback({ url, event }): Promise<{ status: number }> {
      return { status: await signedPost(deps.callbackKey, url, JSON.stringify(event), event.eventId, 'delivery callback') };
    },

    async deliverFallback(input: FallbackInput): Promise<{ channel: 'email' | 'webhook'; id: string }> {
      const { render } = input;
      const code = deriveCode(deps.codeKey, input.sessionWorkflowId, input.nonce, render.codeLength, render.alphabet);
      if (input.channel === 'email') {
        // Same template as the SMS, so the wording, brand and locale match; no segment budget for email.
        const text = renderMessage({ ...render, code, maxSegments: 10, autofill: { iosDomain: null, androidAppHash: null } }).text;
        const info = await deps.mail.transport.sendMail({ from: deps.mail.from, to: input.to, subject: `${render.brand} verification code`, text });
        Context.current().log.info('code emailed', { codeSeq: input.codeSeq, messageId: info.messageId });
        return { channel: 'email', id: String(info.messageId) };
      }
      const message: WebhookChannelMessage = {
        sessionId: input.sessionWorkflowId,
        codeSeq: input.codeSeq,
        channel: 'webhook',
        code,
        brand: render.brand,
        expiresAt: new Date(input.expiresAtMs).toISOString(),
      };
      const id = `${input.sessionWorkflowId}:${input.codeSeq}:webhook`;
      await signedPost(deps.callbackKey, input.to, JSON.stringify(message), id, 'webhook channel');
      return { channel: 'webhook', id };
    },
  };
}
