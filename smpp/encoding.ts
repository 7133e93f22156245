/**
 * GSM 03.38 (7-bit default alphabet) versus UCS-2: which one a text needs,
 * how many segments it costs, and how to split it for UDH concatenation.
 */
export type SmsEncoding = 'GSM7' | 'UCS2';

/** SMPP data_coding values we always set explicitly (0 = SMSC default / GSM 7-bit, 8 = UCS-2). */
export const DATA_CODING: Record<SmsEncoding, number> = { GSM7: 0, UCS2: 8 };

const GSM7_BASIC = '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
/** Extension table: each costs two septets (escape + char). */
const GSM7_EXTENDED = '\f^{}\\[~]|€';
const BASIC = new Set(GSM7_BASIC);
const EXTENDED = new Set(GSM7_EXTENDED);

/** Limits with the 6-octet UDH of an 8-bit concatenation reference (05 00 03 …). */
export const SEGMENT_LIMITS: Record<SmsEncoding, { single: number; multi: number }> = {
  GSM7: { single: 160, multi: 153 },
  UCS2: { single: 70, multi: 67 },
};

/** Octets of user data (TP-UD) one SMS carries. */
const USER_DATA_OCTETS = 140;
/** UDH octets per concatenation reference width: 05 00 03 ref total seq, or 06 08 04 refHi refLo total seq. */
export const CONCAT_UDH_OCTETS: Record<8 | 16, number> = { 8: 6, 16: 7 };

/**
 * Units a part of a long message holds next to a UDH of `udhOctets`: UCS-2
 * code units, or GSM-7 septets after the UDH padded to a septet boundary
 * (a 16-bit reference leaves 152 septets or 66 UCS-2 units, not 153 / 67).
 */
export function multiPartLimit(encoding: SmsEncoding, udhOctets: number = CONCAT_UDH_OCTETS[8]): number {
  if (encoding === 'UCS2') return Math.floor((USER_DATA_OCTETS - udhOctets) / 2);
  return Math.floor((USER_DATA_OCTETS * 8) / 7) - Math.ceil((udhOctets * 8) / 7);
}

export function detectEncoding(text: string): SmsEncoding {
  for (const ch of text) if (!BASIC.has(ch) && !EXTENDED.has(ch)) return 'UCS2';
  return 'GSM7';
}

/** Units a character costs: septets for GSM-7, UTF-16 code units for UCS-2. */
function unitCost(ch: string, encoding: SmsEncoding): number {
  if (encoding === 'GSM7') return EXTENDED.has(ch) ? 2 : 1;
  return ch.length;
}

/**
 * Splits into segments without breaking an escape pair or a surrogate pair.
 * `udhOctets`: the concatenation UDH each part carries (default: 8-bit reference).
 */
export function splitSegments(text: string, encoding: SmsEncoding = detectEncoding(text), udhOctets: number = CONCAT_UDH_OCTETS[8]): string[] {
  const limits = { single: SEGMENT_LIMITS[encoding].single, multi: multiPartLimit(encoding, udhOctets) };
  const chars = [...text];
  const total = chars.reduce((n, ch) => n + unitCost(ch, encoding), 0);
  if (total <= limits.single) return [text];
  const segments: string[] = [];
  let seg = '';
  let used = 0;
  for (const ch of chars) {
    const cost = unitCost(ch, encoding);
    if (used + cost > limits.multi) {
      segments.push(seg);
      seg = '';
      used = 0;
    }
    seg += ch;
    used += cost;
  }
  if (seg) segments.push(seg);
  return segments;
}

export interface EncodedText {
  encoding: SmsEncoding;
  dataCoding: number;
  segments: string[];
}

export function encodeText(text: string, udhOctets: number = CONCAT_UDH_OCTETS[8]): EncodedText {
  const encoding = detectEncoding(text);
  return { encoding, dataCoding: DATA_CODING[encoding], segments: splitSegments(text, encoding, udhOctets) };
}

/** UDH for concatenated SMS with an 8-bit reference: 05 00 03 ref total seq. */
export function concatUdh(ref: number, total: number, seq: number): Buffer {
  return Buffer.from([0x05, 0x00, 0x03, ref & 0xff, total, seq]);
}
