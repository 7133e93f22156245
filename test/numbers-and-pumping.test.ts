/**
 * Phone number policy, SMS pumping protection and sandbox numbers, against
 * the real dev server and the simulator. Every refusal carries a typed reason,
 * shows in the session's status (what the Web UI's query shows), and sends nothing.
 */
import { OtpClient } from '../client';
import { accepted, codeFrom, startStack, TEST_PROFILES, type TestStack } from './helpers/stack';
import { settleFor } from './helpers/wait';

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack(
    {},
    {
      OTP_PROFILES: JSON.stringify({
        ...TEST_PROFILES,
        'no-ru': { extends: 'fast', deniedCountries: ['RU'] },
        'fr-only': { extends: 'fast', allowedCountries: ['FR'] },
        pump: { extends: 'fast', velocity: { perPrefixPerHour: 2 } },
        'pump-country': { extends: 'fast', velocity: { perCountryPerHour: 1 } },
        'pump-shadow': { extends: 'fast', velocity: { perPrefixPerHour: 1, shadow: true } },
        tenant2: { extends: 'fast', tenantSendsPerMinute: 2 },
        sbx: { extends: 'fast', sandbox: { numbers: ['+33600000001'], code: '424242' } },
      }),
    },
  );
});
afterAll(async () => {
  await stack?.stop();
});

const nothingSentTo = async (phone: string) => {
  await settleFor(150, 'negative check: give a wrong SMS time to show');
  expect(stack.sim.messages(phone)).toHaveLength(0);
};

test('a national number is read in the default region and normalised to E.164', async () => {
  const fr = new OtpClient({
    client: stack.otp.temporal,
    taskQueue: stack.config.temporal.taskQueue,
    hashKey: stack.config.keys.hash[0],
    sealPublicKey: stack.config.keys.sealPublic,
    tenant: stack.config.tenant,
    defaultRegion: 'FR',
  });
  const sent = accepted(await fr.send('06 12 36 00 01'));
  expect(sent.maskedPhone).toBe('+33••••••001');
  expect(await stack.waitForSms('+33612360001')).toHaveLength(1);
  expect(fr.sessionId('06 12 36 00 01')).toBe(stack.otp.sessionId('+33 6 12 36 00 01'));
});

test('without a default region a national number is invalid_number', async () => {
  expect(await stack.otp.send('06 12 36 00 02')).toEqual({ status: 'invalid_number', reason: 'invalid_country' });
});

test.each([
  ['+33899123456', 'number_type_denied:PREMIUM_RATE'],
  ['+33810123456', 'number_type_denied:SHARED_COST'],
])('%s is blocked by default (%s)', async (phone, reason) => {
  const r = await stack.otp.send(phone);
  expect(r).toMatchObject({ status: 'blocked', reason, maskedPhone: expect.stringMatching(/^\+33•+\d{3}$/) });
  await nothingSentTo(phone);
  const status = await stack.otp.status(phone);
  expect(status?.events).toEqual([expect.objectContaining({ type: 'refused', detail: `blocked: ${reason}` })]);
});

test('country deny and allow lists', async () => {
  expect(await stack.otp.send('+79161234567', { profile: 'no-ru' })).toMatchObject({ status: 'blocked', reason: 'country_denied:RU' });
  expect(await stack.otp.send('+447400123456', { profile: 'fr-only' })).toMatchObject({ status: 'blocked', reason: 'country_not_allowed:GB' });
  accepted(await stack.otp.send('+33612360003', { profile: 'fr-only' }));
  await nothingSentTo('+79161234567');
  await nothingSentTo('+447400123456');
});

test('a per-prefix velocity limit blocks the third number in a prefix', async () => {
  const tenant = 'pumpprefix';
  accepted(await stack.otp.send('+33612370001', { profile: 'pump', tenant }));
  accepted(await stack.otp.send('+33612370002', { profile: 'pump', tenant }));
  expect(await stack.otp.send('+33612370003', { profile: 'pump', tenant })).toMatchObject({ status: 'blocked', reason: 'velocity_prefix:+336123' });
  accepted(await stack.otp.send('+33698370004', { profile: 'pump', tenant })); // another prefix
  await nothingSentTo('+33612370003');
});

test('a per-country velocity limit blocks the second number in the country', async () => {
  const tenant = 'pumpcountry';
  accepted(await stack.otp.send('+33612380001', { profile: 'pump-country', tenant }));
  expect(await stack.otp.send('+33756380002', { profile: 'pump-country', tenant })).toMatchObject({ status: 'blocked', reason: 'velocity_country:FR' });
  accepted(await stack.otp.send('+447400123457', { profile: 'pump-country', tenant }));
});

test('shadow mode reports what it would block, and blocks nothing', async () => {
  const tenant = 'pumpshadow';
  accepted(await stack.otp.send('+33612390001', { profile: 'pump-shadow', tenant }));
  const second = accepted(await stack.otp.send('+33612390002', { profile: 'pump-shadow', tenant }));
  expect(second.shadowFlags).toEqual(['velocity_prefix:+336123']);
  expect(await stack.waitForSms('+33612390002')).toHaveLength(1);
  const status = await stack.otp.status('+33612390002', { tenant });
  expect(status?.events.some((e) => e.type === 'shadow' && e.detail.includes('velocity_prefix:+336123'))).toBe(true);
});

test('the per-tenant send rate limits the tenant, not its neighbours', async () => {
  accepted(await stack.otp.send('+33612400001', { profile: 'tenant2', tenant: 'small' }));
  accepted(await stack.otp.send('+33612400002', { profile: 'tenant2', tenant: 'small' }));
  const third = await stack.otp.send('+33612400003', { profile: 'tenant2', tenant: 'small' });
  expect(third).toMatchObject({ status: 'rate_limited', reason: 'tenant_rate' });
  expect(third.status === 'rate_limited' && third.retryAfterSeconds).toBeGreaterThan(50);
  accepted(await stack.otp.send('+33612400003', { profile: 'tenant2', tenant: 'other' }));
});

test('sandbox numbers take the fixed code and are never dispatched', async () => {
  const sent = accepted(await stack.otp.send('+33600000001', { profile: 'sbx' }));
  expect(sent.channel).toBe('sandbox');
  expect(sent.messageId).toBeUndefined();
  await nothingSentTo('+33600000001');
  expect(stack.sim.submits.filter((s) => s.to === '+33600000001')).toHaveLength(0);
  expect(await stack.otp.verify('+33600000001', '000000')).toMatchObject({ valid: false, outcome: 'invalid_code' });
  expect(await stack.otp.verify('+33600000001', '424242')).toMatchObject({ valid: true, outcome: 'verified' });
  // Other numbers under the same profile are real sends.
  const real = accepted(await stack.otp.send('+33612400009', { profile: 'sbx' }));
  expect(real.channel).toBe('sms');
  expect(codeFrom((await stack.waitForSms('+33612400009'))[0].text)).toMatch(/^\d{6}$/);
});
