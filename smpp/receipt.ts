/**
 * Delivery receipt parsing. TLVs (receipted_message_id, message_state) win;
 * the SMSC text `id:… sub:… dlvrd:… submit date:… done date:… stat:… err:…`
 * is the fallback, parsed leniently (any field order, 10- or 12-digit dates,
 * stat words in the long forms carriers use). A receipt comes as deliver_sm
 * or data_sm, marked in esm_class as Kannel reads it.
 */
import type { ReceiptOutcome } from '../contract';

/** SMPP 3.4 message_state values -> the stat names used in receipt texts. */
export const MESSAGE_STATES: Record<number, string> = {
  1: 'ENROUTE',
  2: 'DELIVRD',
  3: 'EXPIRED',
  4: 'DELETED',
  5: 'UNDELIV',
  6: 'ACCEPTD',
  7: 'UNKNOWN',
  8: 'REJECTD',
};
export const STATE_CODES: Record<string, number> = Object.fromEntries(Object.entries(MESSAGE_STATES).map(([k, v]) => [v, Number(k)]));

/**
 * Every stat word we know -> its SMPP 3.4 form: the short words, their
 * message_state numbers, and the long or vendor forms carriers write. The one
 * table for stat words; a word not in it keeps outcome 'pending' (a receipt
 * timeout is cheaper than a retry on a word we guessed wrong).
 */
export const STAT_WORDS: Readonly<Record<string, string>> = {
  ...Object.fromEntries(
    Object.entries(MESSAGE_STATES).flatMap(([n, w]) => [
      [w, w],
      [n, w],
    ]),
  ),
  DELIVERED: 'DELIVRD',
  UNDELIVERABLE: 'UNDELIV',
  UNDELIVERED: 'UNDELIV',
  REJECTED: 'REJECTD',
  ACCEPTED: 'ACCEPTD',
  ACKED: 'ACCEPTD', // Kannel: buffered, not final
  BUFFRED: 'ENROUTE',
  BUFFERD: 'ENROUTE',
  BUFFERED: 'ENROUTE',
  // SMPP 5.0 message_state 0 (SCHEDULED) and 9 (SKIPPED: the SMSC gave up on it).
  '0': 'ENROUTE',
  SCHEDULED: 'ENROUTE',
  '9': 'UNDELIV',
  SKIPPED: 'UNDELIV',
};

/** The SMPP 3.4 stat word for a word or message_state number carriers use; undefined when unknown. */
export function normalizeStat(word: string | number): string | undefined {
  const w = String(word).trim().toUpperCase();
  return STAT_WORDS[/^\d+$/.test(w) ? String(Number(w)) : w];
}

export function outcomeOf(stat: string): ReceiptOutcome {
  switch (normalizeStat(stat) ?? stat) {
    case 'DELIVRD':
      return 'delivered';
    case 'UNDELIV':
    case 'REJECTD':
    case 'EXPIRED':
    case 'DELETED':
    case 'UNKNOWN':
      return 'failed';
    default:
      return 'pending'; // ENROUTE, ACCEPTD and anything we do not know yet
  }
}

export interface ParsedReceipt {
  messageId: string;
  /** Where the id came from: the receipted_message_id TLV (submit_sm_resp format) or the text (the SMSC's receipt format). */
  idSource: 'tlv' | 'text';
  stat: string;
  err: string;
  outcome: ReceiptOutcome;
}

export interface ReceiptPduFields {
  esm_class?: number;
  receipted_message_id?: string;
  message_state?: number;
  short_message?: unknown;
  message_payload?: unknown;
}

/** esm_class bits that mark a receipt, as Kannel reads them: SMSC delivery receipt, SME delivery acknowledgement, intermediate notification. */
export const RECEIPT_ESM_BITS = 0x04 | 0x08 | 0x20;

/** True when esm_class marks the deliver_sm or data_sm as a delivery receipt. */
export function isDeliveryReceipt(pdu: ReceiptPduFields): boolean {
  return ((pdu.esm_class ?? 0) & RECEIPT_ESM_BITS) !== 0;
}

function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('latin1');
  if (value && typeof value === 'object' && 'message' in value) return textOf((value as { message: unknown }).message);
  return '';
}

/** The labels of the receipt text: a field's value never starts with one (an empty `id:` has no value, not the next field's). */
const RECEIPT_LABEL = '(?:id|sub|dlvrd|submit date|done date|stat|err|text):';

/**
 * Parses the free-text receipt body. Returns undefined when it has no id.
 * The first occurrence of a field counts, even when empty (a later `id:` is
 * in the message text). NUL ends a value like a space: an SMSC that counts
 * the C-string terminator in sm_length must not turn `stat:DELIVRD` unknown.
 */
export function parseReceiptText(text: string): { id?: string; stat?: string; err?: string } {
  const field = (name: string) => new RegExp(`(?:^|[\\s\\0])${name}:\\s*(?!${RECEIPT_LABEL})([^\\s\\0]*)`, 'i').exec(text)?.[1] || undefined;
  return { id: field('id'), stat: field('stat')?.toUpperCase(), err: field('err') };
}

export function parseDeliveryReceipt(pdu: ReceiptPduFields): ParsedReceipt | undefined {
  if (!isDeliveryReceipt(pdu)) return undefined;
  const text = textOf(pdu.short_message) || textOf(pdu.message_payload);
  const fromText = parseReceiptText(text);
  const tlvId = (pdu.receipted_message_id ?? '').trim();
  const messageId = tlvId || (fromText.id ?? '').trim();
  if (!messageId) return undefined;
  const stat =
    (pdu.message_state !== undefined && normalizeStat(pdu.message_state)) || (fromText.stat && (normalizeStat(fromText.stat) ?? fromText.stat)) || 'UNKNOWN';
  return { messageId, idSource: tlvId ? 'tlv' : 'text', stat, err: fromText.err ?? '000', outcome: outcomeOf(stat) };
}
