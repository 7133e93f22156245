/**
 * Message content: template rendering, look-alike normalisation, autofill
 * lines, encoding and segment budget. The phone number is never an input.
 */
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

export function renderMessage(input: RenderInput): RenderedMessage {
  const values: Record<string, string> = {
    code: input.code,
    brand: input.brand,
    ttlMinutes: String(Math.max(1, Math.round(input.ttlSeconds / 60))),
    context: input.context ?? '',
  };
  let text = input.template.replace(/\{(code|brand|ttlMinutes|context)\}/g, (_, k: string) => values[k]);
  if (!input.template.includes('{brand}') && !text.includes(input.brand)) {
    throw new MessageError(`message text must name the brand "${input.brand}" (use {brand})`);
  }
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
