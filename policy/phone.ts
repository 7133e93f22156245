/** Phone checks a policy applies before anything is sent. */
import { parsePhoneNumberWithError } from 'libphonenumber-js/max';
import type { OtpProfile } from './profile';

export type PhoneVerdict = { ok: true; country: string; type: string; prefix: string } | { ok: false; status: 'invalid_number' | 'blocked'; reason: string };

export function checkPhone(e164: string, p: Pick<OtpProfile, 'allowedCountries' | 'deniedCountries' | 'deniedNumberTypes' | 'velocity'>): PhoneVerdict {
  let parsed;
  try {
    parsed = parsePhoneNumberWithError(e164);
  } catch {
    return { ok: false, status: 'invalid_number', reason: 'unparseable' };
  }
  if (!parsed.isValid()) return { ok: false, status: 'invalid_number', reason: 'not_a_valid_number' };
  // Non-geographic numbers (+800 freephone, +808, +870, +881–883, +979 premium): no country's rules,
  // limits or routes apply to them, and they are a favourite of SMS pumping.
  if (!parsed.country) return { ok: false, status: 'blocked', reason: 'non_geographic_number' };
  const country = parsed.country;
  const type = parsed.getType() ?? 'UNKNOWN';
  if (p.deniedNumberTypes.includes(type)) return { ok: false, status: 'blocked', reason: `number_type_denied:${type}` };
  if (p.deniedCountries.includes(country)) return { ok: false, status: 'blocked', reason: `country_denied:${country}` };
  if (p.allowedCountries.length && !p.allowedCountries.includes(country)) return { ok: false, status: 'blocked', reason: `country_not_allowed:${country}` };
  return { ok: true, country, type, prefix: `+${e164.replace(/\D/g, '').slice(0, p.velocity.prefixDigits)}` };
}
