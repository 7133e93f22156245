/**
 * Delivery receipt parsing. TLVs (receipted_message_id, message_state) win;
 * the SMSC text `id:… sub:… dlvrd:… submit date:… done date:… stat:… err:…`
 * is the fallback, parsed leniently (any field order, 10- or 12-digit dates).
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
export const STATE_CODES: Record<string, number> = Object.fromEntries(
  Object.entries(MESSAGE_STATES).map(([k, v]) => [v, Number(k)]),
);

export function outcomeOf(stat: string): ReceiptOutcome {
  switch (stat) {
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

/** True when esm_class marks the deliver_sm as an SMSC delivery receipt. */
export function isDeliveryReceipt(pdu: ReceiptPduFields): boolean {
  return ((pdu.esm_class ?? 0) & 0x3c) === 0x04;
}

function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('latin1');
  if (value && typeof value === 'object' && 'message' in value) return textOf((value as { message: unknown }).message);
  return '';
}

/** Parses the free-text receipt body. Returns undefined when it has no id. */
export function parseReceiptText(text: string): { id?: string; stat?: string; err?: string } {
  const field = (name: string) => new RegExp(`(?:^|\\s)${name}:\\s*(\\S+)`, 'i').exec(text)?.[1];
  return { id: field('id'), stat: field('stat')?.toUpperCase(), err: field('err') };
}

export function parseDeliveryReceipt(pdu: ReceiptPduFields): ParsedReceipt | undefined {
  if (!isDeliveryReceipt(pdu)) return undefined;
  const text = textOf(pdu.short_message) || textOf(pdu.message_payload);
  const fromText = parseReceiptText(text);
  const tlvId = (pdu.receipted_message_id ?? '').trim();
  const messageId = tlvId || (fromText.id ?? '').trim();
  if (!messageId) return undefined;
  const stat = (pdu.message_state !== undefined && MESSAGE_STATES[pdu.message_state]) || fromText.stat || 'UNKNOWN';
  return { messageId, idSource: tlvId ? 'tlv' : 'text', stat, err: fromText.err ?? '000', outcome: outcomeOf(stat) };
}
