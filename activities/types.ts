/** The activity interface the workflows call; implemented in ./index.ts. */
import type {
  SenderRevisionContent,
  MobileOriginatedInput,
  DeliveryCallbackEvent,
  DeliveryReceipt,
  OtpCatalog,
  QuotaRequest,
  QuotaResult,
  FallbackChannel,
  SendChannel,
  SendRefused,
} from '../contract';
import type { FallbackDestinations } from '../policy/chain';
import type { SendHistory } from '../policy/resend';
import type { AutofillPolicy, CodeAlphabet, SessionRules } from '../policy/profile';

/** Everything dispatch needs to render the message; decided by prepareSend from the profile. */
export interface RenderPlan {
  template: string;
  brand: string;
  senderId: string;
  ttlSeconds: number;
  context?: string;
  autofill: AutofillPolicy;
  normalize: boolean;
  maxSegments: number;
  codeLength: number;
  alphabet: CodeAlphabet;
  locale: string;
  /** The profile respects STOP: a staggered retry of this code looks the number up on the suppression list again. */
  respectOptOut?: boolean;
  /** The profile's email settings, when it sets any (absent: OTP_EMAIL_FROM, the default subject, text only). */
  email?: EmailPlan;
}

/** How this profile's code emails look: From, subject and the HTML body for the send's locale. */
export interface EmailPlan {
  from?: string;
  /** With {brand}. */
  subject?: string;
  /** HTML with the template placeholders; values are HTML-escaped. */
  html?: string;
}

export interface PrepareSendInput {
  tenant: string;
  sessionWorkflowId: string;
  phone: string;
  profile: string;
  locale?: string;
  context?: string;
  brand?: string;
  /** Caller code sealed for the workers (contract/keys.ts sealCode). */
  sealedCode?: string;
  messageText?: string;
  callbackUrl?: string;
  channel?: SendChannel;
  email?: string;
  webhookUrl?: string;
}

export type PrepareSendResult =
  | {
      status: 'ok';
      rules: SessionRules;
      render: RenderPlan;
      /** Quota to ask the tenant's velocity workflow for; null when the profile sets no limit. */
      quota: QuotaRequest | null;
      /** Set for sandbox numbers: the digest of the profile's fixed code. Nothing is dispatched. */
      sandboxDigest?: string;
      /** Set for channel "custom": the digest of the caller's code. Nothing is dispatched. */
      customDigest?: string;
      segments: number;
      encoding: 'GSM7' | 'UCS2';
      /** ISO country of the destination (routing). */
      country: string;
      /** Fallback destinations the profile allows for this send. */
      fallback?: FallbackDestinations;
      /** The caller's code, opened (never leaves the worker). */
      callerCode?: string;
      /** Set for channel "webhook": the profile's deliveryWebhookUrl, checked against the outbound policy. */
      deliveryWebhookUrl?: string;
      /** The profile respects STOP and this send would reach the number: look the number up on the suppression list. */
      checkOptOut?: boolean;
    }
  | { status: 'invalid_number' | 'blocked'; reason: string; profile: string };

export interface DispatchCodeInput {
  sessionWorkflowId: string;
  codeSeq: number;
  /** Random per-code nonce; the code is HMAC(OTP_CODE_KEY, workflowId|nonce), so a retry resends the same code. */
  nonce: string;
  /** Code key that derives the code (absent: the current key). */
  keyId?: string;
  phone: string;
  /** Epoch ms after which the code is dead; the SMSC validity period does not outlive it. */
  expiresAtMs: number;
  render: RenderPlan;
  /** Caller-supplied code (trigger mode); travels only inside encrypted payloads. */
  callerCode?: string;
  /** ISO country of the destination, for route selection. */
  country?: string;
}

export interface DispatchCodeResult {
  /** SMSC route that took the message. */
  route: string;
  /** Digest of the code (see activities/code.ts codeDigest); the code itself never leaves the activity. */
  codeDigest: string;
  /** Code key id of the digest. */
  keyId: string;
  messageIds: string[];
  segments: number;
  encoding: 'GSM7' | 'UCS2';
}

export interface FallbackInput {
  channel: FallbackChannel;
  /** Email address or webhook URL (inside encrypted payloads only). */
  to: string;
  /** Voice: the number to call (inside encrypted payloads only). */
  phone?: string;
  /** v7: a step of the profile's chain (a webhook or voice POST tries three times within the step, and fails typed as PostFailed). */
  chainStep?: boolean;
  /** The chain step's own text per locale (null or absent: the channel's default). */
  templates?: Record<string, string> | null;
  sessionWorkflowId: string;
  codeSeq: number;
  /** Same nonce as the SMS: the escalation carries the same code, never a new one. */
  nonce: string;
  keyId?: string;
  expiresAtMs: number;
  render: RenderPlan;
  /** Charged to the tenant rate like a send (null: the profile sets no limit). */
  tenant?: string;
  quota?: QuotaRequest | null;
}

export interface SendCodeInput extends PrepareSendInput {
  /** Caller's request instant (epoch ms), for admission control. */
  requestedAtMs?: number;
  /** Workflow time of the send: every rule is decided at this instant. */
  nowMs: number;
  session: SendHistory;
  /** Sequence number and nonce of the code to issue if this send makes a new one. */
  next: { seq: number; nonce: string };
  /** v7: a permanent refusal at submit issues the code for the profile's next channel instead of failing (when one has a destination). */
  continueOnRefusal?: boolean;
}

/** A refusal from the send activity: the session adds its id and masked number. */
export type SendCodeRefusal = Omit<SendRefused, 'sessionId' | 'maskedPhone'> & { maskedPhone?: string };

export type SendCodeResult =
  | SendCodeRefusal
  | ({
      status: 'ok';
      rules: SessionRules;
      render: RenderPlan;
      country: string;
      shadowFlags: string[];
      /** Masked by the worker from the number it checked against the session id. */
      maskedPhone: string;
      /** Quota charged for this send; staggered retries and escalations are charged the same. */
      quota: QuotaRequest | null;
      fallback?: FallbackDestinations;
      digest: string;
      keyId: string;
      segments: number;
      encoding: 'GSM7' | 'UCS2';
    } & (
      | { kind: 'sandbox' | 'custom' }
      /** smsRefused: the SMSC refused it for good at submit (no message ids) and the chain goes on (continueOnRefusal). */
      | { kind: 'sms'; redeliver: boolean; route: string; messageIds: string[]; smsRefused?: string }
      /** Channel "webhook": a new code, POSTed once; `detail` names the answer (HTTP status or the failure, host only). */
      | { kind: 'webhook'; delivered: boolean; detail: string }
    ));

export interface RetryCodeInput extends DispatchCodeInput {
  /** Charged to the tenant rate and velocity like a send; a refusal skips the retry. */
  tenant?: string;
  quota?: QuotaRequest | null;
  /** Messages of this code with no final receipt yet. */
  unanswered: { route: string; messageId: string }[];
  /** Only look for receipts; never send (the session re-checks its state before it sends). */
  claimOnly?: boolean;
  /** No claim will follow this send (last retry): link its messages in their mailboxes at once. */
  linkNow?: boolean;
}

/** Final receipts found instead of re-sending, the re-send, or the limit that refused it. */
export type RetryCodeResult = { receipts: (DeliveryReceipt & { messageId: string })[] } | { dispatched: DispatchCodeResult } | { refused: string };

export interface OtpActivities {
  /** Local: the whole critical path of a send (admission, policy, resend rules, quota, dispatch). */
  sendCode(input: SendCodeInput): Promise<SendCodeResult>;
  /** Local: before a staggered retry, the receipts already known, else the same code again. */
  retryCode(input: RetryCodeInput): Promise<RetryCodeResult>;
  /** Sends the current code through a fallback channel. */
  deliverFallback(input: FallbackInput): Promise<{ channel: FallbackChannel; id: string }>;
  prepareSend(input: PrepareSendInput): Promise<PrepareSendResult>;
  acquireSendQuota(input: { tenant: string; request: QuotaRequest }): Promise<QuotaResult>;
  dispatchCode(input: DispatchCodeInput): Promise<DispatchCodeResult>;
  /** Local, run by the sender approval workflow's proposals: the profile's revision as this worker has it. */
  describeProfileRevision(input: { profile: string }): Promise<SenderRevisionContent>;
  /** Local, run by the otpCatalog workflow: the profiles this worker knows, as callers may see them. */
  describeCatalog(): Promise<OtpCatalog>;
  /** POSTs one signed delivery event; throws on a non-2xx answer so Temporal retries it. */
  deliverCallback(input: { url: string; event: DeliveryCallbackEvent }): Promise<{ status: number }>;
  /** Puts the number on the suppression list (stop) or takes it off (start). */
  applyOptOut(input: { phone: string; optOut: 'stop' | 'start'; at: string }): Promise<void>;
  /** POSTs one MO message to OTP_MO_WEBHOOK_URL, signed; throws on a non-2xx answer so Temporal retries it. */
  postMobileOriginated(input: MobileOriginatedInput): Promise<{ status: number } | { skipped: string }>;
}
