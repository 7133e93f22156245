/**
 * Message content as the handset receives it: locales, presets, autofill,
 * encodings and segments, look-alikes, the segment budget, and caller-supplied
 * codes and texts (trigger mode).
 */
import { OtpRequestError } from '../client';
import { accepted, codeFrom, startStack, TEST_PROFILES, type TestStack } from './helpers/stack';
import { settleFor } from './helpers/wait';

let stack: TestStack;
let n = 0;
/** A fresh number per send, so resend rules never interfere. */
const phone = () => `+3361250${String(1000 + n++).padStart(4, '0')}`;

beforeAll(async () => {
  stack = await startStack(
    {},
    {
      OTP_PROFILES: JSON.stringify({
        ...TEST_PROFILES,
        ios: { extends: 'fast', autofill: { iosDomain: 'example.com' } },
        android: { extends: 'fast', autofill: { androidAppHash: 'FA+9qCX9VSu' } },
        raw: { extends: 'fast', normalizeLookalikes: false },
        tight: { extends: 'transaction', maxSegments: 1 },
        trigger: { extends: 'fast', allowCallerCode: true },
        'no-caller-text': { extends: 'fast', allowCallerMessage: false },
        alnum: { extends: 'fast', alphabet: 'alphanumeric', codeLength: 6, sandbox: { code: 'ACDEFG' } },
        'shop-brand': { extends: 'fast', brand: 'Shop', senderId: 'ShopOTP' },
      }),
    },
  );
});
afterAll(async () => {
  await stack?.stop();
});

async function sendAndRead(options: Parameters<TestStack['otp']['send']>[1]) {
  const to = phone();
  const sent = accepted(await stack.otp.send(to, options));
  const [sms] = await stack.waitForSms(to);
  return { to, sent, sms };
}

test('every SMS names the brand and never the phone number', async () => {
  const { to, sms } = await sendAndRead({});
  expect(sms.text).toContain('Acme');
  expect(sms.text).not.toContain(to.slice(1));
  expect(sms.text).not.toContain(to.slice(-6));
  const shop = await sendAndRead({ profile: 'shop-brand' });
  expect(shop.sms.text.startsWith('Shop: ')).toBe(true);
  expect(shop.sms.from).toBe('ShopOTP');
});

test('templates per locale: the exact tag, else its base language; no locale is the default', async () => {
  const fr = await sendAndRead({ locale: 'fr' });
  expect(fr.sms.text).toMatch(/^Acme : votre code de vérification est \d{6}\. Il expire dans 5 min\./);
  expect(fr.sent).toMatchObject({ locale: 'fr', encoding: 'GSM7' });
  expect((await sendAndRead({ locale: 'fr-CA' })).sent.locale).toBe('fr');
  expect((await sendAndRead({})).sent.locale).toBe('en');
});

test('a locale the profile has no template for is an invalid request naming it, and nothing is sent', async () => {
  const to = phone();
  const err = await stack.otp.send(to, { locale: 'de' }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(OtpRequestError);
  expect(err).toMatchObject({ type: 'InvalidRequest', message: 'unknown locale "de" for profile "login" (known: en, fr, ru)' });
  await expect(stack.otp.send(to, { profile: 'transaction', context: 'Pay €5 to Bob', locale: 'ru-RU' })).rejects.toThrow(
    'unknown locale "ru-RU" for profile "transaction" (known: en, fr)',
  );
  await settleFor(200, 'negative check: give a wrong SMS time to show');
  expect(stack.sim.messages(to)).toHaveLength(0);
});

test('a UCS-2 locale is sent with data_coding 8 and its segment count is reported', async () => {
  const ru = await sendAndRead({ locale: 'ru' });
  expect(ru.sent).toMatchObject({ encoding: 'UCS2', segments: 1 });
  expect(ru.sms).toMatchObject({ dataCoding: 8, segments: 1 });
  expect(ru.sms.text).toMatch(/^Acme: код \d{6}\. Действует 5 мин\./);
  // A longer UCS-2 text is concatenated, and the count says so.
  const long = await sendAndRead({
    profile: 'fast',
    locale: 'ru',
    messageText: '{brand}: ваш одноразовый код подтверждения {code}. Он действует {ttlMinutes} минут. Никому его не сообщайте.',
  });
  expect(long.sent).toMatchObject({ encoding: 'UCS2', segments: 2 });
  expect(long.sms).toMatchObject({ dataCoding: 8, segments: 2 });
});

test('transaction preset: the context line is required and shown', async () => {
  await expect(stack.otp.send(phone(), { profile: 'transaction' })).rejects.toThrow(/profile "transaction" needs a context line/);
  const { sms } = await sendAndRead({ profile: 'transaction', context: 'Confirm transfer of €500 to Alice' });
  expect(sms.text).toMatch(/^Acme: Confirm transfer of €500 to Alice\. Your confirmation code is \d{6}\./);
});

test('recovery preset: 8 digits, valid 10 minutes', async () => {
  const { sent, sms } = await sendAndRead({ profile: 'recovery' });
  expect(codeFrom(sms.text)).toMatch(/^\d{8}$/);
  expect(sms.text).toContain('expires in 10 min');
  expect(Date.parse(sent.expiresAt) - Date.now()).toBeGreaterThan(590_000);
});

test('iOS domain-bound autofill and the Android app hash', async () => {
  const ios = await sendAndRead({ profile: 'ios' });
  const lastLine = ios.sms.text.split('\n').pop()!;
  expect(lastLine).toMatch(/^@example\.com #\d{6}$/);
  expect(await stack.otp.verify(ios.to, lastLine.split('#')[1])).toMatchObject({ valid: true });
  const android = await sendAndRead({ profile: 'android' });
  expect(android.sms.text.endsWith('\nFA+9qCX9VSu')).toBe(true);
});

test('look-alike characters are normalised so a context stays GSM-7; without normalisation it costs UCS-2', async () => {
  const ctx = { context: 'Alice’s “gift” — 5\u00a0€' };
  const normal = await sendAndRead({ profile: 'transaction', ...ctx });
  expect(normal.sent.encoding).toBe('GSM7');
  expect(normal.sms.text).toContain('Alice\'s "gift" - 5 €');
  const raw = await sendAndRead({ messageText: '{brand} {context} {code}', profile: 'raw', ...ctx });
  expect(raw.sent.encoding).toBe('UCS2');
  expect(raw.sms.dataCoding).toBe(8);
});

test('a rendered message over the segment budget is refused and nothing is sent', async () => {
  const to = phone();
  await expect(stack.otp.send(to, { profile: 'tight', context: `Confirm ${'a very long description '.repeat(5)}` })).rejects.toThrow(
    /needs 2 GSM7 segments, over the budget of 1/,
  );
  await settleFor(150, 'negative check: give a wrong SMS time to show');
  expect(stack.sim.messages(to)).toHaveLength(0);
});

test('alphanumeric codes avoid ambiguous characters and verify case-insensitively', async () => {
  const { to, sms } = await sendAndRead({ profile: 'alnum' });
  const code = /code is ([A-Z0-9]{6})/.exec(sms.text)![1];
  expect(code).toMatch(/^[34679ACDEFGHJKMNPQRTUVWXY]{6}$/);
  expect(await stack.otp.verify(to, code.toLowerCase())).toMatchObject({ valid: true });
});

describe('caller-supplied content (trigger mode)', () => {
  test('a caller code is sent as given and verifies', async () => {
    const { to, sms } = await sendAndRead({ profile: 'trigger', code: '482913' });
    expect(sms.text).toContain('482913');
    expect(await stack.otp.verify(to, '482913')).toMatchObject({ valid: true });
  });

  test('a caller code is refused when the profile forbids it, or outside the alphabet', async () => {
    await expect(stack.otp.send(phone(), { code: '482913' })).rejects.toThrow(/profile "login" does not allow caller-supplied codes/);
    await expect(stack.otp.send(phone(), { profile: 'trigger', code: '48A9' })).rejects.toThrow(OtpRequestError);
    await expect(stack.otp.send(phone(), { profile: 'trigger', code: '12345' })).rejects.toThrow(/code must be 6–10 characters of the numeric alphabet/);
  });

  test('a caller message with {code} goes out after the same checks', async () => {
    const { to, sms } = await sendAndRead({ profile: 'fast', messageText: 'Acme login: {code} (valid {ttlMinutes} min)' });
    expect(sms.text).toMatch(/^Acme login: \d{6} \(valid 5 min\)$/);
    expect(await stack.otp.verify(to, codeFrom(`code is ${/\d{6}/.exec(sms.text)![0]}`))).toMatchObject({ valid: true });
  });

  test.each([
    [{ profile: 'fast', messageText: 'Acme login' }, /messageText must contain the \{code\} placeholder/],
    [{ profile: 'fast', messageText: 'Your code: {code}' }, /message text must name the brand "Acme"/],
    [{ profile: 'fast', messageText: 'Use {code} AcmeCorp' }, /message text must name the brand "Acme" as a word of its own/],
    [
      { profile: 'fast', messageText: '{context} {code}', context: 'Acme' },
      /message text must name the brand "Acme" as a word of its own, outside \{context\}/,
    ],
    [{ profile: 'fast', messageText: '{brand} {code} for {phone}' }, /messageText may use only \{code\}/],
    [{ messageText: '{brand} {code}' }, /profile "login" does not allow caller message text/],
    [{ messageText: '{brand} {code}', profile: 'no-caller-text' }, /profile "no-caller-text" does not allow caller message text/],
  ])('%p is refused', async (options, message) => {
    const to = phone();
    await expect(stack.otp.send(to, options)).rejects.toThrow(message);
    expect(stack.sim.messages(to)).toHaveLength(0);
  });
});
