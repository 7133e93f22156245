/**
 * GSM 03.38 (7-bit default alphabet) versus UCS-2: which one a text needs,
 * how many segments it costs, and how to split it for UDH concatenation.
 */
export type SmsEncoding = 'GSM7' | 'UCS2';

/** SMPP data_coding values we always set explicitly (0 = SMSC default / GSM 7-bit, 8 = UCS-2). */
export const DATA_CODING: Record<SmsEncoding, number> = { GSM7: 0, UCS2: 8 };

const GSM7_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
/** Extension table: each costs two septets (escape + char). */
const GSM7_EXTENDED = '\f^{}\\[~]|€';
const BASIC = new Set(GSM7_BASIC);
const EXTENDED = new Set(GSM7_EXTENDED);

export const SEGMENT_LIMITS: Record<SmsEncoding, { single: number; multi: number }> = {
  GSM7: { single: 160, multi: 153 },
  UCS2: { single: 70, multi: 67 },
};

export function detectEncoding(text: string): SmsEncoding {
  for (const ch of text) if (!BASIC.has(ch) && !EXTENDED.has(ch)) return 'UCS2';
  return 'GSM7';
}

/** Units a character costs: septets for GSM-7, UTF-16 code units for UCS-2. */
function unitCost(ch: string, encoding: SmsEncoding): number {
  if (encoding === 'GSM7') return EXTENDED.has(ch) ? 2 : 1;
  return ch.length;
}

/** Splits into segments without breaking an escape pair or a surrogate pair. */
export function splitSegments(text: string, encoding: SmsEncoding = detectEncoding(text)): string[] {
  const limits = SEGMENT_LIMITS[encoding];
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

export function encodeText(text: string): EncodedText {
  const encoding = detectEncoding(text);
  return { encoding, dataCoding: DATA_CODING[encoding], segments: splitSegments(text, encoding) };
}

/** UDH for concatenated SMS with an 8-bit reference: 05 00 03 ref total seq. */
export function concatUdh(ref: number, total: number, seq: number): Buffer {
  return Buffer.from([0x05, 0x00, 0x03, ref & 0xff, total, seq]);
}
