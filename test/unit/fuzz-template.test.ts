/**
 * Property-based fuzzing of the message template renderer (issue 13):
 * arbitrary templates and values throw only MessageError, only the four known
 * placeholders expand, a value can never inject a placeholder (a brand holding
 * `{code}` neither leaks nor duplicates the code), and the output stays
 * within the segment budget.
 */
import fc from 'fast-check';
import { encodeText } from '../../smpp/encoding';
import { MessageError, normalizeLookalikes, renderMessage, type RenderInput } from '../../policy/message';
import { TEMPLATE_PLACEHOLDERS, unknownPlaceholders } from '../../policy/placeholders';
import { ALPHABETS } from '../../policy/profile';
import { fuzz } from '../helpers/fuzz';

const KNOWN = TEMPLATE_PLACEHOLDERS;
const KNOWN_PLACEHOLDER = /\{(code|brand|ttlMinutes|context)\}/;
const BRAND = 'Acme';

/** Template pieces: words, known and unknown placeholders, stray braces, look-alikes, controls. */
const piece = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('Your', ' code', ' is ', ': ', '.', '\n', 'é', 'ж', '€', '’', '…', '\u00A0') },
  { weight: 3, arbitrary: fc.constantFrom(...KNOWN.map((k) => `{${k}}`)) },
  { weight: 1, arbitrary: fc.constantFrom('{', '}', '{{', '}}', '{code', 'code}', '{Code}', '{foo}', '{ code }', '{brand}}', '{{code}}') },
  { weight: 1, arbitrary: fc.oneof(fc.string({ maxLength: 6 }), fc.string({ unit: 'binary', maxLength: 6 }), fc.string({ unit: 'grapheme', maxLength: 3 })) },
  { weight: 1, arbitrary: fc.constantFrom('\r', '\u0007', '\u202E', '\u200B', '\uE000', '\u2028') },
);
const templateArb = fc.array(piece, { maxLength: 30 }).map((p) => p.join(''));
/** Values as callers send them: mostly plain, sometimes carrying placeholders, controls or look-alikes. */
const valueArb = fc.oneof(
  { weight: 3, arbitrary: fc.stringMatching(/^[A-Za-z][A-Za-z .'&-]{0,20}$/) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('{code}', 'Acme {code}', '{brand}', '{ttlMinutes}{context}', '}{', 'Ac\u202Eme', 'Ac\nme', '…', 'Ω', '$&', "$'", '$1'),
  },
  { weight: 1, arbitrary: fc.oneof(fc.string({ maxLength: 20 }), fc.string({ unit: 'binary', maxLength: 20 }), fc.string({ unit: 'grapheme', maxLength: 8 })) },
);
const codeArb = fc.oneof(
  fc.stringMatching(/^[0-9]{4,10}$/),
  fc.array(fc.constantFrom(...ALPHABETS.alphanumeric), { minLength: 4, maxLength: 10 }).map((a) => a.join('')),
);
const autofillArb = fc.record({
  iosDomain: fc.option(fc.constantFrom('acme.example', 'login.acme.example'), { nil: null }),
  androidAppHash: fc.option(fc.constantFrom('FA+9qCX9VSu'), { nil: null }),
});

const inputArb: fc.Arbitrary<RenderInput> = fc.record({
  template: templateArb,
  code: codeArb,
  brand: valueArb,
  ttlSeconds: fc.integer({ min: 0, max: 86_400 }),
  context: fc.option(valueArb, { nil: undefined }),
  autofill: autofillArb,
  normalize: fc.boolean(),
  maxSegments: fc.integer({ min: 1, max: 10 }),
});

/** The renderer's contract written out: one pass over the template, each known placeholder replaced by its value. */
function expectedText(input: RenderInput): string {
  const values: Record<string, string> = {
    code: input.code,
    brand: input.brand,
    ttlMinutes: String(Math.max(1, Math.round(input.ttlSeconds / 60))),
    context: input.context ?? '',
    spokenCode: [...input.code].join(', '),
  };
  let text = input.template
    .split(/(\{(?:code|brand|ttlMinutes|context|spokenCode)\})/)
    .map((part, i) => (i % 2 === 1 ? values[part.slice(1, -1)] : part))
    .join('');
  if (input.autofill.iosDomain) text += `\n\n@${input.autofill.iosDomain} #${input.code}`;
  if (input.autofill.androidAppHash) text += `\n${input.autofill.androidAppHash}`;
  return input.normalize ? normalizeLookalikes(text) : text;
}

function occurrences(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}

describe('template renderer', () => {
  test('arbitrary templates and values: a MessageError or a text within budget that is the template with its placeholders filled (numRuns 2500)', () => {
    let rendered = 0;
    fc.assert(
      fc.property(inputArb, (input) => {
        let out;
        try {
          out = renderMessage(input);
        } catch (err) {
          expect(err).toBeInstanceOf(MessageError);
          return;
        }
        rendered++;
        expect(out.text).toBe(expectedText(input));
        expect(out.text).not.toMatch(KNOWN_PLACEHOLDER);
        // Only the known set expands: a template the profile check passes (no unknown placeholder) leaves no brace at all.
        if (unknownPlaceholders(input.template).length === 0) expect(out.text).not.toMatch(/[{}]/);
        const encoded = encodeText(out.text);
        expect(out.segments).toBe(encoded.segments.length);
        expect(out.encoding).toBe(encoded.encoding);
        expect(out.segments).toBeLessThanOrEqual(input.maxSegments);
        // Bounded: at most maxSegments parts of 153 septets (GSM-7, 2 per character at worst) or 67 UCS-2 units.
        expect(out.text.length).toBeLessThanOrEqual(input.maxSegments * (out.encoding === 'GSM7' ? 160 : 70));
      }),
      fuzz(2500, 1501),
    );
    expect(rendered).toBeGreaterThan(100); // the generators reach the success path, not only refusals
  });

  test('a value carrying a placeholder is refused, never expanded: the code is neither leaked nor duplicated (numRuns 1500)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('{code}', '{brand}', '{context}', '{ttlMinutes}', '{', '}'),
        fc.stringMatching(/^[A-Za-z ]{0,8}$/),
        fc.stringMatching(/^[A-Za-z ]{0,8}$/),
        fc.constantFrom<'brand' | 'context'>('brand', 'context'),
        fc.stringMatching(/^[0-9]{6}$/),
        (placeholder, before, after, field, code) => {
          const value = `${before}${placeholder}${after}`;
          const input: RenderInput = {
            template: '{brand}: your code is {code}. {context}',
            code,
            brand: BRAND,
            ttlSeconds: 300,
            autofill: { iosDomain: null, androidAppHash: null },
            normalize: true,
            maxSegments: 3,
            [field]: value,
          };
          expect(() => renderMessage(input)).toThrow(MessageError);
        },
      ),
      fuzz(1500, 1502),
    );
  });

  test('the code appears exactly as often as the template asks for it (plus the autofill line), whatever the brand and context (numRuns 2000)', () => {
    // Values and template text come from alphabets without digits, so any digit run in the output is the code or the TTL.
    const plain = fc.stringMatching(/^[A-Za-z][A-Za-z .,!-]{0,15}$/);
    fc.assert(
      fc.property(
        fc
          .array(fc.oneof(fc.constantFrom('{code}', '{brand}', '{context}', ' ', '{{', '}}', '{code', 'code}'), plain), { maxLength: 12 })
          .map((p) => `{brand} ${p.join('')}`),
        plain,
        fc.option(plain, { nil: undefined }),
        fc.stringMatching(/^#[0-9]{6}#$/).map((s) => s.slice(1, -1)),
        autofillArb,
        (template, brand, context, code, autofill) => {
          const out = renderMessage({ template, code, brand, context, ttlSeconds: 300, autofill, normalize: false, maxSegments: 10 }).text;
          // Placeholders cannot overlap one another, so each `{code}` substring is one expansion.
          const asked = occurrences(template, '{code}') + (autofill.iosDomain ? 1 : 0);
          expect(occurrences(out, code)).toBe(asked);
        },
      ),
      fuzz(2000, 1503),
    );
  });
});
