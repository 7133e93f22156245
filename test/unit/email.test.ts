/** Issue 14: one email check for a caller's fallback email, OTP_EMAIL_FROM and fallbackEmailDomains. */
import { DOMAIN_PATTERN, emailDomain, isEmailAddress } from '../../policy/email';
import { ConfigError, loadConfig } from '../../config/config';

test.each(['user@example.com', 'first.last+otp@mail.example.co.uk'])('%s is an address', (a) => expect(isEmailAddress(a)).toBe(true));

test.each([
  '',
  'user',
  'user@',
  '@example.com',
  'user@localhost',
  'a@b.c, d@e.f',
  'a@b.c;d@e.f',
  'Name <a@b.c>',
  'a b@c.d',
  '"a"@b.c',
  `${'a'.repeat(250)}@b.cd`,
])('%j is not one address', (a) => {
  expect(isEmailAddress(a)).toBe(false);
});

test('a From address may be local; the same refusals otherwise', () => {
  expect(isEmailAddress('otp@localhost', { local: true })).toBe(true);
  expect(isEmailAddress('a@b.c, d@e.f', { local: true })).toBe(false);
  const env = { TEMPORAL_ADDRESS: '127.0.0.1:7233' };
  expect(loadConfig({ ...env, OTP_EMAIL_FROM: 'otp@localhost' }, 'worker')).toBeDefined();
  expect(() => loadConfig({ ...env, OTP_EMAIL_FROM: 'otp@example.com, boss@example.com' }, 'worker')).toThrow(ConfigError);
});

test('domains, as profiles list them and as an address names them', () => {
  expect(emailDomain('User@Example.COM')).toBe('example.com');
  expect(DOMAIN_PATTERN.test('example.com')).toBe(true);
  expect(DOMAIN_PATTERN.test('Example.com')).toBe(false);
  expect(DOMAIN_PATTERN.test('localhost')).toBe(false);
});
