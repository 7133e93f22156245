/**
 * Message id canonical form. Some SMSCs answer submit_sm with a hex id and
 * write the receipt text id in decimal (or the reverse). Numeric formats are
 * reduced to a decimal string, so both sides meet in one mailbox id.
 */
import { randomUUID } from 'node:crypto';

export type MessageIdFormat = 'string' | 'hex' | 'decimal';

export function canonicalMessageId(id: string, format: MessageIdFormat): string {
  const trimmed = id.trim();
  try {
    if (format === 'hex' && /^[0-9a-f]+$/i.test(trimmed)) return BigInt(`0x${trimmed}`).toString(10);
    if (format === 'decimal' && /^\d+$/.test(trimmed)) return BigInt(trimmed).toString(10);
  } catch {
    // fall through to the string form
  }
  return trimmed.toLowerCase();
}

/** Prefix of the id we give a message the SMSC accepted (ESME_ROK) without a message_id. */
const UNLINKED = 'unlinked:';

/**
 * An id for a submit_sm_resp that said ESME_ROK with no message_id: the
 * message is out, so it must not be sent again, but no receipt can name it.
 * Unique, so the segments of one text stay distinct.
 */
export function unlinkedMessageId(): string {
  return `${UNLINKED}${randomUUID()}`;
}

export function isUnlinkedMessageId(id: string): boolean {
  return id.startsWith(UNLINKED);
}
