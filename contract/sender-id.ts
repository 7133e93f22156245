/**
 * Sender ids (the SMS "From"): the one rule for what a profile, OTP_SENDER_ID
 * and the SMPP engine accept, and how each kind is addressed (TON/NPI). Kept in
 * one place because two copies had drifted: a 12-digit number passed the check
 * and was then sent as an alphanumeric sender, which SMSCs cap at 11 characters.
 *
 * Workflow-safe (no Node built-ins).
 */

/** How a sender id is addressed on the wire. */
export type SenderKind = 'international' | 'longNumber' | 'shortCode' | 'alphanumeric';

/** What the error messages say is accepted. */
export const SENDER_ID_RULE =
  'up to 11 letters, digits, spaces, dots, dashes or underscores with at least one letter; a short code of 3–8 digits; a number of 9–15 digits; or +E.164';

const KINDS: readonly [SenderKind, RegExp][] = [
  ['international', /^\+[1-9]\d{5,14}$/],
  ['shortCode', /^\d{3,8}$/],
  ['longNumber', /^\d{9,15}$/],
  // A letter is required: an all-digit id is a number (above), and punctuation alone names no one.
  ['alphanumeric', /^(?=.*[A-Za-z])[A-Za-z0-9 ._-]{1,11}$/],
];

/** The kind of a sender id, or undefined when it is none (see SENDER_ID_RULE). */
export function senderKind(senderId: string): SenderKind | undefined {
  return KINDS.find(([, re]) => re.test(senderId))?.[0];
}

/**
 * source_addr and its TON/NPI: international 1/1 (digits without "+"), a number of 9–15 digits
 * also 1/1 (E.164 without "+", as SMSCs read a long numeric sender), short code 3/0,
 * alphanumeric 5/0. Throws on an id that is none of them: the engine never guesses.
 */
export function senderAddress(senderId: string): { addr: string; ton: number; npi: number } {
  switch (senderKind(senderId)) {
    case 'international':
      return { addr: senderId.slice(1), ton: 1, npi: 1 };
    case 'longNumber':
      return { addr: senderId, ton: 1, npi: 1 };
    case 'shortCode':
      return { addr: senderId, ton: 3, npi: 0 };
    case 'alphanumeric':
      return { addr: senderId, ton: 5, npi: 0 };
    default:
      throw new Error(`sender id "${senderId.slice(0, 40)}" is not one: ${SENDER_ID_RULE}`);
  }
}
