/**
 * Message content: template rendering, look-alike normalisation, autofill
 * lines, encoding and segment budget. The phone number is never an input.
 */
import { PLACEHOLDER_PATTERN, spokenCode } from './placeholders';
import { encodeText, type SmsEncoding } from '../smpp/encoding';
import type { AutofillPolicy } from './profile';

/** Characters that look like GSM-7 ones but force UCS-2, and their GSM-7 twins. */
const LOOKALIKES: [RegExp, string][] = [
  [/[\u2018\u2019\u201A\u201B\u2032\u00B4]/g, "'"],
  [/[\u201C\u201D\u201E\u201F\u2033]/g, '"'],
  [/[\u2010\u2011\u2012\u2013\u2014\u2015\u2212]/g, '-'],
  [/[\u00A0\u2000-\u200A\u202F\u205F\u3000]/g, ' '],
  [/[\u200B\u200C\u200D\u2060\uFEFF]/g, ''],
  [/\u2026/g, '...'],
  [/\u2022/g, '-'],
];

export function normalizeLookalikes(text: string): string {
  return LOOKALIKES.reduce((t, [re, to]) => t.replace(re, to), text);
}

export interface RenderInput {
  template: string;
  code: string;
  brand: string;
  ttlSeconds: number;
  context?: string;
  autofill: AutofillPolicy;
  normalize: boolean;
  maxSegments: number;
}

export interface RenderedMessage {
  text: string;
  encoding: SmsEncoding;
  segments: number;
}

export class MessageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidMessage';
  }
}

export interface PlainTextOptions {
  /**
   * Accept LF (U+000A), for multi-line templates. CR stays refused.
   * @default false
   */
  allowNewline?: boolean;
  /**
   * Accept `{` and `}`, for templates. Values (brand, context) never may:
   * a `{code}` in them would be a placeholder the sender did not write.
   * @default false
   */
  allowBraces?: boolean;
}

/** Characters that reorder how the text displays, so a reader sees something other than what was sent. */
const BIDI = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/u;
/** Format (zero-width, soft hyphen, tags), private-use and unassigned characters, and the Hangul fillers that render as nothing. */
const INVISIBLE = /[\p{Cf}\p{Co}\p{Cn}\u115F\u1160\u3164\uFFA0]/u;

function classify(ch: string, opts: PlainTextOptions): string | undefined {
  const cp = ch.codePointAt(0)!;
  if (cp <= 0x1f) return cp === 0x0a && opts.allowNewline ? undefined : 'a control character';
  if (cp >= 0x7f && cp <= 0x9f) return 'a control character';
  if (cp === 0x2028 || cp === 0x2029) return 'a line or paragraph separator';
  if (BIDI.test(ch)) return 'a bidirectional control character';
  if (INVISIBLE.test(ch)) return 'an invisible, private-use or unassigned character';
  if ((ch === '{' || ch === '}') && !opts.allowBraces) return 'a brace (placeholders are not allowed here)';
  return undefined;
}

/**
 * Refuses text that could inject lines, bells, display reordering or
 * placeholders. The message names the field, the character class, its
 * position and code point, never the value (it is caller input).
 */
export function assertPlainText(field: string, value: string, opts: PlainTextOptions = {}): void {
  let position = 0;
  for (const ch of value) {
    position++;
    const problem = classify(ch, opts);
    if (problem) {
      const cp = ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
      throw new MessageError(`${field} must not contain ${problem} (U+${cp} at character ${position})`);
    }
  }
}

const PLACEHOLDER = PLACEHOLDER_PATTERN;
/** Letters, marks, digits and connector punctuation continue a word. */
const WORD_CHAR = '[\\p{L}\\p{M}\\p{N}\\p{Pc}]';

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * True if a message from this template names the brand where the sender put
 * it: through {brand}, or as a whole word (case-sensitive) in the template's
 * own text. A brand only inside {context} or glued to other letters
 * ("AcmeCorp", "{code}Acme") does not count. Placeholders stand in as word
 * characters, since what they expand to may touch the brand.
 */
export function templateNamesBrand(template: string, brand: string): boolean {
  if (template.includes('{brand}')) return true;
  if (!brand) return false;
  const literal = template.replace(PLACEHOLDER, '0');
  return new RegExp(`(?<!${WORD_CHAR})${escapeRegExp(brand)}(?!${WORD_CHAR})`, 'u').test(literal);
}

/** Refuses anything not shaped like a BCP-47 tag (en, pt-BR, zh_Hant_TW), such as "__proto__" or "constructor". */
export function assertLocale(locale: string): void {
  if (!/^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8}){0,3}$/.test(locale)) {
    throw new MessageError('locale must be a language tag such as "en" or "pt-BR"');
  }
}

/**
 * The template for a locale: the exact tag, else its base language ("pt-BR" ->
 * "pt"); no locale means the default. Any other locale is a MessageError that
 * names it, the profile and the known locales: a silent fallback would send a
 * language the caller did not ask for. Own keys only, case-insensitive, so
 * "toString" or "__proto__" can never pick an inherited property.
 */
export function pickTemplate(
  templates: Record<string, string>,
  wanted: string | undefined,
  defaultLocale: string,
  profile: string,
): { template: string; locale: string } {
  const own = Object.keys(templates).filter((k) => Object.hasOwn(templates, k) && typeof templates[k] === 'string');
  const find = (tag: string): string | undefined => own.find((k) => k === tag) ?? own.find((k) => k.toLowerCase() === tag.toLowerCase());
  const candidates = wanted ? [wanted, wanted.split(/[-_]/)[0]] : [defaultLocale];
  for (const tag of candidates) {
    const key = find(tag);
    if (key !== undefined) return { template: templates[key], locale: key };
  }
  if (wanted) throw new MessageError(`unknown locale "${wanted}" for profile "${profile}" (known: ${own.join(', ')})`);
  throw new MessageError(`no template for locale "${defaultLocale}"`);
}

export function renderMessage(input: RenderInput): RenderedMessage {
  const values: Record<string, string> = {
    code: input.code,
    brand: input.brand,
    ttlMinutes: String(Math.max(1, Math.round(input.ttlSeconds / 60))),
    context: input.context ?? '',
    spokenCode: spokenCode(input.code),
  };
  assertPlainText('brand', input.brand);
  if (input.context !== undefined) assertPlainText('context', input.context);
  assertPlainText('message template', input.template, { allowNewline: true, allowBraces: true });
  if (!templateNamesBrand(input.template, input.brand)) {
    throw new MessageError(`message text must name the brand "${input.brand}" as a word of its own, outside {context} (use {brand})`);
  }
  let text = input.template.replace(PLACEHOLDER, (_, k: string) => values[k]);
  if (input.autofill.iosDomain) text = `${text}\n\n@${input.autofill.iosDomain} #${input.code}`;
  if (input.autofill.androidAppHash) text = `${text}\n${input.autofill.androidAppHash}`;
  if (input.normalize) text = normalizeLookalikes(text);
  const encoded = encodeText(text);
  if (encoded.segments.length > input.maxSegments) {
    throw new MessageError(
      `rendered message needs ${encoded.segments.length} ${encoded.encoding} segments, over the budget of ${input.maxSegments} (${[...text].length} characters)`,
    );
  }
  return { text, encoding: encoded.encoding, segments: encoded.segments.length };
}
