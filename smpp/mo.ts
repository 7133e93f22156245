/**
 * Mobile-originated messages: a deliver_sm or data_sm whose esm_class does not
 * mark a delivery receipt. Reads sender, recipient and text, and the STOP /
 * START keyword (the trimmed, case-folded first word).
 */
import { isDeliveryReceipt, type ReceiptPduFields } from './receipt';

export interface MoPduFields extends ReceiptPduFields {
  source_addr?: string;
  source_addr_ton?: number;
  destination_addr?: string;
  user_message_reference?: number;
  sar_msg_ref_num?: number;
  sar_segment_seqnum?: number;
}

export interface ParsedMo {
  /** source_addr as sent, with its TON. */
  from: string;
  fromTon: number;
  /** destination_addr: the short code or sender id it was sent to. */
  to: string;
  text: string;
  /** What tells two MOs with the same text apart when the SMSC gives it (TLVs), for the event id. */
  reference: string;
}

function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('latin1');
  if (value && typeof value === 'object' && 'message' in value) return textOf((value as { message: unknown }).message);
  return '';
}

/** True when the deliver_sm / data_sm is a mobile-originated message rather than a receipt. */
export function isMobileOriginated(pdu: ReceiptPduFields): boolean {
  return !isDeliveryReceipt(pdu);
}

export function parseMobileOriginated(pdu: MoPduFields): ParsedMo {
  const refs = [pdu.user_message_reference, pdu.sar_msg_ref_num, pdu.sar_segment_seqnum].map((v) => (v === undefined ? '' : String(v)));
  return {
    from: String(pdu.source_addr ?? ''),
    fromTon: pdu.source_addr_ton ?? 0,
    to: String(pdu.destination_addr ?? ''),
    text: textOf(pdu.short_message) || textOf(pdu.message_payload),
    reference: refs.join(','),
  };
}

/** Parses a comma-separated keyword list into upper-case words. */
export function parseKeywords(list: string): string[] {
  return list
    .split(',')
    .map((k) => k.trim().toUpperCase())
    .filter(Boolean);
}

/** The keyword an MO text is, if its first word (trimmed, case-folded) is one of the lists. */
export function matchKeyword(text: string, stop: readonly string[], start: readonly string[]): { keyword: string; optOut: 'stop' | 'start' } | undefined {
  const first =
    text
      .trim()
      .split(/\s+/)[0]
      ?.replace(/[.!?,;:]+$/, '')
      .toUpperCase() ?? '';
  if (!first) return undefined;
  if (stop.includes(first)) return { keyword: first, optOut: 'stop' };
  if (start.includes(first)) return { keyword: first, optOut: 'start' };
  return undefined;
}
