/**
 * Email addresses and domains: the one check for a caller's fallback email,
 * OTP_EMAIL_FROM and a profile's fallbackEmailDomains. Deliberately plain (one
 * address, no display name, no comments): nodemailer takes it as written, and
 * anything that could smuggle a second recipient (",", ";", "<", ">") is refused.
 */

/** RFC 5321's limit on a whole address. */
export const MAX_EMAIL_LENGTH = 254;

const ADDRESS = /^[^\s@<>,;"]+@[^\s@<>,;"]+\.[^\s@<>,;"]+$/;
/** A sender's own address may be local ("otp@localhost", the development default). */
const LOCAL_ADDRESS = /^[^\s@<>,;"]+@[^\s@<>,;"]+$/;
/** A lower-case domain with at least one dot, as profiles list them. */
export const DOMAIN_PATTERN = /^[a-z0-9-]+(\.[a-z0-9-]+)+$/;

/** Whether `s` is one plain email address; its domain must have a dot unless `local` (a From address). */
export function isEmailAddress(s: string, options: { local?: boolean } = {}): boolean {
  return s.length <= MAX_EMAIL_LENGTH && (options.local ? LOCAL_ADDRESS : ADDRESS).test(s);
}

/** The domain of an address, lower-cased (for fallbackEmailDomains). */
export function emailDomain(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}
