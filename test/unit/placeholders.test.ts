/** Issue 14: one list of template placeholders for the profile check, a caller's messageText and the renderer. */
import { PLACEHOLDER_LIST, PLACEHOLDER_PATTERN, TEMPLATE_PLACEHOLDERS, unknownPlaceholders } from '../../policy/placeholders';
import { PRESETS, PolicyError, validateProfile } from '../../policy/profile';

test('the known placeholders, and how errors list them', () => {
  expect(TEMPLATE_PLACEHOLDERS).toEqual(['code', 'brand', 'ttlMinutes', 'context', 'spokenCode']);
  expect(PLACEHOLDER_LIST).toBe('{code}, {brand}, {ttlMinutes}, {context} and {spokenCode}');
  expect('{brand}: {code} ({ttlMinutes} min) {context}'.replace(PLACEHOLDER_PATTERN, (_, k: string) => k.toUpperCase())).toBe(
    'BRAND: CODE (TTLMINUTES min) CONTEXT',
  );
});

test.each([
  ['{brand}: your code is {code}', []],
  ['{brand}: {Code}', ['{Code}']],
  ['{brand}: {code} {ttl}', ['{ttl}']],
  ['{brand}: {code} {}', ['{}']],
  // Braces around a placeholder, or left open, are not placeholders either: nothing renders half a brace pair.
  ['{brand}: {{code}}', ['{}']],
  ['{brand}: {code', ['{code']],
  ['{brand}: code}', ['}']],
])('unknown placeholders in %j: %j', (text, unknown) => {
  expect(unknownPlaceholders(text)).toEqual(unknown);
});

test('a profile template with an unknown placeholder is refused, naming it and the known ones', () => {
  const templates = { ...PRESETS.login.templates, en: '{brand}: {code} {{code}}' };
  expect(() => validateProfile('login', { ...PRESETS.login, templates })).toThrow(PolicyError);
  expect(() => validateProfile('login', { ...PRESETS.login, templates: { ...templates, en: '{brand}: {code} {ttl}' } })).toThrow(
    'has unknown placeholder {ttl} (known: {code}, {brand}, {ttlMinutes}, {context} and {spokenCode})',
  );
});
