/**
 * Template placeholders: the one list the profile check, a caller's messageText
 * check and the renderer use. Pure (workflow code may import it).
 */

/** What a template may name: the code, the brand, the code's lifetime in minutes, the transaction context, the code as a voice reads it. */
export const TEMPLATE_PLACEHOLDERS = ['code', 'brand', 'ttlMinutes', 'context', 'spokenCode'] as const;
export type TemplatePlaceholder = (typeof TEMPLATE_PLACEHOLDERS)[number];

/** Every known placeholder, its name captured (global: use with replace or matchAll). */
export const PLACEHOLDER_PATTERN = new RegExp(`\\{(${TEMPLATE_PLACEHOLDERS.join('|')})\\}`, 'g');

/** "{code}, {brand}, {ttlMinutes}, {context} and {spokenCode}", for error messages. */
export const PLACEHOLDER_LIST = TEMPLATE_PLACEHOLDERS.map((p) => `{${p}}`)
  .join(', ')
  .replace(/, ([^,]*)$/, ' and $1');

/** What in a text is a brace but no known placeholder ("{Code}", "{ttl}", "{}", a stray "{" or "}"), as written. */
export function unknownPlaceholders(text: string): string[] {
  return text.replace(PLACEHOLDER_PATTERN, '').match(/\{[^{}]*\}?|\}/g) ?? [];
}

/** {spokenCode}: the code one character at a time, with pauses ("4, 7, 1, 9"), so speech reads digits, not a number. */
export function spokenCode(code: string): string {
  return [...code].join(', ');
}
