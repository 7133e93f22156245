import { MessageError, assertLocale, assertPlainText, pickTemplate, renderMessage, templateNamesBrand } from '../../policy/message';
import { PRESETS } from '../../policy/profile';

function problem(fn: () => void): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(MessageError);
    expect((err as MessageError).name).toBe('InvalidMessage');
    return (err as MessageError).message;
  }
  return 'accepted';
}

describe('assertPlainText', () => {
  test.each([
    ['Acme\r\nCall +19005550123', 'a control character (U+000D at character 5)'],
    ['Acme\nx', 'a control character (U+000A at character 5)'],
    ['Acme\u0007', 'a control character (U+0007 at character 5)'],
    ['\u0000Acme', 'a control character (U+0000 at character 1)'],
    ['Acme\tBank', 'a control character (U+0009 at character 5)'],
    ['Acme\u007f', 'a control character (U+007F at character 5)'],
    ['Acme\u0085', 'a control character (U+0085 at character 5)'],
    ['Acme\u009f', 'a control character (U+009F at character 5)'],
    ['Acme\u202e321', 'a bidirectional control character (U+202E at character 5)'],
    ['\u202aAcme', 'a bidirectional control character (U+202A at character 1)'],
    ['Acme\u200e', 'a bidirectional control character (U+200E at character 5)'],
    ['Acme\u200f', 'a bidirectional control character (U+200F at character 5)'],
    ['Acme\u061c', 'a bidirectional control character (U+061C at character 5)'],
    ['Acme\u2066x\u2069', 'a bidirectional control character (U+2066 at character 5)'],
    ['Acme\u2028x', 'a line or paragraph separator (U+2028 at character 5)'],
    ['Acme {code}', 'a brace (placeholders are not allowed here) (U+007B at character 6)'],
    ['Acme }', 'a brace (placeholders are not allowed here) (U+007D at character 6)'],
    // Positions count characters, not UTF-16 units.
    ['😀\u202e', 'a bidirectional control character (U+202E at character 2)'],
  ])('refuses %j, naming the class and position', (value, what) => {
    expect(problem(() => assertPlainText('brand', value))).toBe(`brand must not contain ${what}`);
  });

  test('never echoes the value', () => {
    const message = problem(() => assertPlainText('context', 'Call +19005550123 now\u0007'));
    expect(message).not.toContain('19005550123');
    expect(message).toMatch(/^context must not contain a control character \(U\+0007 at character 22\)$/);
  });

  test('ordinary text in any script passes', () => {
    for (const v of ['Acme', 'Acme Bank & Co.', 'Confirm transfer of €500 to Alice', 'Ваш банк', 'بنك', 'שלום', '銀行', 'Zoë’s café']) {
      expect(problem(() => assertPlainText('brand', v))).toBe('accepted');
    }
  });

  test('templates may keep LF and braces, never CR or bidi controls', () => {
    const template = '{brand}: your code is {code}.\nNever share it.';
    expect(problem(() => assertPlainText('messageText', template, { allowNewline: true, allowBraces: true }))).toBe('accepted');
    expect(problem(() => assertPlainText('messageText', template))).toMatch(/brace/);
    expect(problem(() => assertPlainText('messageText', template, { allowBraces: true }))).toMatch(/U\+000A/);
    expect(problem(() => assertPlainText('messageText', '{code}\r\n', { allowNewline: true, allowBraces: true }))).toMatch(/U\+000D/);
    expect(problem(() => assertPlainText('messageText', '{code}\u202e', { allowNewline: true, allowBraces: true }))).toMatch(/U\+202E/);
  });
});

describe('templateNamesBrand', () => {
  test.each<[string, boolean]>([
    ['{brand}: {code}', true],
    ['Acme: {code}', true],
    ['Use {code} for Acme.', true],
    ['Use {code} Acme', true],
    ['«Acme» {code}', true],
    ['Acme-Pay code {code}', true],
    // Only inside the caller's context: the context is not the sender's own words.
    ['{context}: code {code}', false],
    ['Use {code} {context}', false],
    // Glued to other letters or to a placeholder's expansion.
    ['AcmeCorp code {code}', false],
    ['MyAcme code {code}', false],
    ['Acmé code {code}', false],
    ['Acme_1 code {code}', false],
    ['{code}Acme', false],
    ['Acme{context} {code}', false],
    // Case-sensitive.
    ['ACME code {code}', false],
    ['acme code {code}', false],
  ])('%j names "Acme": %p', (template, expected) => {
    expect(templateNamesBrand(template, 'Acme')).toBe(expected);
  });

  test('multi-word brands and brands with regex characters', () => {
    expect(templateNamesBrand('Acme Bank: {code}', 'Acme Bank')).toBe(true);
    expect(templateNamesBrand('Acme Bankers: {code}', 'Acme Bank')).toBe(false);
    expect(templateNamesBrand('A+B (EU): {code}', 'A+B (EU)')).toBe(true);
    expect(templateNamesBrand('AAB (EU): {code}', 'A+B (EU)')).toBe(false);
    expect(templateNamesBrand('Банк: код {code}', 'Банк')).toBe(true);
    expect(templateNamesBrand('Банкир: код {code}', 'Банк')).toBe(false);
  });
});

describe('renderMessage refuses injected input', () => {
  const base = {
    template: PRESETS.transaction.templates.en,
    code: '907220',
    brand: 'Acme',
    ttlSeconds: 300,
    context: 'Confirm transfer of €500',
    autofill: { iosDomain: null, androidAppHash: null },
    normalize: true,
    maxSegments: 3,
  };

  test('the finding: CR/LF, BEL and a phone number in the brand', () => {
    expect(problem(() => renderMessage({ ...base, brand: 'Acme\r\n\u0007Call +19005550123: your code is' }))).toBe(
      'brand must not contain a control character (U+000D at character 5)',
    );
  });
  test('RTL override or a {code} placeholder in the context', () => {
    expect(problem(() => renderMessage({ ...base, context: 'Pay \u202e0005€' }))).toMatch(
      /^context must not contain a bidirectional control character \(U\+202E/,
    );
    expect(problem(() => renderMessage({ ...base, context: 'your code is {code}' }))).toMatch(/^context must not contain a brace/);
  });
  test('caller text whose brand is only in the context, or part of another word', () => {
    expect(problem(() => renderMessage({ ...base, template: 'Use {code} {context}', context: 'Acme' }))).toMatch(
      /must name the brand "Acme" as a word of its own/,
    );
    expect(problem(() => renderMessage({ ...base, template: 'Use {code} AcmeCorp' }))).toMatch(/must name the brand "Acme"/);
    expect(renderMessage({ ...base, template: 'Use {code} for Acme', context: undefined }).text).toBe('Use 907220 for Acme');
  });
  test('a control character in caller template text', () => {
    expect(problem(() => renderMessage({ ...base, template: '{brand}\r\n{code}' }))).toMatch(
      /^message template must not contain a control character \(U\+000D/,
    );
    expect(renderMessage({ ...base, template: '{brand}\n{code}' }).text).toBe('Acme\n907220');
  });
  test('the presets still render', () => {
    for (const [name, p] of Object.entries(PRESETS)) {
      for (const template of Object.values(p.templates)) {
        expect(problem(() => renderMessage({ ...base, template, maxSegments: 10 }))).toBe('accepted');
        void name;
      }
    }
  });
});

describe('locales', () => {
  const templates = { en: 'en {brand} {code}', fr: 'fr {brand} {code}', 'pt-BR': 'pt-BR {brand} {code}' };

  test('exact tag, then base language; no locale is the default', () => {
    expect(pickTemplate(templates, 'fr', 'en', 'login')).toEqual({ template: templates.fr, locale: 'fr' });
    expect(pickTemplate(templates, 'fr-CA', 'en', 'login')).toEqual({ template: templates.fr, locale: 'fr' });
    expect(pickTemplate(templates, 'fr_BE', 'en', 'login')).toEqual({ template: templates.fr, locale: 'fr' });
    expect(pickTemplate(templates, 'pt-BR', 'en', 'login')).toEqual({ template: templates['pt-BR'], locale: 'pt-BR' });
    expect(pickTemplate(templates, 'pt-br', 'en', 'login')).toEqual({ template: templates['pt-BR'], locale: 'pt-BR' });
    expect(pickTemplate(templates, undefined, 'en', 'login')).toEqual({ template: templates.en, locale: 'en' });
    expect(pickTemplate(templates, '', 'en', 'login')).toEqual({ template: templates.en, locale: 'en' });
  });

  test('a locale whose base language has no template is refused, naming it, the profile and the known locales', () => {
    expect(problem(() => pickTemplate(templates, 'de', 'en', 'login'))).toBe('unknown locale "de" for profile "login" (known: en, fr, pt-BR)');
    expect(problem(() => pickTemplate(templates, 'de-DE', 'en', 'login'))).toBe('unknown locale "de-DE" for profile "login" (known: en, fr, pt-BR)');
    // The base of "pt-PT" is "pt", and only "pt-BR" exists: a sibling region is not the base language.
    expect(problem(() => pickTemplate(templates, 'pt-PT', 'en', 'login'))).toBe('unknown locale "pt-PT" for profile "login" (known: en, fr, pt-BR)');
    expect(() => pickTemplate(templates, 'de', 'en', 'login')).toThrow(MessageError);
  });

  test.each(['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'])('%s never picks an inherited property', (wanted) => {
    expect(problem(() => pickTemplate(templates, wanted, 'en', 'login'))).toBe(`unknown locale "${wanted}" for profile "login" (known: en, fr, pt-BR)`);
    expect(problem(() => assertLocale(wanted))).toBe('locale must be a language tag such as "en" or "pt-BR"');
  });

  test('a default missing from the table is a MessageError, not undefined', () => {
    expect(problem(() => pickTemplate({ fr: 'x' }, undefined, 'en', 'p'))).toBe('no template for locale "en"');
    expect(problem(() => pickTemplate(Object.create({ en: 'inherited' }) as Record<string, string>, undefined, 'en', 'p'))).toBe('no template for locale "en"');
  });

  test('assertLocale accepts BCP-47 shapes and refuses the rest', () => {
    for (const ok of ['en', 'fil', 'pt-BR', 'zh_Hant_TW', 'sr-Latn-RS', 'es-419']) expect(problem(() => assertLocale(ok))).toBe('accepted');
    for (const bad of ['', 'e', 'english', 'en-', 'en--US', 'en-US-x-a-b-c', 'en US', 'en\n', '../en', 'en-US\u202e']) {
      expect(problem(() => assertLocale(bad))).toMatch(/locale must be a language tag/);
    }
  });
});

describe('invisible characters (review findings)', () => {
  test.each(['\u200B', '\uFEFF', '\u00AD', '\u2060', '\u{E0041}', '\u3164', '\uFFF9', '\uE000'])('U+%s in a brand is refused', (ch) => {
    expect(() => assertPlainText('brand', `Ac${ch}me`)).toThrow(/brand must not contain an invisible, private-use or unassigned character/);
  });
});
