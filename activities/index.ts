/**
 * Activities, built by a factory that closes over what the worker process
 * owns: the SMPP binds, a Temporal client, the keys and the policy profiles.
 */
import { emailDomain, isEmailAddress } from '../policy/email';
import { PLACEHOLDER_LIST, PLACEHOLDER_PATTERN, spokenCode, unknownPlaceholders } from '../policy/placeholders';
import { VOICE_TEMPLATES, chainContinues, resolveChain } from '../policy/chain';
import { createHmac } from 'node:crypto';
import { DestinationError, checkUrl, type OutboundPolicy } from '../policy/destination';
import { postRetryable, signedPost } from './http-post';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import {
  MAX_CODE_LENGTH,
  MIN_CODE_LENGTH,
  RECEIPT_MAILBOX_WORKFLOW,
  REQUEST_FIELD_MAX_LENGTH,
  mailboxSubmittedSignal,
  receiptMailboxId,
  type QuotaRequest,
  type QuotaResult,
} from '../contract';
import { maskPhone, optOutWorkflowId, sessionWorkflowId } from '../contract/keys';
import { WorkflowNotFoundError } from '@temporalio/client';
import { workflowTaskRetried } from './workflow-task-retried';
import { OPT_OUT_WORKFLOW, optOutSignal, type MobileOriginatedEvent } from '../contract';
import { MessageError, assertLocale, assertPlainText, pickTemplate, renderMessage, type RenderedMessage } from '../policy/message';
import { checkPhone } from '../policy/phone';
import { ALPHABETS, DEFAULT_PROFILE, LIMITS, catalogProfile, isInAlphabet, sessionRules, type ResolvedProfile } from '../policy/profile';
import { resendDecision, shouldRedeliver } from '../policy/resend';
import type { ProfileStore } from '../policy/store';
import { SmppPermanentError } from '../smpp/errors';
import { isUnlinkedMessageId } from '../smpp/ids';
import { SmppUnconfirmedError, isInDoubtId } from '../smpp/submit-tracker';
import { submitDeadline, type LateLinks } from './late-links';
import type { SmscRouter } from '../smpp/smsc';
import { codeDigest, deriveCode, SealError, type CodeKeyring, type SealOpener } from './code';
import type { Transporter } from 'nodemailer';
import type { FallbackChannel, OtpCatalog, VoiceChannelMessage, WebhookChannelMessage, WebhookDeliveryMessage } from '../contract';
import type { SendAdmission } from './admission';
import type { ReceiptLinks } from './receipt-links';
import type { VelocityGate } from './velocity-gate';
import type { SuppressionList } from './suppression-list';
import type { OtpMetrics } from '../lib/metrics';
import { countryLabel } from '../lib/metric-names';
import type { SenderApprovals } from './sender-approvals';
import type { ApprovalRefusal } from '../policy/approval';
import { profileContentHash } from '../policy/store';
import type { SenderRevisionContent } from '../contract';
import type {
  DispatchCodeInput,
  DispatchCodeResult,
  EmailPlan,
  FallbackInput,
  OtpActivities,
  PrepareSendInput,
  PrepareSendResult,
  RenderPlan,
  RetryCodeInput,
  RetryCodeResult,
  SendCodeInput,
  SendCodeResult,
} from './types';

export type * from './types';

export interface ActivityDeps {
  smsc: SmscRouter;
  client: Client;
  taskQueue: string;
  /** Worker-only code keys (OTP_CODE_KEY, then OTP_CODE_KEY_PREVIOUS). */
  codeKeys: CodeKeyring;
  /** Id keys (OTP_HASH_KEY, then OTP_HASH_KEY_PREVIOUS): a send's number must hash to its session id under one of them. */
  idKeys: string[];
  /** Opens codes sealed by clients (OTP_SEAL_PRIVATE_KEY). */
  seal: SealOpener;
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
  /** Links late submit_sm_resp to the part their session knows (activities/late-links.ts). */
  late: LateLinks;
  /** The worker's copy of the STOP list (activities/suppression-list.ts); without it every check is a describe. */
  suppression?: SuppressionList;
  /** The worker's copy of sender approvals (activities/sender-approvals.ts); absent when OTP_SENDER_APPROVAL=off. */
  approvals?: SenderApprovals;
  /** Bounds the sends this worker has in flight (activities/admission.ts). */
  admission: SendAdmission;
  /** Where callbacks and webhook-channel POSTs may go (OTP_OUTBOUND_ALLOW). */
  outbound: OutboundPolicy;
  /** OTP_MO_WEBHOOK_URL: where MO messages are POSTed; undefined = not forwarded. */
  moWebhookUrl?: string;
  /** Prometheus series (lib/metrics.ts); absent: nothing recorded. */
  metrics?: OtpMetrics;
}

/**
 * True when the number is on the suppression list: its opt-out workflow is running (one id per id
 * key). Answered from the worker's copy of the list when it is fresh; otherwise, failing closed, by
 * one DescribeWorkflowExecution per id key (in parallel), which needs no workflow task or worker.
 */
async function isOptedOut(deps: ActivityDeps, phone: string): Promise<boolean> {
  const ids = deps.idKeys.map((key) => optOutWorkflowId(key, phone));
  const known = deps.suppression?.lookup(ids);
  if (known !== undefined) return known;
  const states = await Promise.all(
    ids.map(async (id) => {
      try {
        const d = await deps.client.workflow.getHandle(id).describe();
        return d.status.name === 'RUNNING';
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return false;
        throw err;
      }
    }),
  );
  return states.some(Boolean);
}

/** The profile's revision as an approver sees it: effective sender, brand and templates, named by its content hash. */
function revisionContent(deps: ActivityDeps, p: ResolvedProfile): SenderRevisionContent {
  const defaults = { senderId: deps.senderId, brand: deps.brand };
  return {
    profile: p.name,
    contentHash: profileContentHash(p, defaults),
    revision: `${p.name}@${p.revision}`,
    senderId: p.senderId ?? deps.senderId,
    brand: p.brand ?? deps.brand,
    templates: { ...p.templates },
  };
}

/** Content hashes per worker and profile: a worker's profiles and defaults are fixed for its life, so each is hashed once. */
const contentHashes = new WeakMap<ActivityDeps, Map<string, string>>();

/** With approval required, a refusal for a profile revision nobody approved (from the worker's cache, no call). */
async function approvalRefused(deps: ActivityDeps, tenant: string, profileName: string | undefined): Promise<ApprovalRefusal | null> {
  if (!deps.approvals) return null;
  const p = deps.profiles.get(profileName ?? DEFAULT_PROFILE);
  if (!p) return null; // prepare() refuses unknown profiles
  let hashes = contentHashes.get(deps);
  if (!hashes) contentHashes.set(deps, (hashes = new Map()));
  let hash = hashes.get(p.name);
  if (hash === undefined) hashes.set(p.name, (hash = revisionContent(deps, p).contentHash));
  return deps.approvals.check(tenant, p.name, hash);
}

/** A request that can never succeed as sent: the update fails with this message, nothing is sent. */
function invalidRequest(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: 'InvalidRequest', message, nonRetryable: true });
}

/** A message rule broken by the request itself: an InvalidRequest, never retried. */
function asRequest<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof MessageError) throw invalidRequest(err.message);
    throw err;
  }
}

function resolveTemplate(p: ResolvedProfile, input: PrepareSendInput): { template: string; locale: string } {
  if (input.locale !== undefined) assertLocale(input.locale);
  if (input.messageText !== undefined) {
    if (!p.allowCallerMessage) throw invalidRequest(`profile "${p.name}" does not allow caller message text`);
    if (!input.messageText.includes('{code}')) throw invalidRequest('messageText must contain the {code} placeholder');
    if (unknownPlaceholders(input.messageText).length) throw invalidRequest(`messageText may use only ${PLACEHOLDER_LIST}`);
    assertPlainText('messageText', input.messageText, { allowNewline: true, allowBraces: true });
    return { template: input.messageText, locale: input.locale ?? p.defaultLocale };
  }
  // Own keys only: a locale such as "constructor" never picks an object property; an unknown one is refused.
  return pickTemplate(p.templates, input.locale, p.defaultLocale, p.name);
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
  const webhook = input.channel === 'webhook';
  if (webhook) {
    if (p.deliveryWebhookUrl === null) throw invalidRequest(`profile "${p.name}" has no deliveryWebhookUrl: channel "webhook" needs one in the profile`);
    if (input.sealedCode !== undefined) throw invalidRequest('channel "webhook" sends a code the workers make: drop the code');
    if (input.email !== undefined || input.webhookUrl !== undefined)
      throw invalidRequest('channel "webhook" has no fallback channels: drop email and webhookUrl');
    try {
      checkUrl(p.deliveryWebhookUrl, deps.outbound);
    } catch (err) {
      // The operator's URL, not the caller's: say which setting to fix.
      if (err instanceof DestinationError) throw invalidRequest(`profile "${p.name}" deliveryWebhookUrl ${err.message} (see OTP_OUTBOUND_ALLOW)`);
      throw err;
    }
  }
  if (custom) {
    if (!p.allowCustomChannel) throw invalidRequest(`profile "${p.name}" does not allow the custom channel`);
    if (input.sealedCode === undefined) throw invalidRequest('channel "custom" needs the code the caller will deliver');
    if (input.messageText !== undefined) throw invalidRequest('channel "custom" sends no message: drop messageText');
  }
  let callerCode: string | undefined;
  if (input.sealedCode !== undefined) {
    if (!p.allowCallerCode && !custom) throw invalidRequest(`profile "${p.name}" does not allow caller-supplied codes`);
    callerCode = openSealed(deps, input.sealedCode, input.sessionWorkflowId);
    if (callerCode.length < MIN_CODE_LENGTH || callerCode.length > MAX_CODE_LENGTH || !isInAlphabet(callerCode, p.alphabet)) {
      throw invalidRequest(`code must be ${MIN_CODE_LENGTH}–${MAX_CODE_LENGTH} characters of the ${p.alphabet} alphabet (${ALPHABETS[p.alphabet]})`);
    }
  }
  if (p.requireContext && !input.context?.trim()) throw invalidRequest(`profile "${p.name}" needs a context line, e.g. "Confirm transfer of €500 to Alice"`);
  if (input.context !== undefined && input.context.length > REQUEST_FIELD_MAX_LENGTH.context)
    throw invalidRequest(`context must be at most ${REQUEST_FIELD_MAX_LENGTH.context} characters`);
  if (input.brand !== undefined && !p.allowCallerBrand)
    throw invalidRequest(`profile "${p.name}" does not allow a caller brand (set allowCallerBrand, or the profile's brand)`);
  if (input.brand !== undefined && (input.brand.length < 1 || input.brand.length > REQUEST_FIELD_MAX_LENGTH.brand))
    throw invalidRequest(`brand must be 1–${REQUEST_FIELD_MAX_LENGTH.brand} characters`);
  // Control, bidi and placeholder characters cannot ride in on the brand or the context.
  asRequest(() => {
    if (input.brand !== undefined) assertPlainText('brand', input.brand);
    if (input.context !== undefined) assertPlainText('context', input.context);
  });
  for (const [name, value] of [
    ['callbackUrl', input.callbackUrl],
    ['webhookUrl', input.webhookUrl],
  ] as const) {
    if (value === undefined) continue;
    try {
      checkUrl(value, deps.outbound);
    } catch (err) {
      if (err instanceof DestinationError) throw invalidRequest(`${name} ${err.message}`);
      throw err;
    }
  }
  if (input.email !== undefined && !isEmailAddress(input.email)) throw invalidRequest('email must be one email address');
  const fallback = fallbackDestinations(p, input);

  const { template, locale } = asRequest(() => resolveTemplate(p, input));
  const codeLength = callerCode !== undefined ? callerCode.length : p.codeLength;
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
    ...(p.respectOptOut ? { respectOptOut: true } : {}),
    ...emailPlan(p, locale),
  };
  // Dry run with a stand-in code of the same length: a template over budget sends nothing.
  let dry;
  try {
    const standIn = ALPHABETS[p.alphabet][0].repeat(codeLength);
    dry = webhook ? renderNonSms(render, standIn) : renderMessage({ ...render, code: standIn });
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
    sandboxDigest: sandbox ? codeDigest(deps.codeKeys.current.secret, input.sessionWorkflowId, p.sandbox.code) : undefined,
    customDigest: custom ? codeDigest(deps.codeKeys.current.secret, input.sessionWorkflowId, callerCode!) : undefined,
    segments: dry.segments,
    encoding: dry.encoding,
    country: phone.country,
    fallback,
    callerCode,
    ...(webhook && !sandbox ? { deliveryWebhookUrl: p.deliveryWebhookUrl! } : {}),
    // Custom sends reach no one through us; sandbox numbers get nothing.
    checkOptOut: p.respectOptOut && !custom && !sandbox,
  };
}

/** The profile's email settings for this locale, only when it sets any (the render plan stays as it was otherwise). */
function emailPlan(p: ResolvedProfile, locale: string): { email?: EmailPlan } {
  const html = p.emailHtmlTemplates && Object.hasOwn(p.emailHtmlTemplates, locale) ? p.emailHtmlTemplates[locale] : undefined;
  const email: EmailPlan = {
    ...(p.emailFrom !== null ? { from: p.emailFrom } : {}),
    ...(p.emailSubject !== null ? { subject: p.emailSubject } : {}),
    ...(html !== undefined ? { html } : {}),
  };
  return Object.keys(email).length ? { email } : {};
}

/**
 * Hands one code email to the SMTP server: the profile's From, subject and HTML when it sets them.
 * A 5xx answer is final (EmailRefused, the chain goes on); anything else may be tried again (EmailDeferred).
 */
async function sendCodeEmail(deps: ActivityDeps, input: FallbackInput, code: string, text: string): Promise<string> {
  const { render } = input;
  const values: Record<string, string> = {
    code,
    brand: render.brand,
    ttlMinutes: String(Math.max(1, Math.round(render.ttlSeconds / 60))),
    context: render.context ?? '',
    spokenCode: spokenCode(code),
  };
  const fill = (t: string, escape: (v: string) => string) => t.replace(PLACEHOLDER_PATTERN, (_, k: string) => escape(values[k]));
  const plan = render.email;
  try {
    const info = await deps.mail.transport.sendMail({
      from: plan?.from ?? deps.mail.from,
      to: input.to,
      subject: fill(plan?.subject ?? '{brand} verification code', (v) => v),
      text,
      ...(plan?.html !== undefined ? { html: fill(plan.html, escapeHtml) } : {}),
    });
    Context.current().log.info('code emailed', { codeSeq: input.codeSeq, messageId: info.messageId });
    return String(info.messageId);
  } catch (err) {
    const status = (err as { responseCode?: unknown }).responseCode;
    const permanent = typeof status === 'number' && status >= 500;
    // The server's words name the address it refused: keep the status and the kind of failure only.
    const what = typeof status === 'number' ? `SMTP ${status}` : ((err as { code?: unknown }).code ?? 'SMTP failure');
    throw ApplicationFailure.create({
      type: permanent ? 'EmailRefused' : 'EmailDeferred',
      message: `email ${permanent ? 'refused' : 'not accepted'}: ${String(what)}`,
      nonRetryable: permanent,
    });
  }
}

function escapeHtml(v: string): string {
  return v.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** Email and webhook text: the SMS template, without the SMS segment budget or autofill lines. */
function renderNonSms(render: RenderPlan, code: string): RenderedMessage {
  return renderMessage({ ...render, code, maxSegments: LIMITS.maxSegments[1], autofill: { iosDomain: null, androidAppHash: null } });
}

/** Opens a sealed code for this session, or fails the request naming what is wrong with it. */
function openSealed(deps: ActivityDeps, sealed: string, sessionId: string): string {
  try {
    return deps.seal.open(sealed, sessionId);
  } catch (err) {
    if (err instanceof SealError) throw invalidRequest(`${err.message}: seal it with OTP_SEAL_PUBLIC_KEY for this session (see the README's contract)`);
    throw err;
  }
}

/**
 * Where the same code may go after SMS. Caller-named contacts are taken only
 * when the profile trusts its callers (callerContacts) or, for email, lists
 * the domain; otherwise the send is refused rather than the contact ignored,
 * so a flow that passes one learns at once that it is not used.
 */
function fallbackDestinations(p: ResolvedProfile, input: PrepareSendInput): { email?: string; webhookUrl?: string } | undefined {
  let email: string | undefined;
  if (input.email !== undefined) {
    const domain = emailDomain(input.email);
    if (!p.callerContacts && !p.fallbackEmailDomains.includes(domain)) {
      throw invalidRequest(
        `profile "${p.name}" does not send codes to an email the caller names (set callerContacts, or list the domain in fallbackEmailDomains)`,
      );
    }
    email = input.email;
  }
  if (input.webhookUrl !== undefined && !p.callerContacts) {
    throw invalidRequest(`profile "${p.name}" does not send codes to a webhookUrl the caller names (set callerContacts, or fallbackWebhookUrl in the profile)`);
  }
  const webhookUrl = input.webhookUrl ?? p.fallbackWebhookUrl ?? undefined;
  // The operator's voice provider, only where the chain has a voice step.
  const voiceUrl = p.voiceWebhookUrl !== null && p.chain?.some((s) => s.channel === 'voice') ? p.voiceWebhookUrl : undefined;
  return email || webhookUrl || voiceUrl ? { email, webhookUrl, ...(voiceUrl ? { voiceUrl } : {}) } : undefined;
}

/**
 * Pauses between tries of a channel "webhook" POST: a receiver that fails for a moment (a deploy, a
 * 503) still gets the code while the user waits, and one that keeps failing ends the send in about a second.
 * @default [250, 750] (three tries)
 */
export const WEBHOOK_DELIVERY_BACKOFF_MS = [250, 750];

/**
 * POSTs a signed message, trying again after no answer, a 5xx, 408 or 429 (the same event id each
 * time, so the receiver can drop a repeat). A failure is an answer, not an exception: the caller decides.
 */
async function postWithRetries(deps: ActivityDeps, url: string, body: string, eventId: string, what: string): Promise<{ delivered: boolean; detail: string }> {
  for (let attempt = 1; ; attempt++) {
    try {
      const status = await signedPost(deps.callbackKey, url, body, eventId, what, deps.outbound);
      Context.current().log.info(`code posted (${what})`, { eventId, status, attempt });
      return { delivered: true, detail: `HTTP ${status}` };
    } catch (err) {
      // signedPost's messages name only the host, never the body.
      const detail = err instanceof Error ? err.message : String(err);
      const pause = WEBHOOK_DELIVERY_BACKOFF_MS[attempt - 1];
      if (pause !== undefined && postRetryable(err)) {
        Context.current().log.info(`${what} failed; trying again`, { eventId, detail, attempt });
        await new Promise((r) => setTimeout(r, pause));
        continue;
      }
      Context.current().log.warn(`${what} failed`, { eventId, detail, attempt });
      return { delivered: false, detail: attempt > 1 ? `${detail} (${attempt} tries)` : detail };
    }
  }
}

/** A channel "webhook" code: retrying the local activity would charge the send again, so the session records a failure as failed. */
function postDelivery(deps: ActivityDeps, url: string, message: WebhookDeliveryMessage): Promise<{ delivered: boolean; detail: string }> {
  return postWithRetries(deps, url, JSON.stringify(message), `${message.sessionId}:${message.codeSeq}:delivery`, 'webhook delivery');
}

/** The number must be the one the session id was made from: a send cannot redirect another number's session. */
function assertPhoneOwnsSession(deps: ActivityDeps, input: { tenant: string; phone: string; sessionWorkflowId: string }): void {
  if (!deps.idKeys.some((k) => sessionWorkflowId(k, input.tenant, input.phone) === input.sessionWorkflowId)) {
    throw invalidRequest('phone does not belong to this session: the session id is the keyed hash of another number (or of another OTP_HASH_KEY)');
  }
}

/**
 * Derives the code, renders and submits it, and links its message ids to the
 * session: in this worker's memory (fast path) or durably in mailboxes (v0.1 sessions).
 */
async function dispatch(deps: ActivityDeps, input: DispatchCodeInput, link: 'memory' | 'mailbox'): Promise<DispatchCodeResult> {
  const { render } = input;
  const keyId = input.keyId ?? deps.codeKeys.current.id;
  const code = input.callerCode ?? deriveCode(deps.codeKeys.secret(keyId), input.sessionWorkflowId, input.nonce, render.codeLength, render.alphabet);
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
    return await submitAndLink(deps, input, link, message.text, remainingSeconds, code, keyId);
  } finally {
    submitDone();
  }
}

async function submitAndLink(
  deps: ActivityDeps,
  input: DispatchCodeInput,
  link: 'memory' | 'mailbox',
  text: string,
  remainingSeconds: number,
  code: string,
  keyId: string,
): Promise<DispatchCodeResult> {
  const { render } = input;
  let submitted;
  try {
    submitted = await deps.smsc.submitText(input.phone, text, {
      senderId: render.senderId,
      validitySeconds: remainingSeconds,
      country: input.country,
      trafficClass: 'otp',
      // Inside this activity's timeout: a timed-out activity is retried while its submit still runs.
      deadline: submitDeadline(Context.current().info),
      // A retry of this code keeps a long text's reference and sends only its missing parts.
      messageKey: `${input.sessionWorkflowId}:${input.codeSeq}`,
    });
  } catch (err) {
    if (err instanceof SmppPermanentError) {
      throw ApplicationFailure.create({ type: 'SmppPermanentError', message: err.message, nonRetryable: true });
    }
    if (err instanceof SmppUnconfirmedError) {
      // A retry could put a second SMS on the handset: the session decides (a resend, a staggered retry), not the activity's retry policy.
      throw ApplicationFailure.create({ type: 'SmppUnconfirmed', message: err.message, nonRetryable: true });
    }
    throw err;
  }
  // Link every segment's message id to this session before we report success
  // (not an id we made up for an SMSC that gave none: no receipt can name it).
  const route = deps.smsc.route(submitted.route)!;
  for (const id of submitted.messageIds) if (!isUnlinkedMessageId(id)) deps.metrics?.trackSubmit(route.name, route.submitKey(id));
  deps.late.follow(route, submitted.late, { sessionWorkflowId: input.sessionWorkflowId, codeSeq: input.codeSeq });
  const inDoubt = submitted.messageIds.filter(isInDoubtId).length;
  if (inDoubt)
    Context.current().log.warn('submit in doubt: no submit_sm_resp yet, not sent again; its late answer will be linked', {
      codeSeq: input.codeSeq,
      route: submitted.route,
      inDoubt,
    });
  await Promise.all(
    submitted.messageIds
      .filter((id) => !isUnlinkedMessageId(id))
      .map((messageId) => {
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
  Context.current().log.info('code dispatched', {
    codeSeq: input.codeSeq,
    route: submitted.route,
    segments: submitted.segments,
    messageIds: submitted.messageIds,
  });
  return {
    route: submitted.route,
    codeDigest: codeDigest(deps.codeKeys.secret(keyId), input.sessionWorkflowId, code),
    keyId,
    messageIds: submitted.messageIds,
    segments: submitted.segments,
    encoding: submitted.encoding,
  };
}

/** The whole critical path of a send: admission, policy, resend rules, quota, dispatch. */
async function sendCode(deps: ActivityDeps, input: SendCodeInput): Promise<SendCodeResult> {
  // The age check is for the first attempt only: a retry of a send already under way is not stale.
  assertPhoneOwnsSession(deps, input);
  const maskedPhone = maskPhone(input.phone);
  const info = Context.current().info;
  // A too-old request is still sent when an earlier workflow task may already have sent it (a worker crash): see enterOrResume.
  const admission = await deps.admission.enterOrResume(info.attempt === 1 ? input.requestedAtMs : undefined, () => workflowTaskRetried(deps.client, info));
  if (!admission.admitted) return { status: 'overloaded', reason: admission.reason, retryAfterSeconds: admission.retryAfterSeconds, maskedPhone };
  try {
    const prep = prepare(deps, input);
    if (prep.status !== 'ok') return { ...prep, maskedPhone };
    const { rules } = prep;
    // Only an approved revision sends (issue 12): decided from the worker's cache, nothing sent otherwise.
    const unapproved = await approvalRefused(deps, input.tenant, input.profile);
    if (unapproved) return { ...unapproved, profile: rules.profile, maskedPhone };
    const refusal = resendDecision(rules, input.session, input.nowMs);
    if (refusal) return { ...refusal, profile: rules.profile, maskedPhone };
    // Before the quota: a refused send is not charged. Nothing is sent to a number that texted STOP.
    if (prep.checkOptOut && (await isOptedOut(deps, input.phone))) return { status: 'blocked', reason: 'opted_out', profile: rules.profile, maskedPhone };
    let shadowFlags: string[] = [];
    if (prep.quota) {
      const quota = deps.gate.acquire(input.tenant, prep.quota);
      if (!quota.allowed)
        return {
          status: quota.status ?? 'blocked',
          reason: quota.reason ?? 'velocity',
          retryAfterSeconds: quota.retryAfterSeconds,
          profile: rules.profile,
          maskedPhone,
        };
      shadowFlags = quota.shadowFlags;
    }
    const keyId = deps.codeKeys.current.id;
    const base = {
      status: 'ok' as const,
      rules,
      render: prep.render,
      country: prep.country,
      shadowFlags,
      maskedPhone,
      quota: prep.quota,
      fallback: prep.fallback,
      keyId,
    };
    if (prep.sandboxDigest) return { ...base, kind: 'sandbox', digest: prep.sandboxDigest, segments: prep.segments, encoding: prep.encoding };
    if (prep.customDigest) return { ...base, kind: 'custom', digest: prep.customDigest, segments: 0, encoding: prep.encoding };
    if (prep.deliveryWebhookUrl) {
      // Always a new code: a webhook code is never re-delivered, retried or escalated.
      const code = deriveCode(deps.codeKeys.secret(keyId), input.sessionWorkflowId, input.next.nonce, prep.render.codeLength, prep.render.alphabet);
      const post = await postDelivery(deps, prep.deliveryWebhookUrl, {
        sessionId: input.sessionWorkflowId,
        codeSeq: input.next.seq,
        channel: 'webhook',
        kind: 'delivery',
        code,
        brand: prep.render.brand,
        expiresAt: new Date(input.nowMs + rules.ttlSeconds * 1000).toISOString(),
        phone: input.phone,
        profile: rules.profile,
        locale: prep.render.locale,
        text: renderNonSms(prep.render, code).text,
      });
      return {
        ...base,
        kind: 'webhook',
        ...post,
        digest: codeDigest(deps.codeKeys.secret(keyId), input.sessionWorkflowId, code),
        segments: 0,
        encoding: prep.encoding,
      };
    }
    const current = input.session.current;
    const redeliver = current !== undefined && shouldRedeliver(current, rules.profile, prep.callerCode, input.nowMs);
    const target = redeliver
      ? { seq: current.seq, nonce: current.nonce, keyId: current.keyId, expiresAtMs: current.expiresAtMs }
      : { ...input.next, keyId, expiresAtMs: input.nowMs + rules.ttlSeconds * 1000 };
    // Without staggered retries no claim will ever look for this message's receipt: link it durably now.
    const link = rules.retrySchedule.length > 0 && prep.callerCode === undefined ? 'memory' : 'mailbox';
    const dispatchInput: DispatchCodeInput = {
      sessionWorkflowId: input.sessionWorkflowId,
      codeSeq: target.seq,
      nonce: target.nonce,
      keyId: target.keyId,
      phone: input.phone,
      expiresAtMs: target.expiresAtMs,
      render: prep.render,
      callerCode: prep.callerCode,
      country: prep.country,
    };
    let d: DispatchCodeResult;
    try {
      d = await dispatch(deps, dispatchInput, link);
    } catch (err) {
      // v7: a number the SMSC refuses for good (no route, bad address), or an SMS that could not be submitted on this
      // activity's last try (SMSC down, no answer), still gets its code by the chain's next channel.
      const continues =
        input.continueOnRefusal && !redeliver && prep.callerCode === undefined && chainContinues(resolveChain(rules.chain, rules), prep.fallback);
      const final = (err instanceof ApplicationFailure && err.type === 'SmppPermanentError') || isFinalFailure(err, Context.current().info);
      if (!continues || !final || (err instanceof ApplicationFailure && err.type === 'InvalidMessage')) throw err;
      const code = deriveCode(deps.codeKeys.secret(keyId), input.sessionWorkflowId, target.nonce, prep.render.codeLength, prep.render.alphabet);
      Context.current().log.warn('SMS not submitted; the chain goes on', { codeSeq: target.seq, reason: err instanceof Error ? err.message : String(err) });
      return {
        ...base,
        kind: 'sms',
        redeliver: false,
        digest: codeDigest(deps.codeKeys.secret(keyId), input.sessionWorkflowId, code),
        keyId,
        route: '',
        messageIds: [],
        segments: prep.segments,
        encoding: prep.encoding,
        smsRefused: err instanceof Error ? err.message : String(err),
      };
    }
    return {
      ...base,
      kind: 'sms',
      redeliver,
      digest: d.codeDigest,
      keyId: d.keyId,
      route: d.route,
      messageIds: d.messageIds,
      segments: d.segments,
      encoding: d.encoding,
    };
  } finally {
    admission.release();
  }
}

/** Records one send decision: its channel, country calling code and outcome, and for an SMS the time from request to submit. */
async function measuredSend(metrics: OtpMetrics, input: SendCodeInput, run: () => Promise<SendCodeResult>): Promise<SendCodeResult> {
  const country = countryLabel(maskPhone(input.phone));
  let r: SendCodeResult;
  try {
    r = await run();
  } catch (err) {
    // A failure the local activity's retry policy will retry is not the send's outcome yet.
    if (isFinalFailure(err, Context.current().info))
      metrics.send(input.channel ?? 'sms', country, err instanceof ApplicationFailure && err.type === 'InvalidRequest' ? 'invalid_request' : 'failed');
    throw err;
  }
  if (r.status !== 'ok') {
    metrics.send(input.channel ?? 'sms', country, r.status);
    return r;
  }
  if (r.kind === 'webhook') metrics.send('webhook', country, r.delivered ? 'sent' : 'failed');
  else if (r.kind === 'sms' && r.smsRefused !== undefined) metrics.send('sms', country, 'failed');
  else if (r.kind === 'sms') {
    metrics.send('sms', country, r.redeliver ? 'redelivered' : 'sent');
    // From the caller's request when it says when (a clock ahead of ours counts from the session's time).
    const from = input.requestedAtMs !== undefined && input.requestedAtMs <= Date.now() ? input.requestedAtMs : input.nowMs;
    metrics.submitted(country, (Date.now() - from) / 1000);
  } else metrics.send(r.kind, country, 'sent');
  return r;
}

/** True when the activity will not be attempted again after this error. */
function isFinalFailure(err: unknown, info: { attempt: number; retryPolicy?: { maximumAttempts?: number; nonRetryableErrorTypes?: string[] } }): boolean {
  if (
    err instanceof ApplicationFailure &&
    (err.nonRetryable || (err.type !== undefined && err.type !== null && info.retryPolicy?.nonRetryableErrorTypes?.includes(err.type)))
  )
    return true;
  const max = info.retryPolicy?.maximumAttempts;
  return max !== undefined && max > 0 && info.attempt >= max;
}

export function createActivities(deps: ActivityDeps): OtpActivities {
  return {
    /** Local activity, the whole critical path of a send: admission, policy, resend rules, quota, dispatch. */
    async sendCode(input: SendCodeInput): Promise<SendCodeResult> {
      if (!deps.metrics) return sendCode(deps, input);
      return measuredSend(deps.metrics, input, () => sendCode(deps, input));
    },

    /**
     * Local activity before a staggered retry: if a final receipt for these
     * messages is known here or in a mailbox, returns it instead of re-sending.
     */
    async retryCode(input: RetryCodeInput): Promise<RetryCodeResult> {
      // The number comes from workflow state: check it again, as for a send.
      if (input.tenant !== undefined) assertPhoneOwnsSession(deps, { tenant: input.tenant, phone: input.phone, sessionWorkflowId: input.sessionWorkflowId });
      const receipts = await deps.links.claim(
        input.unanswered.map((m) => {
          const route = deps.smsc.route(m.route);
          // A stand-in id whose late answer came: look for the SMSC's id.
          const id = deps.late.resolve(m.route, m.messageId);
          return {
            route: m.route,
            key: route ? route.submitKey(id) : id,
            link: { sessionWorkflowId: input.sessionWorkflowId, codeSeq: input.codeSeq, messageId: m.messageId },
          };
        }),
      );
      if (receipts.length || input.claimOnly) return { receipts };
      // A STOP since the first send: the same code is not sent again (one describe per retry).
      if (input.render.respectOptOut && (await isOptedOut(deps, input.phone))) return { refused: 'opted_out' };
      // A staggered retry is an SMS like any other: the tenant rate and velocity pay for it.
      if (input.quota && input.tenant) {
        const quota = deps.gate.acquire(input.tenant, input.quota);
        if (!quota.allowed) return { refused: quota.reason ?? 'velocity' };
      }
      return { dispatched: await dispatch(deps, input, input.linkNow ? 'mailbox' : 'memory') };
    },

    /** v0.1 sessions: policy only (sendCode does it all now). */
    async prepareSend(input: PrepareSendInput): Promise<PrepareSendResult> {
      const prep = prepare(deps, input);
      if (prep.status !== 'ok') return prep;
      // v0.1 sessions know no `overloaded` here: any refusal is `blocked` for them.
      const unapproved = await approvalRefused(deps, input.tenant, input.profile);
      return unapproved ? { status: 'blocked', reason: unapproved.reason, profile: prep.rules.profile } : prep;
    },

    /** v0.1 sessions: tenant rate and velocity, now from the worker's gate. */
    async acquireSendQuota({ tenant, request }: { tenant: string; request: QuotaRequest }): Promise<QuotaResult> {
      return deps.gate.acquire(tenant, request);
    },

    /** v0.1 sessions: dispatch with a durable mailbox link per message. */
    async dispatchCode(input: DispatchCodeInput): Promise<DispatchCodeResult> {
      return dispatch(deps, input, 'mailbox');
    },

    async describeProfileRevision({ profile }: { profile: string }): Promise<SenderRevisionContent> {
      const p = deps.profiles.get(profile);
      if (!p) throw invalidRequest(`unknown profile "${profile}" (known: ${deps.profiles.names().join(', ')})`);
      return revisionContent(deps, p);
    },

    async describeCatalog(): Promise<OtpCatalog> {
      const profiles = deps.profiles.names().map((name) => catalogProfile(deps.profiles.get(name)!));
      return { taskQueue: deps.taskQueue, defaultProfile: DEFAULT_PROFILE, profiles };
    },

    async applyOptOut({ phone, optOut, at }): Promise<void> {
      const change = { optedOut: optOut === 'stop', at };
      if (optOut === 'stop') {
        // Idempotent: a running entry just gets another STOP; a closed one (after START) starts again.
        const workflowId = optOutWorkflowId(deps.idKeys[0], phone);
        await deps.client.workflow.signalWithStart(OPT_OUT_WORKFLOW, {
          workflowId,
          taskQueue: deps.taskQueue,
          args: [change],
          signal: optOutSignal,
          signalArgs: [change],
        });
        deps.suppression?.applied(workflowId, true);
      } else {
        // Entries made under a previous id key end too.
        await Promise.all(
          deps.idKeys.map(async (key) => {
            const workflowId = optOutWorkflowId(key, phone);
            try {
              // The run this START ends, so the worker's copy can tell it from a newer STOP.
              const handle = deps.client.workflow.getHandle(workflowId);
              const { runId } = await handle.describe();
              await handle.signal(optOutSignal, change);
              deps.suppression?.applied(workflowId, false, runId);
            } catch (err) {
              if (!(err instanceof WorkflowNotFoundError)) throw err;
            }
          }),
        );
      }
      Context.current().log.info(optOut === 'stop' ? 'number added to the suppression list' : 'number removed from the suppression list', {
        maskedPhone: maskPhone(phone),
      });
    },

    async postMobileOriginated(input): Promise<{ status: number } | { skipped: string }> {
      const url = deps.moWebhookUrl;
      if (!url) return { skipped: 'OTP_MO_WEBHOOK_URL is not set' };
      const event: MobileOriginatedEvent = {
        kind: 'mo',
        eventId: input.eventId,
        from: input.from,
        to: input.to,
        text: input.text,
        route: input.route,
        receivedAt: input.receivedAt,
        ...(input.keyword ? { keyword: input.keyword, optOut: input.optOut } : {}),
      };
      return { status: await signedPost(deps.callbackKey, url, JSON.stringify(event), input.eventId, 'MO webhook', deps.outbound) };
    },

    async deliverCallback({ url, event }): Promise<{ status: number }> {
      return { status: await signedPost(deps.callbackKey, url, JSON.stringify(event), event.eventId, 'delivery callback', deps.outbound) };
    },

    async deliverFallback(input: FallbackInput): Promise<{ channel: FallbackChannel; id: string }> {
      const { render } = input;
      // An escalation is a send too: charged to the tenant rate and velocity; a refusal fails this channel.
      if (input.quota && input.tenant) {
        const quota = deps.gate.acquire(input.tenant, input.quota);
        if (!quota.allowed)
          throw ApplicationFailure.create({ type: 'RateLimited', message: `fallback refused by ${quota.reason ?? 'velocity'}`, nonRetryable: true });
      }
      const code = deriveCode(deps.codeKeys.secret(input.keyId), input.sessionWorkflowId, input.nonce, render.codeLength, render.alphabet);
      // The chain step's own text for this locale, else the channel's default: the SMS wording, or speech for voice.
      const own = input.templates && Object.hasOwn(input.templates, render.locale) ? input.templates[render.locale] : undefined;
      const template = own ?? (input.channel === 'voice' ? (VOICE_TEMPLATES[render.locale.split('-')[0]] ?? VOICE_TEMPLATES.en) : render.template);
      const text = renderNonSms({ ...render, template }, code).text;
      if (input.channel === 'email') return { channel: 'email', id: await sendCodeEmail(deps, input, code, text) };
      const expiresAt = new Date(input.expiresAtMs).toISOString();
      const id = `${input.sessionWorkflowId}:${input.codeSeq}:${input.channel}`;
      const message: WebhookChannelMessage | VoiceChannelMessage =
        input.channel === 'voice'
          ? {
              sessionId: input.sessionWorkflowId,
              codeSeq: input.codeSeq,
              channel: 'voice',
              phone: input.phone ?? '',
              locale: render.locale,
              speech: text,
              code,
              brand: render.brand,
              expiresAt,
            }
          : { sessionId: input.sessionWorkflowId, codeSeq: input.codeSeq, channel: 'webhook', code, brand: render.brand, expiresAt };
      // v7 chain steps retry within the step (a receiver down for a moment still gets the code); v6 escalations leave it to the activity's retries.
      if (!input.chainStep) {
        await signedPost(deps.callbackKey, input.to, JSON.stringify(message), id, `${input.channel} channel`, deps.outbound);
        return { channel: input.channel, id };
      }
      const post = await postWithRetries(deps, input.to, JSON.stringify(message), id, `${input.channel} channel`);
      if (!post.delivered)
        throw ApplicationFailure.create({ type: 'PostFailed', message: `${input.channel} channel failed: ${post.detail}`, nonRetryable: true });
      return { channel: input.channel, id };
    },
  };
}
