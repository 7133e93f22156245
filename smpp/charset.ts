/**
 * The charset a route's SMSC reads our non-Unicode texts in. Most read
 * data_coding 0 as unpacked GSM 03.38, where `@` is 0x00; an SMSC that reads
 * IA5 or Latin-1 instead turns that byte into a NUL or drops it, which breaks
 * the `@domain #code` autofill line. For those we send the charset's own
 * data_coding (1 IA5, 3 Latin-1) and bytes, where `@` is 0x40.
 *
 * Rule: a text goes in the route charset when every character exists both in
 * that charset and in GSM 03.38 (what the SMSC sends over the air, so the 160 /
 * 153 segment limits hold); anything else goes UCS-2 (data_coding 8).
 */
import { CONCAT_UDH_OCTETS, DATA_CODING, detectEncoding, encodeText, splitSegments, type SmsEncoding } from './encoding';

export type RouteCharset = 'gsm7' | 'latin1' | 'ia5';
export const ROUTE_CHARSETS: readonly RouteCharset[] = ['gsm7', 'latin1', 'ia5'];
/** @default 'gsm7' */
export const DEFAULT_ROUTE_CHARSET: RouteCharset = 'gsm7';

/** data_coding and the highest code point of each 8-bit charset. */
const EIGHT_BIT: Record<Exclude<RouteCharset, 'gsm7'>, { dataCoding: number; max: number }> = {
  ia5: { dataCoding: 1, max: 0x7f },
  latin1: { dataCoding: 3, max: 0xff },
};

export interface RouteEncodedText {
  encoding: SmsEncoding;
  dataCoding: number;
  segments: string[];
  /** What goes in short_message / message_payload: a string the library encodes (GSM-7, UCS-2), or our own bytes. */
  body(segment: string): string | Buffer;
}

/** `concatRefBits`: the reference width of the route's concatenation UDH; a 16-bit one leaves each part one unit less. */
export function encodeForRoute(text: string, charset: RouteCharset = DEFAULT_ROUTE_CHARSET, concatRefBits: 8 | 16 = 8): RouteEncodedText {
  const udhOctets = CONCAT_UDH_OCTETS[concatRefBits];
  const plain = encodeText(text, udhOctets);
  if (charset === 'gsm7' || plain.encoding !== 'GSM7') return { ...plain, body: (s) => s };
  const { dataCoding, max } = EIGHT_BIT[charset];
  if ([...text].some((ch) => ch.codePointAt(0)! > max)) {
    const segments = splitSegments(text, 'UCS2', udhOctets);
    return { encoding: 'UCS2', dataCoding: DATA_CODING.UCS2, segments, body: (s) => s };
  }
  // Latin-1 bytes are the code points; IA5 is their ASCII subset.
  return { encoding: detectEncoding(text), dataCoding, segments: plain.segments, body: (s) => Buffer.from(s, 'latin1') };
}
