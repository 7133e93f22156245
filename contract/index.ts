/**
 * The OTP contract: workflow types, task queue, update / query / signal names
 * and their JSON shapes. The n8n nodes, the typed client, the CLI, the worker
 * and the tests all import from here; backends in other languages read the
 * same contract in docs/contract.md.
 *
 * This module must stay free of Node built-ins: workflow code imports it.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';

export * from './search-attributes';

/** Default task queue the worker polls. */
export const DEFAULT_TASK_QUEUE = 'otp';
/** Default tenant when a caller does not name one. */
export const DEFAULT_TENANT = 'default';

/** A phone number in E.164: "+", a country code that does not start with 0, 7–15 digits in all. */
export const E164_PATTERN = /^\+[1-9]\d{6,14}$/;
/** Tenant and profile names: part of workflow ids and visibility queries, so a safe alphabet. */
export const NAME_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
/** How NAME_PATTERN reads in an error message. */
export const NAME_RULE = '1–64 characters from A–Z, a–z, 0–9, "_", ".", "-"';

/** Workflow type of the per-(tenant, phone) entity workflow. */
export const OTP_SESSION_WORKFLOW = 'otpSession';
/** Workflow type of the v0.1 per-tenant velocity limiter; kept so its running instances can finish. */
export const VELOCITY_WORKFLOW = 'otpVelocity';
/** Workflow type of one shard of a tenant's velocity counts, signalled by workers without waiting. */
export const VELOCITY_SHARD_WORKFLOW = 'otpVelocityShard';
/** Workflow type of the per-message receipt mailbox (see DESIGN.md decision 5). */
export const RECEIPT_MAILBOX_WORKFLOW = 'deliveryReceiptMailbox';
/** Workflow type that answers with the workers' OtpCatalog and ends (one local activity). */
export const CATALOG_WORKFLOW = 'otpCatalog';
/** Catalog workflow ids start with this; ":" never occurs in a session id, so none can be squatted. */
export const CATALOG_WORKFLOW_ID_PREFIX = 'otp-catalog:';
/** Workflow type of one mobile-originated message: applies its STOP/START keyword and posts it to OTP_MO_WEBHOOK_URL, with retries. */
export const MO_WORKFLOW = 'otpMobileOriginated';
/** MO workflow ids start with this (then the route and a keyed hash: never the number). */
export const MO_WORKFLOW_ID_PREFIX = 'otp-mo:';
/** Workflow type of one number's opt-out (STOP): running means suppressed; START ends it. */
export const OPT_OUT_WORKFLOW = 'otpOptOut';
/** Opt-out workflow ids start with this (then a keyed hash of the number). */
export const OPT_OUT_WORKFLOW_ID_PREFIX = 'otp-optout:';
export const OPT_OUT_SIGNAL = 'optOut';
export const OPT_OUT_QUERY = 'optedOut';

/** Workflow type of a tenant's sender approvals: its history is the trail of who proposed and who approved which profile revision. */
export const SENDER_APPROVAL_WORKFLOW = 'otpSenderApproval';
/** Sender approval workflow ids: this, then the tenant. */
export const SENDER_APPROVAL_WORKFLOW_ID_PREFIX = 'otp-approval:';
export const PROPOSE_REVISION_UPDATE = 'proposeRevision';
export const APPROVE_REVISION_UPDATE = 'approveRevision';
export const REJECT_REVISION_UPDATE = 'rejectRevision';
export const REVISIONS_QUERY = 'revisions';

export const SEND_UPDATE = 'send';
export const ACQUIRE_UPDATE = 'acquire';
export const VERIFY_UPDATE = 'verify';
export const CANCEL_UPDATE = 'cancel';
export const STATUS_QUERY = 'status';
export const DELIVERY_RECEIPT_SIGNAL = 'deliveryReceipt';
export const MAILBOX_SUBMITTED_SIGNAL = 'submitted';
export const MAILBOX_RECEIPT_SIGNAL = 'receipt';
export const MAILBOX_RECEIPTS_QUERY = 'receipts';
export const VELOCITY_REPORT_SIGNAL = 'report';
export const VELOCITY_SNAPSHOT_QUERY = 'snapshot';

/**
 * What a worker's payload codec decodes a payload that was not encrypted into:
 * anyone with namespace access can write plain payloads, so handlers ignore
 * (signals) or refuse (updates, starts) this value instead of trusting it.
 */
export const UNENCRYPTED_PAYLOAD = { $unencrypted: true } as const;

export function isUnencrypted(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as Record<string, unknown>).$unencrypted === true;
}

/**
 * Version of the session workflow a client starts; clients that omit it get the same, with a patch
 * marker per feature. 3: sealed codes and the lockout; 4: search attributes with no patch marker;
 * 5: the client sets the first search attributes at start, and a send's own step writes none;
 * 6: an SMS receipt whose state the profile names in escalateOnStats escalates at once (no SMS retry);
 * 7: the profile's channel chain (policy/chain.ts), and a permanent refusal at submit goes on to its next channel.
 */
export const SESSION_VERSION = 7;

/**
 * The sessions' workflow task timeout, set by clients at start (Temporal's default is 10 s). A task in flight on a
 * worker that crashed is retried after it: a send caught by the crash is answered after it, not timed out at 10 s.
 * Local activities longer than 80 % of it (a throttled submit) heartbeat the task instead of timing it out.
 */
export const SESSION_WORKFLOW_TASK_TIMEOUT_MS = 4000;

/** Code lengths accepted: 6 digits at least (NIST SP 800-63B), 10 at most. */
export const MIN_CODE_LENGTH = 6;
export const MAX_CODE_LENGTH = 10;
/** Idempotency keys: at most this long, printable ASCII (they sit in history in the clear). */
export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7E]{1,128}$/;

/**
 * An idempotency key a session can keep: IDEMPOTENCY_KEY_PATTERN, and not the name of an
 * Object.prototype member ("__proto__", "constructor"…): sessions keep answers in plain objects.
 */
export function isIdempotencyKey(key: unknown): key is string {
  return typeof key === 'string' && IDEMPOTENCY_KEY_PATTERN.test(key) && !(key in Object.prototype);
}

/**
 * Longest value of each free-text request field. Past it a request is refused by the client and by
 * the session's update validator, so it never reaches history (nor an error message whole).
 */
export const REQUEST_FIELD_MAX_LENGTH = {
  locale: 35,
  context: 160,
  brand: 40,
  messageText: 1000,
  sealedCode: 1500,
  callbackUrl: 2048,
  webhookUrl: 2048,
  email: 254,
  requestedAt: 64,
  /** CancelOtpRequest.reason */
  reason: 200,
} as const;

/**
 * What the type of an error a caller sees means (OtpRequestError.type, an update failure's type):
 * these are transient (retry later, the same request may succeed); every other type is permanent
 * (InvalidRequest, DispatchFailed, SelfApproval…: fix the request, or ask for a new code).
 */
export const TRANSIENT_ERROR_TYPES = ['Timeout', 'Unavailable', 'TooManyRequests'] as const;

export function isTransientErrorType(type: string | undefined): boolean {
  return (TRANSIENT_ERROR_TYPES as readonly (string | undefined)[]).includes(type);
}
/** How long a session remembers idempotency keys and send times after its last send. */
export const IDEMPOTENCY_RETENTION_MS = 24 * 60 * 60 * 1000;

/** Input of the session workflow itself: who the session is for. */
export interface OtpSessionInput {
  tenant: string;
  /** Masked phone (+33•••••678) as the caller saw it; the session shows the worker's own masking once a send has been checked. */
  maskedPhone: string;
  /** Set to SESSION_VERSION by clients that start sessions of this version (saves a patch marker). */
  v?: number;
  /** State carried over by continue-as-new; absent on a fresh session. Workers sign it (codec/carried-state-codec.ts). */
  carried?: unknown;
  /** Set by the workers' codec when `carried` came without a valid signature: the session fails at once. */
  carriedRefused?: boolean;
}

/** Update `acquire` on the velocity workflow: may this send go out? */
export interface QuotaRequest {
  country: string;
  /** "+" and the first N digits of the number. */
  prefix: string;
  tenantSendsPerMinute: number;
  perCountryPerHour: number | null;
  perPrefixPerHour: number | null;
  shadow: boolean;
}

export interface QuotaResult {
  allowed: boolean;
  status?: 'rate_limited' | 'blocked';
  reason?: string;
  retryAfterSeconds?: number;
  /** Limits that were exceeded but only reported (shadow mode). */
  shadowFlags: string[];
}

/** What a profile's codes confirm; a verify names it. */
export const OTP_PURPOSES = ['login', 'transaction', 'recovery', 'custom'] as const;
export type OtpPurpose = (typeof OTP_PURPOSES)[number];

/** One profile as callers may see it: what to offer in a form, nothing secret (no URLs, no keys). */
export interface OtpCatalogProfile {
  name: string;
  /** name@revision, as sends record it. */
  revision: string;
  purpose: OtpPurpose;
  /** One line for a dropdown, e.g. "login: 6-digit code, valid 5 min". */
  description: string;
  /** Locales the profile has templates for, in its own order; a send's `locale` must be one of them or their base language. */
  locales: string[];
  defaultLocale: string;
  /** Channels a send may ask for: "sms" always, "custom" with allowCustomChannel, "webhook" with a deliveryWebhookUrl. */
  channels: SendChannel[];
  allowCustomChannel: boolean;
  /** The profile has a deliveryWebhookUrl, so channel "webhook" works (the URL itself is not listed). */
  hasDeliveryWebhook: boolean;
  /** Sends must carry a context line (transactions). */
  requireContext: boolean;
  codeLength: number;
  ttlSeconds: number;
}

/** What the workers polling a task queue know: answered by the worker that ran the catalog workflow. */
export interface OtpCatalog {
  taskQueue: string;
  /** The profile a send without `profile` uses. */
  defaultProfile: string;
  profiles: OtpCatalogProfile[];
}

/** Update `send`: issue a code under a policy profile and dispatch it. */
export interface SendOtpRequest {
  /** E.164 destination, e.g. +33612345678 (clients normalise before sending). */
  phone: string;
  /** Policy profile name. Default "login"; presets: login, transaction, recovery. */
  profile?: string;
  /**
   * Template locale, e.g. "fr". Default: the profile's defaultLocale. An exact tag or its base
   * language ("pt-BR" -> "pt") picks a template; any other locale is refused as an invalid request
   * (`unknown locale "de" for profile "login" (known: en, fr, ru)`) and nothing is sent.
   */
  locale?: string;
  /** Context line for {context}, e.g. "Confirm transfer of €500 to Alice". Required by transaction profiles. */
  context?: string;
  /** Brand for {brand}; default the profile's brand, then OTP_BRAND. */
  brand?: string;
  /** Caller-generated code (trigger mode or channel "custom"), sealed for the workers with `sealCode`; never the code itself. */
  sealedCode?: string;
  /** Worker side only. */
  opened?: OpenedCode;
  /** Caller's full message text with a {code} placeholder, if the profile allows it. */
  messageText?: string;
  /** Accepted sends are kept 24 h under this key (IDEMPOTENCY_KEY_PATTERN); refusals are not, so a retry after retryAfterSeconds gets a fresh decision. */
  idempotencyKey?: string;
  /**
   * ISO-8601 instant the caller made the request. A send that waited longer
   * than the worker's OTP_MAX_SEND_WAIT_MS is refused as overloaded instead of
   * sending a code that arrives too late. Needs clocks kept in sync (NTP).
   */
  requestedAt?: string;
  /** http(s) URL that receives a signed POST for each change of delivery status. */
  callbackUrl?: string;
  /**
   * "sms" (default) sends the code over SMPP. "custom" sends nothing: the caller
   * supplies `code` and delivers it through a channel of its own (an n8n email or
   * chat node); the session still verifies it. Needs a profile with allowCustomChannel.
   * "webhook": the workers make the code and POST it, signed, to the profile's
   * `deliveryWebhookUrl` (a `WebhookDeliveryMessage`); the caller never sees it. Needs a
   * profile with deliveryWebhookUrl; takes no `code`, `email` or `webhookUrl`. A POST
   * that gets no 2xx fails the send (DispatchFailed) and the code stays recorded as
   * `failed`; webhook codes are neither retried nor escalated.
   */
  channel?: SendChannel;
  /**
   * Fallback contact: the same code goes by email if the SMS is not delivered in time (profile fallbackChannels).
   * Taken only from callers the profile trusts (`callerContacts`) or in a domain it lists (`fallbackEmailDomains`); otherwise the send is refused.
   */
  email?: string;
  /** Fallback contact for the webhook channel; taken only when the profile sets `callerContacts` (else the profile's `fallbackWebhookUrl` is used). */
  webhookUrl?: string;
}

/** Every field a send request may carry (`opened` is the worker codec's, never a caller's): anything else is refused. */
export const SEND_REQUEST_FIELDS = [
  'phone',
  'profile',
  'locale',
  'context',
  'brand',
  'sealedCode',
  'opened',
  'messageText',
  'idempotencyKey',
  'requestedAt',
  'callbackUrl',
  'channel',
  'email',
  'webhookUrl',
] as const satisfies readonly (keyof SendOtpRequest)[];

/** Channels a send may ask for (SendOtpRequest.channel). */
export const SEND_CHANNELS = ['sms', 'custom', 'webhook'] as const;
export type SendChannel = (typeof SEND_CHANNELS)[number];
/** The channel a code was issued on: a send's channel, or "sandbox" for configured test numbers. */
export type CodeChannel = SendChannel | 'sandbox';

/** Channels a code can take after SMS, in the order a profile's chain lists them. */
export type FallbackChannel = 'email' | 'webhook' | 'voice';
/** A step of a profile's channel chain: the SMS (the send itself), then fallbacks. */
export type ChainChannel = 'sms' | FallbackChannel;

/**
 * One step of a code's channel chain, as the status query shows it.
 * pending: under way (an SMS without a final receipt, an email being handed over).
 * delivered: a DELIVRD receipt. sent: the SMTP server or the receiver took it (no receipts follow).
 * failed: refused at submit, undeliverable, or the SMTP server or receiver kept refusing.
 * moved_on: the next step started at this step's deadline. stopped: the code was verified, cancelled or expired.
 */
export interface ChainStepOutcome {
  channel: ChainChannel;
  startedAt: string;
  outcome: 'pending' | 'delivered' | 'sent' | 'failed' | 'moved_on' | 'stopped';
  /** Why it ended: "UNDELIV", "SMTP 550 mailbox unavailable", "no receipt within 20 s"… Never a code or a contact. */
  reason?: string;
}

/**
 * Body of a webhook-channel POST: this one carries the code, because delivering it is its job.
 * Signed like delivery callbacks (see WEBHOOK_SIGNATURE_HEADER).
 */
export interface WebhookChannelMessage {
  sessionId: string;
  codeSeq: number;
  channel: 'webhook';
  code: string;
  brand: string;
  expiresAt: string;
}

/**
 * Body of a chain's voice step, POSTed to the profile's `voiceWebhookUrl` for a text-to-speech or
 * voice provider to call `phone` and read `speech` in `locale`. Signed like the webhook channel;
 * X-OTP-Event-Id is `<sessionId>:<codeSeq>:voice`.
 */
export interface VoiceChannelMessage {
  sessionId: string;
  codeSeq: number;
  channel: 'voice';
  /** E.164 number to call. */
  phone: string;
  /** The locale of the text (the SMS's), e.g. "en" or "fr": pick the voice by it. */
  locale: string;
  /** Text written for speech: the code digit by digit ("4, 7, 1, 9"), said twice. */
  speech: string;
  code: string;
  brand: string;
  expiresAt: string;
}

/**
 * Body of a channel "webhook" send, POSTed to the profile's `deliveryWebhookUrl`: the
 * webhook-channel message plus what the receiver needs to deliver the code itself.
 * Headers: X-OTP-Event-Id (`<sessionId>:<codeSeq>:delivery`, the same on a repeat, so
 * deduplicate on it), X-OTP-Timestamp (Unix seconds) and X-OTP-Signature =
 * "sha256=" + hex(HMAC-SHA256(OTP_CALLBACK_KEY, X-OTP-Timestamp + "." + raw body)).
 */
export interface WebhookDeliveryMessage extends WebhookChannelMessage {
  /** Tells it from a fallback webhook-channel message (which has no `kind`). */
  kind: 'delivery';
  /** E.164 number the code is for: the receiver finds its user by it. */
  phone: string;
  /** Profile name@revision and the template locale used for `text`. */
  profile: string;
  locale: string;
  /** The profile's template rendered with the code, brand, TTL and context, ready to forward. */
  text: string;
}

/** Headers of every signed POST (delivery callbacks, webhook channel, webhook delivery). */
/** What an MO message says, as the webhook body carries it (docs/webhooks.md). */
interface MobileOriginatedFields {
  /** Unique per MO event: the MO workflow id. */
  eventId: string;
  /** Sender, E.164 when it could be read as a number, else the address as the SMSC gave it. */
  from: string;
  /** The short code / sender id it was sent to. */
  to: string;
  text: string;
  route: string;
  receivedAt: string;
  /** Matched STOP or START keyword, upper-cased. */
  keyword?: string;
  /** What the keyword does to the suppression list. */
  optOut?: 'stop' | 'start';
}

/** A mobile-originated message as the MO workflow receives it (an encrypted payload: it holds the number and the text). */
export interface MobileOriginatedInput extends MobileOriginatedFields {
  /** Whether `from` is a valid E.164 number (only then can a keyword change the suppression list). */
  fromIsE164: boolean;
  /** True when OTP_MO_WEBHOOK_URL is set: post the message. */
  forward: boolean;
}

/** Body of the MO webhook POST (docs/webhooks.md). */
export interface MobileOriginatedEvent extends MobileOriginatedFields {
  kind: 'mo';
}

/** Signal to an opt-out workflow: `optedOut: false` (START) ends it. */
export interface OptOutChange {
  optedOut: boolean;
  at: string;
}

export const WEBHOOK_EVENT_ID_HEADER = 'x-otp-event-id';
export const WEBHOOK_TIMESTAMP_HEADER = 'x-otp-timestamp';
/** "sha256=" + hex(HMAC-SHA256(OTP_CALLBACK_KEY, timestamp + "." + raw body)). */
export const WEBHOOK_SIGNATURE_HEADER = 'x-otp-signature';

export type DeliveryStatus = 'pending' | 'submitted' | 'delivered' | 'failed';

export interface SendAccepted {
  sessionId: string;
  status: 'sent';
  /** Sequence number of the code within this session (1, 2, …). */
  codeSeq: number;
  /** True when this send re-delivered the code already issued (its delivery had failed). */
  sameCode: boolean;
  maskedPhone: string;
  /** "sandbox" for configured test numbers and "custom" for caller-delivered codes: nothing was dispatched. "webhook": POSTed to the profile's deliveryWebhookUrl, which answered 2xx. */
  channel: CodeChannel;
  /** SMSC message id of the first segment (absent in sandbox). */
  messageId?: string;
  segments: number;
  encoding: 'GSM7' | 'UCS2';
  /** ISO-8601 instant after which the code no longer verifies. */
  expiresAt: string;
  /** Profile name and revision used, e.g. "login@3f2a9c0b1d4e". */
  profile: string;
  locale: string;
  /** Velocity rules that would have blocked this send, had they not been in shadow mode. */
  shadowFlags?: string[];
  /** The SMS was not submitted: the SMSC refused it for good (e.g. ESME_RINVDSTADR), or it could not be reached on the last try. The code goes on by the profile's next channel (sessions v7). */
  smsRefused?: string;
}

/**
 * overloaded: the worker (or client) is past its bound, or the request waited too long; nothing was sent, retry after retryAfterSeconds.
 * locked: too many wrong codes for this number; no send until retryAt.
 */
export type SendRefusalStatus = 'rate_limited' | 'blocked' | 'invalid_number' | 'overloaded' | 'locked';

export interface SendRefused {
  /** Absent when the number could not even be parsed (no session exists). */
  sessionId?: string;
  status: SendRefusalStatus;
  /** Stable machine-readable reason, e.g. worker_busy, request_too_old, opted_out, sender_not_approved, sender_rejected, sender_approvals_unavailable, client_busy, resend_cooldown, too_many_sends, too_many_failures, tenant_rate, country_denied:RU, number_type_denied:PREMIUM_RATE, non_geographic_number, velocity_country:FR, not_a_valid_number. */
  reason: string;
  maskedPhone?: string;
  /** Seconds until a send can succeed (rate_limited, overloaded, locked). */
  retryAfterSeconds?: number;
  /** ISO-8601 instant from which a send can succeed (rate_limited, locked). */
  retryAt?: string;
  profile?: string;
}

export type SendOtpResult = SendAccepted | SendRefused;

/**
 * Added to a request by the worker's codec when it opens `sealedCode` (codec/sealed-code-codec.ts).
 * Clients never send it: one they send is discarded.
 */
export interface OpenedCode {
  /** The session id the code was sealed for. */
  sealedFor: string;
  /** What it was sealed for: "verify" or "send". */
  use: string;
  /** When the client sealed it (epoch ms, the client's clock). */
  sealedAtMs: number;
  /** Names this sealed blob (SHA-256 of it, 16 hex digits): a session takes each one once. */
  sealId: string;
  /** Digest of the code under each code key id the worker holds ('' = the current key). */
  digests: Record<string, string>;
  /** Keyed fingerprint of the code and what the request asks for (verify idempotency, same-request checks). */
  fingerprint: string;
  /** Set when the sealed code could not be opened: malformed, unknown_key, undecryptable; or EMPTY_CODE. */
  error?: string;
}

/** OpenedCode.error of a code that is empty once normalised (e.g. "-"): the rest is filled in as for any code. */
export const EMPTY_CODE = 'empty_code';

/** A sealed code is taken this long after it was sealed (and at most SEAL_MAX_SKEW_MS before). */
export const SEAL_MAX_AGE_MS = 10 * 60 * 1000;
export const SEAL_MAX_SKEW_MS = 2 * 60 * 1000;

/** Update `verify`: the entered code, sealed for the workers, and what it is meant to confirm. */
export interface VerifyOtpRequest {
  /** `sealCode(OTP_SEAL_PUBLIC_KEY, sessionId, code)`: only workers can open it. */
  sealedCode: string;
  /** What the code must confirm: the purpose of the profile it was sent under. Default "login": a transaction code never verifies a login. */
  purpose?: OtpPurpose;
  /** Optionally, the exact profile name it must have been sent under. */
  profile?: string;
  /** The context line the code was sent with; required when it was sent with one (transactions). */
  context?: string;
  /** The same key and the same request (code included) within 24 h get the first answer; another request under it gets `idempotency_conflict`. */
  idempotencyKey?: string;
  /** Worker side only. */
  opened?: OpenedCode;
}

/** Every field a verify request may carry (`opened` is the worker codec's): anything else is refused. */
export const VERIFY_REQUEST_FIELDS = [
  'sealedCode',
  'purpose',
  'profile',
  'context',
  'idempotencyKey',
  'opened',
] as const satisfies readonly (keyof VerifyOtpRequest)[];

/**
 * purpose_mismatch: the code was issued for another purpose (or profile); context_mismatch: with another context.
 * Neither looks at the code, so neither uses an attempt. idempotency_conflict: the key was used for another request.
 * Clients produce `not_found` themselves when no session runs for the number.
 */
export type VerifyOutcome =
  | 'verified'
  | 'invalid_code'
  | 'expired'
  | 'locked'
  | 'not_found'
  | 'already_verified'
  | 'cancelled'
  | 'purpose_mismatch'
  | 'context_mismatch'
  | 'idempotency_conflict';

export interface VerifyOtpResult {
  sessionId: string;
  valid: boolean;
  outcome: VerifyOutcome;
  attemptsRemaining: number;
  /** outcome locked: when the number may ask for a code again. */
  retryAt?: string;
}

/** Typed outcome of a delivery receipt. */
export type ReceiptOutcome = 'delivered' | 'failed' | 'pending';

export interface DeliveryReceipt {
  messageId: string;
  /** SMPP message state name: DELIVRD, UNDELIV, REJECTD, EXPIRED, DELETED, ACCEPTD, ENROUTE, UNKNOWN. */
  stat: string;
  outcome: ReceiptOutcome;
  /** Network error code from the receipt text (`err:`), '000' when none. */
  err: string;
  /** ISO-8601 instant the worker received the receipt. */
  receivedAt: string;
}

export type CodeState = 'active' | 'verified' | 'expired' | 'locked' | 'cancelled';

/** Update `cancel` input: an (encrypted) object, so that only holders of the payload keys can cancel. */
export interface CancelOtpRequest {
  /** Why, for the session's events (at most 200 characters). */
  reason?: string;
}

/** Every field a cancel request may carry. */
export const CANCEL_REQUEST_FIELDS = ['reason'] as const satisfies readonly (keyof CancelOtpRequest)[];

/** Update `cancel`: the current code stops verifying and is not re-sent. */
export interface CancelOtpResult {
  sessionId: string;
  /** False when there was no active code to cancel. */
  cancelled: boolean;
  codeSeq?: number;
}

/** Memo key under which clients store the masked number at a session's start (encrypted like every payload). */
export const SESSION_MEMO_MASKED_PHONE = 'maskedPhone';

/** One session in a recipients listing (`OtpClient.recentSends`): what visibility holds, nothing secret. */
export interface RecentSend {
  sessionId: string;
  /** From the session's memo; null for sessions started by a client that sets none. */
  maskedPhone: string | null;
  /** The search attributes (contract/search-attributes.ts); null until the session wrote them. */
  status: string | null;
  delivery: DeliveryStatus | null;
  channel: string | null;
  profile: string | null;
  purpose: string | null;
  countryCode: string | null;
  codeExpiresAt: string | null;
  startedAt: string;
  /** Set once the session closed (24 h after its last send). */
  closedAt: string | null;
}

export interface RecentSendsPage {
  sends: RecentSend[];
  /** Pass back as `pageToken` for the next page; null on the last one. */
  nextPageToken: string | null;
}

export interface OtpSessionStatus {
  sessionId: string;
  tenant: string;
  maskedPhone: string;
  /** Absent until the first code has been issued. */
  code?: {
    seq: number;
    /** Profile name@revision the code was issued under. */
    profile: string;
    channel: CodeChannel;
    state: CodeState;
    delivery: DeliveryStatus;
    deliveryStat?: string;
    messageId?: string;
    segments: number;
    issuedAt: string;
    expiresAt: string;
    attemptsRemaining: number;
    /** Fallback channels the code was escalated to, in order. */
    escalatedTo: FallbackChannel[];
    /** Sessions v7: the step of the profile's channel chain the code is on (0 = the SMS), and every step so far with its outcome. */
    step?: { index: number; channel: ChainChannel; steps: ChainStepOutcome[] };
  };
  /** Sends within the current rate window, and when the next send is allowed. */
  sendsInWindow: number;
  nextSendAt?: string;
  /** Send / receipt / verify steps, oldest first (the last 100). No codes, no full numbers. */
  events: OtpSessionEvent[];
}

export interface OtpSessionEvent {
  at: string;
  type: 'sent' | 'refused' | 'receipt' | 'retry' | 'escalated' | 'verify' | 'expired' | 'locked' | 'shadow' | 'callback' | 'cancelled';
  detail: string;
}

/** Signal sent to the mailbox by the submitting activity. */
export interface MailboxSubmitted {
  sessionWorkflowId: string;
  codeSeq: number;
  /** The id as submit_sm_resp gave it; receipts are forwarded under this id. */
  messageId: string;
}

/** Body of a delivery callback POST (seed: dlr-url). Signed: X-OTP-Signature = "sha256=" + hex(HMAC-SHA256(OTP_CALLBACK_KEY, X-OTP-Timestamp + "." + body)). */
export interface DeliveryCallbackEvent {
  /** Stable per status change: retries of one event carry the same id, so receivers can deduplicate. */
  eventId: string;
  sessionId: string;
  codeSeq: number;
  /** submitted, delivered or failed (the code's aggregate over all its segments). */
  status: DeliveryStatus;
  /** Last receipt state (DELIVRD, UNDELIV, …), when a receipt caused the change. */
  stat?: string;
  err?: string;
  /** SMS sends of this code so far (1 + staggered retries + re-deliveries). */
  attempts: number;
  at: string;
}

/** One worker's velocity counts since its last report, sent to a shard with a signal (never awaited by a send). */
export interface VelocityReport {
  /** Stable id of the reporting worker process. */
  worker: string;
  /** Increases with every report of this worker; the snapshot says which one was applied last. */
  seq: number;
  counts: VelocityCount[];
}

export interface VelocityCount {
  /** "tenant", "c:FR" or "p:+336123". */
  key: string;
  /** Window length in ms (60 000 for the tenant rate, 3 600 000 for velocity). */
  spanMs: number;
  /** Smallest limit a worker applied to this key; the shard reports keys at half of it or more. */
  limit: number;
  /** [bucket start (epoch ms), sends] pairs. */
  buckets: [number, number][];
}

/** Query `snapshot` of a velocity shard: what workers decide from until their next sync. */
export interface VelocitySnapshot {
  at: number;
  /** Workers that reported within the longest window. */
  workers: number;
  /** Last report seq applied, per worker. */
  applied: Record<string, number>;
  /** Sends in the window: exact for the keys the query asked about, plus every key at half its limit or more. */
  counts: Record<string, number>;
}

/** Signal delivered by the mailbox to the session. */
export interface SessionReceipt extends DeliveryReceipt {
  codeSeq: number;
}

/** Input of the sender approval workflow. */
export interface SenderApprovalInput {
  tenant: string;
  /** The trail so far, carried by continue-as-new (the earlier runs' histories stay as they were). */
  carried?: SenderRevision[];
  /** Set by the workers' codec when `carried` came without a valid signature: the workflow fails at once. */
  carriedRefused?: boolean;
  /** Continue-as-new after this many decisions and proposals (default 500); tests make it small. */
  changesPerRun?: number;
}

/** A profile revision as the workers have it: what an approver approves, named by its content hash. */
export interface SenderRevisionContent {
  profile: string;
  /** sha256 (hex) of the canonical JSON of the profile's effective content: every rule, template and the sender and brand it sends with. */
  contentHash: string;
  /** name@revision, as sends record it (e.g. "login@3f2a9c0b1d4e"). */
  revision: string;
  /** The sender id and brand the revision sends with (the profile's, else the worker's OTP_SENDER_ID / OTP_BRAND). */
  senderId: string;
  brand: string;
  /** Locale -> template. */
  templates: Record<string, string>;
}

export type SenderRevisionState = 'proposed' | 'approved' | 'rejected';

/** One entry of the approval trail. */
export interface SenderRevision extends SenderRevisionContent {
  state: SenderRevisionState;
  /** contentHash of the profile's revision approved last when this one was proposed (null: none). */
  previous: string | null;
  proposedBy: string;
  proposedAt: string;
  note?: string;
  /** Who approved or rejected it, and when (the last decision; every one is in the workflow's history). */
  decidedBy?: string;
  decidedAt?: string;
  decisionNote?: string;
}

/** Update `proposeRevision`: propose the profile's revision as the workers have it now. */
export interface ProposeRevisionRequest {
  profile: string;
  /** Who proposes: asserted by the caller (see docs/policy-profiles.md, "Sender approval"). */
  by: string;
  note?: string;
}

/** Updates `approveRevision` and `rejectRevision`: by another identity than the proposer's. */
export interface DecideRevisionRequest {
  profile: string;
  contentHash: string;
  by: string;
  note?: string;
}

/** Query `revisions`: the trail, oldest first; `profile` narrows it. */
export interface RevisionsQuery {
  profile?: string;
}

export const acquireUpdate = defineUpdate<QuotaResult, [QuotaRequest]>(ACQUIRE_UPDATE);
export const sendUpdate = defineUpdate<SendOtpResult, [SendOtpRequest]>(SEND_UPDATE);
export const verifyUpdate = defineUpdate<VerifyOtpResult, [VerifyOtpRequest]>(VERIFY_UPDATE);
export const cancelUpdate = defineUpdate<CancelOtpResult, [CancelOtpRequest]>(CANCEL_UPDATE);
export const statusQuery = defineQuery<OtpSessionStatus>(STATUS_QUERY);
export const deliveryReceiptSignal = defineSignal<[SessionReceipt]>(DELIVERY_RECEIPT_SIGNAL);
export const mailboxSubmittedSignal = defineSignal<[MailboxSubmitted]>(MAILBOX_SUBMITTED_SIGNAL);
export const mailboxReceiptSignal = defineSignal<[DeliveryReceipt]>(MAILBOX_RECEIPT_SIGNAL);
export const mailboxReceiptsQuery = defineQuery<DeliveryReceipt[]>(MAILBOX_RECEIPTS_QUERY);
export const velocityReportSignal = defineSignal<[VelocityReport]>(VELOCITY_REPORT_SIGNAL);
export const optOutSignal = defineSignal<[OptOutChange]>(OPT_OUT_SIGNAL);
export const optOutQuery = defineQuery<boolean>(OPT_OUT_QUERY);
export const velocitySnapshotQuery = defineQuery<VelocitySnapshot, [string[]]>(VELOCITY_SNAPSHOT_QUERY);
export const proposeRevisionUpdate = defineUpdate<SenderRevision, [ProposeRevisionRequest]>(PROPOSE_REVISION_UPDATE);
export const approveRevisionUpdate = defineUpdate<SenderRevision, [DecideRevisionRequest]>(APPROVE_REVISION_UPDATE);
export const rejectRevisionUpdate = defineUpdate<SenderRevision, [DecideRevisionRequest]>(REJECT_REVISION_UPDATE);
export const revisionsQuery = defineQuery<SenderRevision[], [RevisionsQuery?]>(REVISIONS_QUERY);

/** Workflow id of one catalog request (`id` unique per call, e.g. a UUID). */
export function catalogWorkflowId(id: string): string {
  return `${CATALOG_WORKFLOW_ID_PREFIX}${id}`;
}

/** Workflow id of a tenant's velocity limiter. */
export function velocityWorkflowId(tenant: string): string {
  return `otp-velocity-${tenant}`;
}

/** Workflow id of one shard of a tenant's velocity counts. */
export function velocityShardId(tenant: string, shard: number): string {
  return `otp-velocity:${tenant}:${shard}`;
}

/** Workflow id of the receipt mailbox for one SMSC message. */
export function receiptMailboxId(smsc: string, messageId: string): string {
  return `dlr-${smsc}-${messageId}`;
}

/** Workflow id of a tenant's sender approvals. */
export function senderApprovalWorkflowId(tenant: string): string {
  return `${SENDER_APPROVAL_WORKFLOW_ID_PREFIX}${tenant}`;
}

/**
 * Why a request can never succeed as written, or undefined. One rule for clients (checked before
 * a call) and the session's update validators (so a refused request never reaches history). The
 * message names the field, never its value: a value can be megabytes, or text meant for a log.
 */
function requestShapeProblem(req: unknown, what: string, fields: readonly string[], strings: readonly string[]): string | undefined {
  if (typeof req !== 'object' || req === null || Array.isArray(req)) return `${what} request must be an object`;
  const r = req as Record<string, unknown>;
  // An undefined value is no field: JSON leaves it out.
  const unknown = Object.keys(r).find((k) => !fields.includes(k) && r[k] !== undefined);
  if (unknown !== undefined) return `${what} request has an unknown field "${unknown.slice(0, 40)}" (see the README contract)`;
  for (const f of strings) {
    const v = r[f];
    if (v === undefined) continue;
    if (typeof v !== 'string') return `${f} must be a string`;
    const max = (REQUEST_FIELD_MAX_LENGTH as Record<string, number | undefined>)[f];
    if (max !== undefined && v.length > max) return `${f} must be at most ${max} characters`;
  }
  if (typeof r.profile === 'string' && !NAME_PATTERN.test(r.profile)) return `profile must be a profile name: ${NAME_RULE}`;
  if (r.idempotencyKey !== undefined && !isIdempotencyKey(r.idempotencyKey))
    return 'idempotencyKey must be 1–128 printable ASCII characters, and not an object property name such as "__proto__"';
  return undefined;
}

export function sendRequestProblem(req: unknown): string | undefined {
  const shape = requestShapeProblem(req, 'send', SEND_REQUEST_FIELDS, [
    'profile',
    'locale',
    'context',
    'brand',
    'sealedCode',
    'messageText',
    'idempotencyKey',
    'callbackUrl',
    'email',
    'webhookUrl',
    'requestedAt',
  ]);
  if (shape) return shape;
  const r = req as SendOtpRequest;
  if (typeof r.phone !== 'string' || !E164_PATTERN.test(r.phone)) return 'phone must be an E.164 number such as +33612345678';
  if (r.channel !== undefined && !(SEND_CHANNELS as readonly unknown[]).includes(r.channel))
    return `channel must be one of ${SEND_CHANNELS.map((c) => `"${c}"`).join(', ')}`;
  if (r.requestedAt !== undefined && Number.isNaN(Date.parse(r.requestedAt))) return 'requestedAt must be an ISO-8601 instant';
  return undefined;
}

/** A verify request before its code is sealed: `sealedCode` is checked when present. */
export function verifyRequestProblem(req: unknown): string | undefined {
  const shape = requestShapeProblem(req, 'verify', VERIFY_REQUEST_FIELDS, ['sealedCode', 'purpose', 'profile', 'context', 'idempotencyKey']);
  if (shape) return shape;
  const r = req as VerifyOtpRequest;
  if (r.purpose !== undefined && !(OTP_PURPOSES as readonly string[]).includes(r.purpose)) return `purpose must be one of ${OTP_PURPOSES.join(', ')}`;
  return undefined;
}

export function cancelRequestProblem(req: unknown): string | undefined {
  return requestShapeProblem(req, 'cancel', CANCEL_REQUEST_FIELDS, ['reason']);
}
