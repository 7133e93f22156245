/**
 * Property-based fuzzing of delivery receipt parsing (issue 13): arbitrary
 * texts and PDUs never throw, what an SMSC formats reads back, ids meet in
 * one canonical form whether written hex or decimal, every stat word maps.
 */
import fc from 'fast-check';
import * as smpp from 'smpp';
import { canonicalMessageId } from '../../smpp/ids';
import { decodeFrame } from '../../smpp/pdu-guard';
import { MESSAGE_STATES, normalizeStat, outcomeOf, parseDeliveryReceipt, parseReceiptText, STAT_WORDS, type ReceiptPduFields } from '../../smpp/receipt';
import { fuzz } from '../helpers/fuzz';

const FIELD_NAMES = ['id', 'sub', 'dlvrd', 'submit date', 'done date', 'stat', 'err', 'text'] as const;
type FieldName = (typeof FIELD_NAMES)[number];

/** A message id as SMSCs write them: no whitespace, no NUL, never empty. */
const idArb = fc.stringMatching(/^[0-9A-Za-z_\-.:]{1,40}$/).filter((s) => !/^(id|sub|dlvrd|submit|done|stat|err|text):/i.test(s));
/** 10-digit (YYMMDDhhmm) or 12-digit (…ss) SMPP receipt dates. */
const dateArb = fc.oneof(fc.stringMatching(/^\d{10}$/), fc.stringMatching(/^\d{12}$/));
const statArb = fc.constantFrom(...Object.keys(STAT_WORDS).filter((w) => !/^\d+$/.test(w)));
const errArb = fc.stringMatching(/^\d{3}$/);
/** The text field: the first 20 characters of the message, which may look like fields themselves. */
const textArb = fc.oneof(
  fc.string({ maxLength: 20 }).map((s) => s.replace(/[\s\0]/g, '_')),
  fc.constantFrom('id:EVIL', 'stat:DELIVRD', 'err:999', 'Your code 123456'),
);

interface Formatted {
  id: string;
  stat: string;
  err: string;
  text: string;
}

/** Formats a receipt text as SMPP 3.4 Appendix B does, in the given field order (`text` last, as carriers write it, or left out). */
function formatReceipt(f: Formatted, order: FieldName[], dates: [string, string], sep: string, trailer: string, withText = true): string {
  const value: Record<FieldName, string> = {
    id: f.id,
    sub: '001',
    dlvrd: '001',
    'submit date': dates[0],
    'done date': dates[1],
    stat: f.stat,
    err: f.err,
    text: f.text,
  };
  const fields = order.filter((n) => n !== 'text').map((n) => `${n}:${value[n]}`);
  return `${[...fields, ...(withText ? [`text:${value.text}`] : [])].join(sep)}${trailer}`;
}

describe('receipt text parser', () => {
  test('never throws on arbitrary text, and what it reads has no whitespace or NUL (numRuns 3000)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 300 }),
          fc.string({ unit: 'binary', maxLength: 300 }),
          fc.array(fc.constantFrom(...FIELD_NAMES.map((n) => `${n}:`), ' ', '\0', 'x', '1', '\t'), { maxLength: 40 }).map((a) => a.join('')),
        ),
        (text) => {
          const r = parseReceiptText(text);
          for (const v of [r.id, r.stat, r.err]) {
            if (v === undefined) continue;
            expect(v.length).toBeGreaterThan(0);
            expect(v).not.toMatch(/[\s\0]/);
          }
        },
      ),
      fuzz(3000, 1301),
    );
  });

  test('round-trips what an SMSC formats: any field order, 10- or 12-digit dates, with or without text:, a trailing NUL (numRuns 1500)', () => {
    fc.assert(
      fc.property(
        fc.record({ id: idArb, stat: statArb, err: errArb, text: textArb }),
        fc.shuffledSubarray([...FIELD_NAMES], { minLength: FIELD_NAMES.length }),
        fc.tuple(dateArb, dateArb),
        fc.constantFrom(' ', '  ', '\t'),
        fc.constantFrom('', '\0', ' ', '\r\n'),
        fc.boolean(),
        fc.boolean(),
        (f, order, dates, sep, trailer, lower, withText) => {
          let text = formatReceipt(f, order, dates, sep, trailer, withText);
          if (lower) text = text.replace(/\b(id|stat|err):/g, (m) => m.toUpperCase());
          expect(parseReceiptText(text)).toEqual({ id: f.id, stat: f.stat.toUpperCase(), err: f.err });
          const parsed = parseDeliveryReceipt({ esm_class: 4, short_message: { message: text } });
          expect(parsed).toMatchObject({ messageId: f.id, idSource: 'text', stat: normalizeStat(f.stat), err: f.err, outcome: outcomeOf(f.stat) });
        },
      ),
      fuzz(1500, 1302),
    );
  });

  test('an empty field is read as absent, never as the next field (numRuns 500)', () => {
    fc.assert(
      fc.property(
        fc.shuffledSubarray([...FIELD_NAMES], { minLength: FIELD_NAMES.length }),
        fc.constantFrom<'id' | 'stat' | 'err'>('id', 'stat', 'err'),
        (order, empty) => {
          const f: Formatted = { id: '12AB', stat: 'DELIVRD', err: '000', text: '' };
          // The message text repeats the field: the receipt's own (empty) one still counts.
          const text = formatReceipt({ ...f, [empty]: '', text: `${empty}:9Z` }, order, ['2601010000', '2601010000'], ' ', '');
          expect(parseReceiptText(text)[empty]).toBeUndefined();
        },
      ),
      fuzz(500, 1303),
    );
  });
});

describe('delivery receipt PDUs', () => {
  const pduArb: fc.Arbitrary<ReceiptPduFields> = fc.record(
    {
      esm_class: fc.integer({ min: 0, max: 255 }),
      receipted_message_id: fc.oneof(fc.string({ maxLength: 70 }), fc.string({ unit: 'binary', maxLength: 70 })),
      message_state: fc.oneof(fc.integer({ min: -5, max: 300 }), fc.constant(Number.NaN)),
      short_message: fc.oneof(
        fc.string({ maxLength: 200 }),
        fc.string({ unit: 'binary', maxLength: 200 }),
        fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
        fc.record({ message: fc.string({ maxLength: 200 }) }),
        fc.constant(null),
        fc.integer(),
      ),
      message_payload: fc.oneof(fc.string({ maxLength: 200 }), fc.record({ message: fc.anything() })),
    },
    { requiredKeys: [] },
  );

  test('never throws on arbitrary fields; a receipt it returns has an id, a known outcome and a stat (numRuns 3000)', () => {
    fc.assert(
      fc.property(pduArb, (pdu) => {
        const r = parseDeliveryReceipt(pdu);
        if (r === undefined) return;
        expect(r.messageId.trim()).toBe(r.messageId);
        expect(r.messageId.length).toBeGreaterThan(0);
        expect(['delivered', 'failed', 'pending']).toContain(r.outcome);
        expect(r.stat.length).toBeGreaterThan(0);
      }),
      fuzz(3000, 1304),
    );
  });

  test('TLV receipts round-trip through the wire: receipted_message_id and message_state win over the text (numRuns 800)', () => {
    fc.assert(
      fc.property(idArb, fc.integer({ min: 0, max: 9 }), fc.constantFrom(0x04, 0x08, 0x20, 0x24), fc.boolean(), textArb, (id, state, esm, asDataSm, noise) => {
        const text = `id:OTHER stat:REJECTD err:000 text:${noise}`;
        const body = asDataSm ? { message_payload: { message: text } } : { short_message: { message: text } };
        const wire = new smpp.PDU(asDataSm ? 'data_sm' : 'deliver_sm', {
          sequence_number: 1,
          esm_class: esm,
          source_addr: '1',
          destination_addr: '2',
          receipted_message_id: id,
          message_state: state,
          ...body,
        }).toBuffer();
        const decoded = decodeFrame(wire);
        if (!decoded.ok) throw new Error(`not decoded: ${decoded.reason}`);
        const r = parseDeliveryReceipt(decoded.pdu);
        const stat = normalizeStat(state) ?? 'UNKNOWN';
        expect(r).toEqual({ messageId: id, idSource: 'tlv', stat, err: '000', outcome: outcomeOf(stat) });
      }),
      fuzz(800, 1305),
    );
  });
});

describe('message ids and stat words', () => {
  test('a hex id and its decimal twin meet in one canonical id, whatever the case and leading zeros (numRuns 2000)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), fc.nat({ max: 4 }), fc.nat({ max: 4 }), fc.boolean(), (n, zh, zd, upper) => {
        const hex = '0'.repeat(zh) + (upper ? n.toString(16).toUpperCase() : n.toString(16));
        const dec = '0'.repeat(zd) + n.toString(10);
        expect(canonicalMessageId(hex, 'hex')).toBe(n.toString(10));
        expect(canonicalMessageId(` ${dec} `, 'decimal')).toBe(n.toString(10));
        expect(canonicalMessageId(hex, 'string')).toBe(hex.toLowerCase());
      }),
      fuzz(2000, 1306),
    );
  });

  test('canonicalMessageId never throws and is idempotent for its format (numRuns 2000)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), fc.constantFrom<'string' | 'hex' | 'decimal'>('string', 'hex', 'decimal'), (id, format) => {
        const once = canonicalMessageId(id, format);
        // A canonical hex id is decimal digits: read again, it stays put only as 'decimal' or 'string'.
        const again = canonicalMessageId(once, format === 'hex' ? 'decimal' : format);
        expect(again).toBe(once);
      }),
      fuzz(2000, 1307),
    );
  });

  test('stat words in any case, padding and zero-padded numbers map to their SMPP 3.4 word; unknown words stay pending (numRuns 2000)', () => {
    const known = Object.keys(STAT_WORDS);
    fc.assert(
      fc.property(
        fc.oneof(
          fc
            .constantFrom(...known)
            .chain((w) => fc.tuple(fc.constant(w), fc.constantFrom('', ' ', '\t'), fc.boolean(), fc.nat({ max: 3 })))
            .map(([w, pad, lower, zeros]) => ({
              word: `${pad}${/^\d+$/.test(w) ? '0'.repeat(zeros) + w : lower ? w.toLowerCase() : w}${pad}`,
              want: STAT_WORDS[w],
            })),
          fc.string({ maxLength: 12 }).map((word) => ({ word, want: undefined as string | undefined })),
        ),
        ({ word, want }) => {
          const got = normalizeStat(word);
          if (want !== undefined) expect(got).toBe(want);
          if (got !== undefined) expect(Object.values(MESSAGE_STATES)).toContain(got);
          else expect(outcomeOf(word)).toBe('pending');
        },
      ),
      fuzz(2000, 1308),
    );
  });
});
