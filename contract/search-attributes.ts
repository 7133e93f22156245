/**
 * Search attributes of the session workflow: the one definition of their
 * names, types and values. The workflow upserts them, the worker checks they
 * exist at start, `npm start` and the tests register them, and docs/operations.md lists
 * them. None carries a number or a code: the country calling code is at most
 * three digits, every other value is a name from a small fixed set.
 *
 * Workflow-safe (no Node built-ins): workflow code imports it.
 */
import { defineSearchAttributeKey, SearchAttributeType, type SearchAttributePair } from '@temporalio/common';
import type { SearchAttributeKey } from '@temporalio/common/lib/search-attributes';
import type { CodeChannel, DeliveryStatus, FallbackChannel, OtpPurpose } from './index';

/**
 * Where the session stands, for ops queries (`OtpStatus = 'failed'`):
 * - pending: a code was issued and is not delivered yet (or went out by a fallback channel);
 * - delivered: the SMSC (or the webhook, or a sandbox number) confirmed delivery;
 * - failed: the code could not be delivered (refused for good, retries used, or dispatch failed);
 * - verified: the current code was verified;
 * - expired: the current code expired unverified (written at the session's next step: a send, a verify, a retry or its close);
 * - locked: too many wrong codes (the code or the whole session);
 * - cancelled: the current code was cancelled;
 * - refused: no code yet, a send was refused (rate limits, blocked, opted out); only-overloaded sessions end at once and are not indexed.
 */
export const OTP_SEARCH_STATUSES = ['pending', 'delivered', 'failed', 'verified', 'expired', 'locked', 'cancelled', 'refused'] as const;
export type OtpSearchStatus = (typeof OTP_SEARCH_STATUSES)[number];

/** The keys, named once. Prefixed "Otp" so they do not collide with other workloads of a shared namespace. */
export const OTP_SEARCH_ATTRIBUTES = {
  tenant: defineSearchAttributeKey('OtpTenant', SearchAttributeType.KEYWORD),
  /** Profile name without its revision ("login"). */
  profile: defineSearchAttributeKey('OtpProfile', SearchAttributeType.KEYWORD),
  purpose: defineSearchAttributeKey('OtpPurpose', SearchAttributeType.KEYWORD),
  status: defineSearchAttributeKey('OtpStatus', SearchAttributeType.KEYWORD),
  /** Channel the current code last went out on: sms, sandbox, webhook, custom, then email/webhook after an escalation. */
  channel: defineSearchAttributeKey('OtpChannel', SearchAttributeType.KEYWORD),
  /** Country calling code without "+", e.g. "33"; never more of the number. */
  countryCode: defineSearchAttributeKey('OtpCountryCode', SearchAttributeType.KEYWORD),
  /** Delivery status of the current code: pending, submitted, delivered, failed. */
  delivery: defineSearchAttributeKey('OtpDelivery', SearchAttributeType.KEYWORD),
  /** When the current code stops verifying: `OtpStatus = 'delivered' AND OtpCodeExpiresAt < now` finds codes that expired unverified before the session noticed. */
  codeExpiresAt: defineSearchAttributeKey('OtpCodeExpiresAt', SearchAttributeType.DATETIME),
} as const;

export type OtpSearchAttributeName = keyof typeof OTP_SEARCH_ATTRIBUTES;

/** What the session writes; an absent field is not written (the session has nothing to say yet). */
export interface OtpSearchValues {
  tenant: string;
  profile?: string;
  purpose?: OtpPurpose;
  status?: OtpSearchStatus;
  channel?: CodeChannel | FallbackChannel;
  countryCode?: string;
  delivery?: DeliveryStatus;
  codeExpiresAt?: Date;
}

/** Every key, for registration and checks. */
export const OTP_SEARCH_ATTRIBUTE_KEYS: readonly SearchAttributeKey<SearchAttributeType>[] = Object.values(OTP_SEARCH_ATTRIBUTES);

/** The CLI spelling of a type (`--type Keyword`, `--search-attribute OtpStatus=Keyword`). */
export function searchAttributeCliType(type: SearchAttributeType): string {
  return type === SearchAttributeType.KEYWORD_LIST ? 'KeywordList' : `${type.charAt(0)}${type.slice(1).toLowerCase()}`;
}

/** `temporal operator search-attribute create` commands that register the keys in a namespace, one per key (CLI 1.9 takes only the first of repeated --name flags). */
export function searchAttributeCreateCommands(
  namespace: string,
  keys: readonly SearchAttributeKey<SearchAttributeType>[] = OTP_SEARCH_ATTRIBUTE_KEYS,
): string[] {
  return keys.map((k) => `temporal operator search-attribute create --namespace ${namespace} --name ${k.name} --type ${searchAttributeCliType(k.type)}`);
}

/** "+33••••••678" -> "33": the calling code of a masked number (see maskPhone), or undefined when it has no masked part. */
export function callingCodeOfMasked(masked: string | undefined): string | undefined {
  return /^\+([1-9]\d{0,2})•/.exec(masked ?? '')?.[1];
}

/**
 * What a client sets when it starts a session (v5): the facts it knows, and `pending`. They are
 * written with the start, so a new session is found at once; the session writes the rest at its
 * next step (the code's receipt, a verify, a retry), which saves an upsert per send.
 */
export function sessionStartSearchAttributes(tenant: string, maskedPhone: string): SearchAttributePair[] {
  const countryCode = callingCodeOfMasked(maskedPhone);
  return [
    { key: OTP_SEARCH_ATTRIBUTES.tenant, value: tenant },
    { key: OTP_SEARCH_ATTRIBUTES.status, value: 'pending' },
    ...(countryCode ? [{ key: OTP_SEARCH_ATTRIBUTES.countryCode, value: countryCode }] : []),
  ];
}
