import { normalizeLookalikes, renderMessage } from '../../policy/message';
import { checkPhone } from '../../policy/phone';
import { PRESETS, catalogProfile, validateProfile, type OtpProfile } from '../../policy/profile';
import { ProfileStore, profileRevision } from '../../policy/store';
import { decide, type VelocityState } from '../../workflows/v1/velocity';

describe('presets', () => {
  const store = new ProfileStore();
  test('login / 2FA: 6 digits, 5 min, 5 attempts, 3 sends per 10 min', () => {
    expect(store.get('login')).toMatchObject({
      codeLength: 6,
      alphabet: 'numeric',
      ttlSeconds: 300,
      maxAttempts: 5,
      maxSendsPerWindow: 3,
      sendWindowSeconds: 600,
    });
  });
  test('transaction: needs a context line that every template carries', () => {
    const t = store.get('transaction')!;
    expect(t.requireContext).toBe(true);
    expect(Object.values(t.templates).every((x) => x.includes('{context}'))).toBe(true);
  });
  test('recovery: 8 digits, 10 min', () => {
    expect(store.get('recovery')).toMatchObject({ codeLength: 8, ttlSeconds: 600 });
  });
  test('each profile carries a revision that follows its content', () => {
    expect(store.get('login')!.revision).toMatch(/^[0-9a-f]{12}$/);
    expect(profileRevision({ ...PRESETS.login, ttlSeconds: 301 })).not.toBe(store.get('login')!.revision);
    expect(new ProfileStore().get('login')!.revision).toBe(store.get('login')!.revision);
  });
});

describe('profile validation names the field', () => {
  const bad = (patch: Partial<OtpProfile>) => () => validateProfile('p', { ...PRESETS.login, ...patch });
  test.each<[Partial<OtpProfile>, RegExp]>([
    [{ codeLength: 5 }, /codeLength must be an integer from 6 to 10 \(got 5\)/],
    [{ codeLength: 11 }, /codeLength must be an integer from 6 to 10/],
    [{ ttlSeconds: 5 }, /ttlSeconds must be an integer from 10 to 86400/],
    [{ maxAttempts: 0 }, /maxAttempts must be an integer from 1 to 20/],
    [{ alphabet: 'hex' as never }, /alphabet must be "numeric" or "alphanumeric"/],
    [{ templates: { en: 'code {code}' } }, /template "en" must contain \{brand\}/],
    [{ templates: { en: '{brand} {code} {phone}' } }, /unknown placeholder \{phone\}/],
    [{ templates: { fr: '{brand} {code}' } }, /must hold the defaultLocale "en"/],
    [{ allowedCountries: ['fr'] }, /country "fr" must be a two-letter ISO code/],
    [{ deniedNumberTypes: ['EXPENSIVE'] }, /unknown type "EXPENSIVE"/],
    [{ autofill: { iosDomain: 'example.com', androidAppHash: 'FA+9qCX9VSu' } }, /choose iosDomain or androidAppHash/],
    [{ sandbox: { numbers: ['+33600000001'], code: '12' } }, /sandbox.code must be 6 characters/],
    [{ deliveryWebhookUrl: 'ftp://example.com/otp' }, /deliveryWebhookUrl must be null or an http\(s\) URL/],
    [{ deliveryWebhookUrl: 42 as never }, /deliveryWebhookUrl must be null or an http\(s\) URL/],
  ])('%p', (patch, message) => {
    expect(bad(patch)).toThrow(message);
  });
});

describe('profile store', () => {
  test('extends a preset and records its own revision', () => {
    const store = new ProfileStore({ shop: { extends: 'recovery', brand: 'Shop', velocity: { shadow: true } } });
    expect(store.get('shop')).toMatchObject({ name: 'shop', codeLength: 8, brand: 'Shop', velocity: { shadow: true, prefixDigits: 6 } });
    expect(store.get('shop')!.revision).not.toBe(store.get('recovery')!.revision);
  });
  test('deliveryWebhookUrl defaults to null and, unset, leaves a profile’s revision as it was before the field existed', () => {
    const store = new ProfileStore({ hooked: { extends: 'login', deliveryWebhookUrl: 'https://hooks.example.com/otp' } });
    expect(PRESETS.login.deliveryWebhookUrl).toBeNull();
    // Revisions of the presets as released before deliveryWebhookUrl: a send records the same login@<rev>.
    expect(['login', 'transaction', 'recovery'].map((n) => store.get(n)!.revision)).toEqual(['f96d5f5c4260', '1df96c576969', '02e160f1f6d4']);
    expect(store.get('hooked')!.revision).not.toBe(store.get('login')!.revision);
  });
  test('the catalog view of a profile: TTL in words, channels it allows, no URL', () => {
    const store = new ProfileStore({
      long: { extends: 'recovery', ttlSeconds: 7200, allowCustomChannel: true, deliveryWebhookUrl: 'https://hooks.example.com/x' },
    });
    const view = catalogProfile(store.get('long')!);
    expect(view).toMatchObject({ description: 'recovery: 8-digit code, valid 2 h', channels: ['sms', 'custom', 'webhook'], hasDeliveryWebhook: true });
    expect(JSON.stringify(view)).not.toContain('hooks.example.com');
    expect(catalogProfile({ ...store.get('long')!, ttlSeconds: 5400 }).description).toBe('recovery: 8-digit code, valid 90 min');
  });
  test('overriding a preset by name keeps its other fields', () => {
    expect(new ProfileStore({ login: { ttlSeconds: 60 } }).get('login')).toMatchObject({ ttlSeconds: 60, codeLength: 6 });
  });
  test('profiles may extend profiles defined in the same file, in any order', () => {
    const store = new ProfileStore({ b: { extends: 'a', maxAttempts: 2 }, a: { extends: 'login', codeLength: 7, sandbox: { code: '0000000' } } });
    expect(store.get('b')).toMatchObject({ codeLength: 7, maxAttempts: 2 });
  });
  test.each<[Record<string, Record<string, never>>, RegExp]>([
    [{ x: { ttl: 5 } as never }, /profile "x": unknown field "ttl"/],
    [{ x: { extends: 'nope' } as never }, /extends unknown profile "nope"/],
    [{ a: { extends: 'b' } as never, b: { extends: 'a' } as never }, /extend each other in a cycle/],
  ])('refuses %p', (profiles, message) => {
    expect(() => new ProfileStore(profiles)).toThrow(message);
  });
  test('reads OTP_PROFILES and names the source of a JSON error', () => {
    expect(ProfileStore.fromEnv({ OTP_PROFILES: '{"x":{"maxAttempts":2}}' }).get('x')?.maxAttempts).toBe(2);
    expect(() => ProfileStore.fromEnv({ OTP_PROFILES: '{' })).toThrow(/OTP_PROFILES is not valid JSON/);
  });
});

describe('message rendering', () => {
  const base = {
    template: PRESETS.login.templates.en,
    code: '123456',
    brand: 'Acme',
    ttlSeconds: 300,
    autofill: { iosDomain: null, androidAppHash: null },
    normalize: true,
    maxSegments: 2,
  };
  test('fills every placeholder and names the brand', () => {
    expect(renderMessage(base)).toEqual({
      text: 'Acme: your verification code is 123456. It expires in 5 min. Never share it.',
      encoding: 'GSM7',
      segments: 1,
    });
  });
  test('iOS domain-bound autofill goes on the last line', () => {
    const r = renderMessage({ ...base, autofill: { iosDomain: 'example.com', androidAppHash: null } });
    expect(r.text.split('\n').pop()).toBe('@example.com #123456');
  });
  test('the Android SMS Retriever hash ends the message', () => {
    expect(renderMessage({ ...base, autofill: { iosDomain: null, androidAppHash: 'FA+9qCX9VSu' } }).text.endsWith('\nFA+9qCX9VSu')).toBe(true);
  });
  test('look-alike characters are normalised so the text stays GSM-7', () => {
    expect(normalizeLookalikes('Alice’s “gift” — 5\u00a0€…')).toBe('Alice\'s "gift" - 5 €...');
    const ctx = { ...base, template: '{brand}: {context}. Code {code}', context: 'Confirm Alice’s transfer' };
    expect(renderMessage(ctx).encoding).toBe('GSM7');
    expect(renderMessage({ ...ctx, normalize: false }).encoding).toBe('UCS2');
  });
  test('a text over the segment budget is refused with its count', () => {
    expect(() => renderMessage({ ...base, template: `{brand} {code} ${'x'.repeat(200)}`, maxSegments: 1 })).toThrow(
      /needs 2 GSM7 segments, over the budget of 1/,
    );
  });
  test('caller text without the brand is refused', () => {
    expect(() => renderMessage({ ...base, template: 'code {code}' })).toThrow(/must name the brand "Acme"/);
    expect(renderMessage({ ...base, template: 'Acme code {code}' }).text).toBe('Acme code 123456');
  });
});

describe('phone policy', () => {
  const p = PRESETS.login;
  test('premium-rate and shared-cost numbers are refused by default', () => {
    expect(checkPhone('+33899123456', p)).toEqual({ ok: false, status: 'blocked', reason: 'number_type_denied:PREMIUM_RATE' });
    expect(checkPhone('+33810123456', p)).toEqual({ ok: false, status: 'blocked', reason: 'number_type_denied:SHARED_COST' });
    expect(checkPhone('+33612345678', p)).toMatchObject({ ok: true, country: 'FR', type: 'MOBILE', prefix: '+336123' });
    // No country: international freephone and premium rate, satellite and international networks.
    for (const nonGeographic of ['+80012345678', '+979123456789'])
      expect(checkPhone(nonGeographic, p)).toEqual({ ok: false, status: 'blocked', reason: 'non_geographic_number' });
  });
  test('allow and deny lists', () => {
    expect(checkPhone('+79161234567', { ...p, deniedCountries: ['RU'] })).toMatchObject({ status: 'blocked', reason: 'country_denied:RU' });
    expect(checkPhone('+447400123456', { ...p, allowedCountries: ['FR'] })).toMatchObject({ status: 'blocked', reason: 'country_not_allowed:GB' });
  });
  test('an invalid number is invalid_number, not blocked', () => {
    expect(checkPhone('+3361', p)).toMatchObject({ ok: false, status: 'invalid_number' });
  });
});

describe('velocity decisions', () => {
  const req = { country: 'FR', prefix: '+336123', tenantSendsPerMinute: 2, perCountryPerHour: null, perPrefixPerHour: null, shadow: false };
  test('tenant rate: the third send in a minute waits until the first leaves the window', () => {
    const s: VelocityState = { windows: {} };
    expect(decide(s, req, 0).allowed).toBe(true);
    expect(decide(s, req, 10_000).allowed).toBe(true);
    expect(decide(s, req, 20_000)).toEqual({ allowed: false, status: 'rate_limited', reason: 'tenant_rate', retryAfterSeconds: 40, shadowFlags: [] });
    expect(decide(s, req, 60_001).allowed).toBe(true);
  });
  test('per-prefix and per-country limits block, or only report in shadow mode', () => {
    const s: VelocityState = { windows: {} };
    const r = { ...req, tenantSendsPerMinute: 0, perPrefixPerHour: 1, perCountryPerHour: 5 };
    expect(decide(s, r, 0).allowed).toBe(true);
    expect(decide(s, r, 1000)).toMatchObject({ allowed: false, status: 'blocked', reason: 'velocity_prefix:+336123' });
    expect(decide(s, { ...r, shadow: true }, 2000)).toEqual({ allowed: true, shadowFlags: ['velocity_prefix:+336123'] });
    expect(decide(s, { ...r, prefix: '+336999' }, 3000).allowed).toBe(true);
  });
});

test('the policy table of docs/policy-profiles.md lists every profile field', () => {
  const readme = require('node:fs').readFileSync(require('node:path').join(__dirname, '..', '..', 'docs', 'policy-profiles.md'), 'utf8') as string;
  const fields = Object.entries(PRESETS.login).flatMap(([k, v]) =>
    v && typeof v === 'object' && !Array.isArray(v) && k !== 'templates' ? Object.keys(v).map((sub) => `${k}.${sub}`) : [k],
  );
  for (const f of fields) expect(readme).toContain(`| \`${f}\` |`);
});
