/**
 * Property-based fuzzing of the segment counter (issue 13): for random GSM-7
 * and UCS-2 texts, the segments counted are the parts the router sends, each
 * part fits one SMS with its UDH once encoded, extension characters cost two
 * septets, and the 160/153 and 70/67 boundaries hold.
 */
import fc from 'fast-check';
import { encodeForRoute, ROUTE_CHARSETS, type RouteCharset } from '../../smpp/charset';
import { concatUdh, detectEncoding, encodeText, splitSegments, type SmsEncoding } from '../../smpp/encoding';
import { concatHeader, type ConcatRefBits } from '../../smpp/multipart';
import { fuzz } from '../helpers/fuzz';

/** The library's own coders: what goes in short_message for data_coding 0 and 8. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const lib = (require('smpp/lib/defs') as { encodings: Record<'ASCII' | 'UCS2', { encode(s: string): Buffer; decode(b: Buffer): string }> }).encodings;

const GSM7_BASIC = [...'@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà'];
const GSM7_EXTENDED = [...'\f^{}\\[~]|€'];
/** Characters outside GSM 03.38: BMP letters, curly quotes and astral emoji (surrogate pairs). */
const NON_GSM = [...'жДя你好’“é̂'].filter((c) => !GSM7_BASIC.includes(c)).concat(['🔐', '😀', '𝄞']);
/** Octets of TP-UD, what one SMS carries. */
const USER_DATA_OCTETS = 140;

function septets(text: string): number {
  return [...text].reduce((n, ch) => n + (GSM7_EXTENDED.includes(ch) ? 2 : 1), 0);
}

/** Octets one segment takes on the air with its UDH: 7-bit packing pads the UDH to a septet boundary. */
function airOctets(segment: string, encoding: SmsEncoding, udh: Buffer): number {
  if (encoding === 'UCS2') return udh.length + lib.UCS2.encode(segment).length;
  const udhSeptets = udh.length ? Math.ceil((udh.length * 8) / 7) : 0;
  return Math.ceil(((udhSeptets + lib.ASCII.encode(segment).length) * 7) / 8);
}

/** Texts around the segment boundaries: lengths drawn near 70/67k and 160/153k. */
function textOf(alphabet: fc.Arbitrary<string>): fc.Arbitrary<string> {
  const near = fc.constantFrom(67, 70, 134, 153, 160, 201, 306, 459).chain((b) => fc.integer({ min: Math.max(0, b - 3), max: b + 3 }));
  return fc.oneof(near, fc.integer({ min: 0, max: 480 })).chain((n) => fc.array(alphabet, { minLength: n, maxLength: n }).map((a) => a.join('')));
}

const gsmChar = fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...GSM7_BASIC) }, { weight: 1, arbitrary: fc.constantFrom(...GSM7_EXTENDED) });
const gsmText = textOf(gsmChar);
const ucsText = fc
  .tuple(textOf(fc.oneof({ weight: 3, arbitrary: gsmChar }, { weight: 1, arbitrary: fc.constantFrom(...NON_GSM) })), fc.constantFrom(...NON_GSM), fc.nat())
  .map(([t, forced, at]) => {
    const chars = [...t];
    chars.splice(at % (chars.length + 1), 0, forced);
    return chars.join('');
  });

describe('segment counter', () => {
  test('GSM-7: extension characters count double, and the count is the fewest parts of at most 153 septets (one of 160) (numRuns 1500)', () => {
    fc.assert(
      fc.property(gsmText, (text) => {
        expect(detectEncoding(text)).toBe('GSM7');
        const segs = splitSegments(text);
        expect(segs.join('')).toBe(text);
        const total = septets(text);
        expect(lib.ASCII.encode(text).length).toBe(total); // the library writes ESC + char for each extension character
        if (total <= 160) return expect(segs).toHaveLength(1);
        expect(segs.length).toBeGreaterThanOrEqual(Math.ceil(total / 153));
        segs.forEach((s, i) => {
          expect(septets(s)).toBeLessThanOrEqual(153);
          // Greedy: a part is cut only when the next character (an escape pair is one) would not fit.
          if (i < segs.length - 1) expect(septets(s) + septets([...segs[i + 1]][0])).toBeGreaterThan(153);
          expect(lib.ASCII.decode(lib.ASCII.encode(s))).toBe(s);
        });
      }),
      fuzz(1500, 1401),
    );
  });

  test('UCS-2: parts of at most 67 code units (one of 70), never a split surrogate pair (numRuns 1500)', () => {
    fc.assert(
      fc.property(ucsText, (text) => {
        expect(detectEncoding(text)).toBe('UCS2');
        const segs = encodeText(text).segments;
        expect(segs.join('')).toBe(text);
        if (text.length <= 70) return expect(segs).toHaveLength(1);
        expect(segs.length).toBeGreaterThanOrEqual(Math.ceil(text.length / 67));
        segs.forEach((s, i) => {
          expect(s.length).toBeLessThanOrEqual(67);
          expect(s).not.toMatch(/^[\uDC00-\uDFFF]|[\uD800-\uDBFF]$/);
          if (i < segs.length - 1) expect(s.length + [...segs[i + 1]][0].length).toBeGreaterThan(67);
          expect(lib.UCS2.encode(s)).toHaveLength(2 * s.length);
        });
      }),
      fuzz(1500, 1402),
    );
  });

  test('boundaries: n basic characters take 1 part up to 160, then ceil(n/153); n extension characters 1 up to 80, then ceil(n/76); UCS-2 1 up to 70, then ceil(n/67) (numRuns 600)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 700 }),
        fc.constantFrom(...GSM7_BASIC),
        fc.constantFrom(...GSM7_EXTENDED),
        fc.constantFrom('ж', '你'),
        (n, basic, ext, wide) => {
          expect(splitSegments(basic.repeat(n))).toHaveLength(n <= 160 ? 1 : Math.ceil(n / 153));
          expect(splitSegments(ext.repeat(n))).toHaveLength(n <= 80 ? 1 : Math.ceil(n / 76));
          expect(splitSegments(wide.repeat(n))).toHaveLength(n <= 70 ? 1 : Math.ceil(n / 67));
        },
      ),
      fuzz(600, 1403),
    );
  });

  test('what the router sends: every part with its concatenation UDH (8- or 16-bit reference) fits one SMS, in every route charset (numRuns 1500)', () => {
    fc.assert(
      fc.property(
        fc.oneof(gsmText, ucsText),
        fc.constantFrom<RouteCharset>(...ROUTE_CHARSETS),
        fc.constantFrom<ConcatRefBits>(8, 16),
        (text, charset, bits) => {
          const encoded = encodeForRoute(text, charset, bits);
          expect(encoded.segments.join('')).toBe(text);
          const total = encoded.segments.length;
          expect(total).toBeLessThanOrEqual(255); // the UDH holds the count in one octet
          encoded.segments.forEach((segment, i) => {
            const body = encoded.body(segment);
            if (Buffer.isBuffer(body)) {
              // Latin-1 / IA5: our own bytes, exactly the text, never a substituted character.
              expect(body.toString('latin1')).toBe(segment);
              if (charset === 'ia5') expect(body.every((b) => b <= 0x7f)).toBe(true);
            }
            const udh = total === 1 ? Buffer.alloc(0) : concatHeader(bits, 0xabcd, total, i + 1);
            // The SMSC sends non-Unicode texts as GSM-7 on the air, whatever data_coding it was given.
            expect(airOctets(segment, encoded.encoding, udh)).toBeLessThanOrEqual(USER_DATA_OCTETS);
          });
        },
      ),
      fuzz(1500, 1404),
    );
  });

  test('any text: GSM-7 only when the library writes it back unchanged, else UCS-2 that round-trips (numRuns 2000)', () => {
    const anyText = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.string({ unit: 'grapheme', maxLength: 20 }),
      fc.array(fc.oneof(gsmChar, fc.constantFrom(...NON_GSM, '`', '\u00A0', '\x1B', '\0', 'ç', 'Ç', 'ì')), { maxLength: 40 }).map((a) => a.join('')),
    );
    fc.assert(
      fc.property(anyText, (text) => {
        const encoding = detectEncoding(text);
        const codec = encoding === 'GSM7' ? lib.ASCII : lib.UCS2;
        expect(codec.decode(codec.encode(text))).toBe(text);
        expect(splitSegments(text, encoding).join('')).toBe(text);
      }),
      fuzz(2000, 1406),
    );
  });

  test('the UDH is 05 00 03 ref total seq, or 06 08 04 refHi refLo total seq (numRuns 500)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 2, max: 255 }), fc.integer({ min: 1, max: 255 }), (ref, total, seq) => {
        expect([...concatHeader(8, ref, total, seq)]).toEqual([5, 0, 3, ref & 0xff, total, seq]);
        expect([...concatUdh(ref, total, seq)]).toEqual([5, 0, 3, ref & 0xff, total, seq]);
        expect([...concatHeader(16, ref, total, seq)]).toEqual([6, 8, 4, ref >> 8, ref & 0xff, total, seq]);
      }),
      fuzz(500, 1405),
    );
  });
});
