/**
 * Activities, built by a factory that closes over what the worker process
 * owns: the SMPP binds, a Temporal client, the keys and the policy profiles.
 */
import { createHmac } from 'node:crypto';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { WithStartWorkflowOperation, type Client } from '@temporalio/client';
import {
  RECEIPT_MAILBOX_WORKFLOW,
  VELOCITY_WORKFLOW,
  acquireUpdate,
  mailboxSubmittedSignal,
  receiptMailboxId,
  velocityWorkflowId,
  type QuotaRequest,
  type QuotaResult,
} from '../contract';
import { codeDigest, normalizeCode } from '../contract/keys';
import { MessageError, renderMessage } from '../policy/message';
import { checkPhone } from '../policy/phone';
import { ALPHABETS, DEFAULT_PROFILE, isInAlphabet, sessionRules, type ResolvedProfile } from '../policy/profile';
import type { ProfileStore } from '../policy/store';
import { SmppPermanentError } from '../smpp/errors';
import type { SmscRouter } from '../smpp/smsc';
import { deriveCode } from './code';
import type { Transporter } from 'nodemailer';
import type { WebhookChannelMessage } from '../contract';
import type { DispatchCodeInput, DispatchCodeResult, FallbackInput, OtpActivities, PrepareSendInput, PrepareSendResult, RenderPlan } from './types';

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

export function createActivities(deps: ActivityDeps): OtpActivities {
  return {
    /** Local activity: resolves the profile and decides whether this send may go out at all. */
    async prepareSend(input: PrepareSendInput): Promise<PrepareSendResult> {
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
    },

    /** Asks the tenant's velocity workflow (started on first use) for one send. */
    async acquireSendQuota({ tenant, request }): Promise<QuotaResult> {
      const start = new WithStartWorkflowOperation(VELOCITY_WORKFLOW, {
        workflowId: velocityWorkflowId(tenant),
        taskQueue: deps.taskQueue,
        workflowIdConflictPolicy: 'USE_EXISTING',
        args: [],
      });
      return deps.client.workflow.executeUpdateWithStart(acquireUpdate, { args: [request], startWorkflowOperation: start });
    },

    async dispatchCode(input: DispatchCodeInput): Promise<DispatchCodeResult> {
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
      let submitted;
      try {
        submitted = await deps.smsc.submitText(input.phone, message.text, { senderId: render.senderId, validitySeconds: remainingSeconds, country: input.country, trafficClass: 'otp' });
      } catch (err) {
        if (err instanceof SmppPermanentError) {
          throw ApplicationFailure.create({ type: 'SmppPermanentError', message: err.message, nonRetryable: true });
        }
        throw err;
      }
      // Link every segment's message id to this session durably, before we
      // report success: the receipt may already be waiting in its mailbox.
      const route = deps.smsc.route(submitted.route)!;
      await Promise.all(
        submitted.messageIds.map((messageId) =>
          deps.client.workflow.signalWithStart(RECEIPT_MAILBOX_WORKFLOW, {
            workflowId: receiptMailboxId(route.name, route.submitKey(messageId)),
            taskQueue: deps.taskQueue,
            signal: mailboxSubmittedSignal,
            signalArgs: [{ sessionWorkflowId: input.sessionWorkflowId, codeSeq: input.codeSeq, messageId }],
          }),
        ),
      );
      Context.current().log.info('code dispatched', { codeSeq: input.codeSeq, route: submitted.route, segments: submitted.segments, messageIds: submitted.messageIds });
      return {
        route: submitted.route,
        codeDigest: codeDigest(deps.hashKey, input.sessionWorkflowId, code),
        messageIds: submitted.messageIds,
        segments: submitted.segments,
        encoding: submitted.encoding,
      };
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
