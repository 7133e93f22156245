/**
 * Keyed derivations shared by clients and the worker. Uses node:crypto, so
 * workflow code must never import this file.
 *
 * - The session workflow id carries a keyed hash of the phone (OTP_HASH_KEY), never the number.
 * - Codes travel sealed for the workers (OTP_SEAL_PUBLIC_KEY): clients can seal, only workers can open.
 */
import { constants, createHash, createHmac, createPublicKey, publicEncrypt, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import { parsePhoneNumberWithError, ParseError, type CountryCode } from 'libphonenumber-js/max';
import { MAX_CODE_LENGTH, NAME_PATTERN, NAME_RULE } from './index';

/** HMAC-SHA256 as base64url. */
function hmac(key: string, message: string): string {
  return createHmac('sha256', key).update(message, 'utf8').digest('base64url');
}

export class InvalidTenantError extends Error {
  /** Permanent, like an OtpRequestError of type InvalidRequest. */
  readonly type = 'InvalidRequest';
  constructor(tenant: unknown) {
    // Cut, and printable only: the message may reach logs and n8n executions.
    const shown =
      typeof tenant === 'string'
        ? JSON.stringify(tenant.slice(0, 70))
        : `of type ${Array.isArray(tenant) ? 'array' : tenant === null ? 'null' : typeof tenant}`;
    super(`tenant ${shown} is invalid: use ${NAME_RULE}`);
    this.name = 'InvalidTenantError';
  }
}

/** Tenants are part of the workflow id, so they keep to NAME_PATTERN. */
export function assertTenant(tenant: unknown): asserts tenant is string {
  if (typeof tenant !== 'string' || !NAME_PATTERN.test(tenant)) throw new InvalidTenantError(tenant);
}

/**
 * `otp-<tenant>-<first 32 chars of base64url(HMAC-SHA256(hashKey, tenant + "|" + e164))>`
 */
export function sessionWorkflowId(hashKey: string, tenant: string, e164: string): string {
  assertTenant(tenant);
  return `otp-${tenant}-${hmac(hashKey, `${tenant}|${e164}`).slice(0, 32)}`;
}

/**
 * `otp-optout:<first 32 chars of base64url(HMAC-SHA256(hashKey, "optout|" + e164))>`: the one
 * suppression-list entry of a number, for every tenant (an MO carries no tenant).
 */
export function optOutWorkflowId(hashKey: string, e164: string): string {
  return `otp-optout:${hmac(hashKey, `optout|${e164}`).slice(0, 32)}`;
}

/**
 * `otp-mo:<route>:<first 32 chars of base64url(HMAC-SHA256(hashKey, parts joined by "|"))>`: one
 * mobile-originated message, the same id when the SMSC re-sends it, never the number.
 */
export function moWorkflowId(hashKey: string, route: string, parts: string[]): string {
  return `otp-mo:${route}:${hmac(hashKey, ['mo', route, ...parts].join('|')).slice(0, 32)}`;
}

/**
 * What a person may add while typing a code: spaces, tabs, line breaks,
 * no-break spaces and dashes are dropped, and ASCII letters are upper-cased.
 */
export function normalizeCode(code: string): string {
  return code.replace(/[\t\n\r \u00A0-]/g, '').replace(/[a-z]/g, (ch) => ch.toUpperCase());
}

/** Every code alphabet is within A–Z and 0–9 (policy/profile.ts ALPHABETS). */
const CODE_SHAPE = new RegExp(`^[0-9A-Z]{1,${MAX_CODE_LENGTH}}$`);

/**
 * Whether an entered code, normalised, could be a code at all: 1 to MAX_CODE_LENGTH characters
 * of A–Z and 0–9. Clients answer one that cannot (empty, "-", a megabyte, control characters)
 * `invalid_code` without asking the session, so it never uses an attempt.
 */
export function couldBeCode(code: string): boolean {
  return CODE_SHAPE.test(normalizeCode(code));
}

/** Key id of a seal public key: the first 16 hex digits of SHA-256 over its DER (SPKI) bytes. */
export function sealKeyId(publicKeyDer: Buffer): string {
  return createHash('sha256').update(publicKeyDer).digest('hex').slice(0, 16);
}

/** A public key that seals codes for the workers (OTP_SEAL_PUBLIC_KEY: base64 of the DER SubjectPublicKeyInfo). */
export interface SealKey {
  id: string;
  key: KeyObject;
}

export class InvalidSealKeyError extends Error {
  constructor(detail: string) {
    super(`OTP_SEAL_PUBLIC_KEY ${detail}`);
    this.name = 'InvalidSealKeyError';
  }
}

export function parseSealPublicKey(base64Der: string): SealKey {
  const der = Buffer.from(base64Der.trim(), 'base64');
  let key: KeyObject;
  try {
    key = createPublicKey({ key: der, format: 'der', type: 'spki' });
  } catch {
    throw new InvalidSealKeyError('must be the base64 of an RSA public key in DER SubjectPublicKeyInfo form');
  }
  if (key.asymmetricKeyType !== 'rsa' || (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048)
    throw new InvalidSealKeyError('must be an RSA key of 2048 bits or more');
  return { id: sealKeyId(der), key };
}

/** What a sealed code is for: a verify, or a send carrying the caller's own code. One is never taken as the other. */
export type SealUse = 'verify' | 'send';

/**
 * Seals a code so that only the workers can read it: history readers holding
 * the payload keys see ciphertext. Format: `<key id>.<base64url(RSA-OAEP-SHA256(
 * UTF-8 JSON {"s": sessionId, "c": normalizeCode(code), "u": use, "t": epoch ms, "n": nonce}))>`,
 * MGF1 with SHA-256, no label; `n` is 12 random bytes in base64url, so two
 * seals of one code are two requests. A session takes a sealed code once, and
 * only for SEAL_MAX_AGE_MS after `t`.
 */
export function sealCode(seal: SealKey, sessionId: string, code: string, use: SealUse, now = Date.now()): string {
  const plain = Buffer.from(JSON.stringify({ s: sessionId, c: normalizeCode(code), u: use, t: now, n: randomBytes(12).toString('base64url') }), 'utf8');
  const sealed = publicEncrypt({ key: seal.key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, plain);
  return `${seal.id}.${sealed.toString('base64url')}`;
}

export class InvalidPhoneError extends Error {
  /** Permanent, like an OtpRequestError of type InvalidRequest. */
  readonly type = 'InvalidRequest';
  /** `detail` is a stable code: too_short, too_long, invalid_country, invalid_characters, not_a_number, not_a_valid_number, … */
  constructor(
    readonly reason: 'invalid_number',
    readonly detail: string,
    hint = '',
  ) {
    super(`phone number is invalid: ${detail}${hint}`);
    this.name = 'InvalidPhoneError';
  }
}

/**
 * What a phone number may be written with: digits (any script libphonenumber reads), "+", spaces
 * and the usual separators. No letters (extensions, "tel:", text around it), no control, format
 * or bidi characters: libphonenumber would pick a number out of them and send to it.
 */
const PHONE_INPUT = /^[\p{Nd}+\-.()/ \u00A0]{1,64}$/u;

/**
 * Parses a phone number and returns it in E.164. A number without a leading
 * "+" is read in `defaultRegion`. The error message never repeats the input.
 */
export function normalizePhone(input: string, defaultRegion?: string): string {
  if (typeof input !== 'string') throw new InvalidPhoneError('invalid_number', 'not_a_number');
  if (input.length > 64) throw new InvalidPhoneError('invalid_number', 'too_long');
  if (!PHONE_INPUT.test(input)) throw new InvalidPhoneError('invalid_number', 'invalid_characters', ' (digits, "+", spaces and . - ( ) / only)');
  let parsed;
  try {
    parsed = parsePhoneNumberWithError(input, defaultRegion as CountryCode | undefined);
  } catch (err) {
    const code = err instanceof ParseError ? err.message : 'UNPARSEABLE';
    const hint = code === 'INVALID_COUNTRY' ? ' (use +<country code>… or set a default region)' : '';
    throw new InvalidPhoneError('invalid_number', code.toLowerCase(), hint);
  }
  if (!parsed.isValid()) throw new InvalidPhoneError('invalid_number', 'not_a_valid_number', ' for its country');
  return parsed.number;
}

/** +33612345678 -> +33••••••678: calling code and last three digits only. */
export function maskPhone(e164: string): string {
  let cc = '';
  try {
    cc = parsePhoneNumberWithError(e164).countryCallingCode;
  } catch {
    cc = e164.replace(/^\+/, '').slice(0, 2);
  }
  const digits = e164.replace(/\D/g, '');
  const rest = digits.slice(cc.length);
  const tail = rest.slice(-3);
  return `+${cc}${'•'.repeat(Math.max(rest.length - tail.length, 0))}${tail}`;
}

/** Value of X-OTP-Signature for a signed POST: "sha256=" + hex(HMAC-SHA256(OTP_CALLBACK_KEY, timestamp + "." + body)). */
export function webhookSignature(callbackKey: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', callbackKey).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** How far X-OTP-Timestamp may be from the receiver's clock before verifyWebhookSignature refuses it (replays). */
export const WEBHOOK_MAX_SKEW_SECONDS = 300;

/**
 * For receivers of callbacks and webhook POSTs: true when `signature` (X-OTP-Signature) signs
 * `timestamp` (X-OTP-Timestamp) and the raw `body` under the callback key, and the timestamp is
 * within WEBHOOK_MAX_SKEW_SECONDS of `nowMs`. Compared in constant time.
 */
export function verifyWebhookSignature(callbackKey: string, input: { timestamp: string; signature: string; body: string }, nowMs = Date.now()): boolean {
  if (!/^\d{1,12}$/.test(input.timestamp) || Math.abs(nowMs / 1000 - Number(input.timestamp)) > WEBHOOK_MAX_SKEW_SECONDS) return false;
  const expected = Buffer.from(webhookSignature(callbackKey, input.timestamp, input.body));
  const given = Buffer.from(input.signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
