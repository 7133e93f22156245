/**
 * Keyed derivations shared by clients and the worker. Uses node:crypto, so
 * workflow code must never import this file.
 *
 * - The session workflow id carries a keyed hash of the phone, never the number.
 * - Verify carries a keyed digest of the candidate code, never the code.
 */
import { createHmac } from 'node:crypto';
import { parsePhoneNumberWithError, ParseError, type CountryCode } from 'libphonenumber-js/max';

/** HMAC-SHA256 as base64url. */
function hmac(key: string, message: string): string {
  return createHmac('sha256', key).update(message, 'utf8').digest('base64url');
}

/** Tenants are part of the workflow id, so keep them to a safe alphabet. */
const TENANT_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

export class InvalidTenantError extends Error {
  constructor(tenant: string) {
    super(`tenant "${tenant.slice(0, 70)}" is invalid: use 1–64 characters from A–Z, a–z, 0–9, "_", ".", "-"`);
    this.name = 'InvalidTenantError';
  }
}

export function assertTenant(tenant: string): void {
  if (!TENANT_PATTERN.test(tenant)) throw new InvalidTenantError(tenant);
}

/**
 * `otp-<tenant>-<first 32 chars of base64url(HMAC-SHA256(hashKey, tenant + "|" + e164))>`
 */
export function sessionWorkflowId(hashKey: string, tenant: string, e164: string): string {
  assertTenant(tenant);
  return `otp-${tenant}-${hmac(hashKey, `${tenant}|${e164}`).slice(0, 32)}`;
}

/** What a person may add while typing a code: spaces and dashes; case does not matter. */
export function normalizeCode(code: string): string {
  return code.replace(/[\s-]/g, '').toUpperCase();
}

/** base64url(HMAC-SHA256(hashKey, "code|" + workflowId + "|" + normalizeCode(code))) */
export function codeDigest(hashKey: string, workflowId: string, code: string): string {
  return hmac(hashKey, `code|${workflowId}|${normalizeCode(code)}`);
}

export class InvalidPhoneError extends Error {
  /** `detail` is a stable code: too_short, too_long, invalid_country, not_a_number, not_a_valid_number, … */
  constructor(readonly reason: 'invalid_number', readonly detail: string, hint = '') {
    super(`phone number is invalid: ${detail}${hint}`);
    this.name = 'InvalidPhoneError';
  }
}

/**
 * Parses a phone number and returns it in E.164. A number without a leading
 * "+" is read in `defaultRegion`. The error message never repeats the input.
 */
export function normalizePhone(input: string, defaultRegion?: string): string {
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
