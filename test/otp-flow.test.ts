/**
 * The whole OTP path against a real Temporal dev server and the SMSC
 * simulator over real SMPP: send -> SMS on the handset -> verify.
 */
import { accepted, startStack, codeFrom, type TestStack } from './helpers/stack';
import { waitFor } from './helpers/wait';

const PHONE = '+33612345678';
let stack: TestStack;

beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

test('send puts the code on the handset; verify accepts it once', async () => {
  const sent = accepted(await stack.otp.send(PHONE));
  expect(sent).toMatchObject({
    status: 'sent',
    channel: 'sms',
    segments: 1,
    encoding: 'GSM7',
    maskedPhone: '+33••••••678',
    codeSeq: 1,
    sameCode: false,
    locale: 'en',
  });
  expect(sent.profile).toMatch(/^login@[0-9a-f]{12}$/);
  expect(sent.sessionId).not.toContain('612345678');

  const [sms] = await stack.waitForSms(PHONE);
  expect(sms.from).toBe('OTPDemo');
  expect(sms.dataCoding).toBe(0);
  expect(sms.text).toContain('Acme');
  expect(sms.text).not.toContain('612345678');
  const code = codeFrom(sms.text);
  expect(code).toMatch(/^\d{6}$/);

  const ok = await stack.otp.verify(PHONE, code);
  expect(ok).toEqual({ sessionId: sent.sessionId, valid: true, outcome: 'verified', attemptsRemaining: 5 });

  const again = await stack.otp.verify(PHONE, code);
  expect(again.valid).toBe(false);
  expect(again.outcome).toBe('already_verified');
});

test('the delivery receipt reaches the session through its mailbox', async () => {
  const phone = '+33612340001';
  const sent = accepted(await stack.otp.send(phone));
  await stack.waitForSms(phone);
  const status = await waitFor(
    () => stack.otp.status(phone),
    (s) => s?.code?.delivery === 'delivered',
    'delivered',
  );
  expect(status?.code).toMatchObject({ seq: 1, state: 'active', delivery: 'delivered', deliveryStat: 'DELIVRD', messageId: sent.messageId });
  expect(status?.events.map((e) => e.type)).toEqual(['sent', 'receipt']);
});

test('an undeliverable number ends with a failed delivery and no SMS on the handset', async () => {
  const phone = '+33612340002';
  stack.sim.setBehaviour(phone, 'undeliverable');
  await stack.otp.send(phone);
  const status = await waitFor(
    () => stack.otp.status(phone),
    (s) => s?.code?.delivery === 'failed',
    'failed',
  );
  expect(status?.code?.deliveryStat).toBe('UNDELIV');
  expect(stack.sim.messages(phone)).toHaveLength(0);
});

test('a wrong code counts down attempts, then the session locks even for the right code', async () => {
  const phone = '+33612340003';
  await stack.otp.send(phone, { profile: 'fast-lock3' });
  const code = codeFrom((await stack.waitForSms(phone))[0].text);
  const wrong = code === '000000' ? '111111' : '000000';
  expect(await stack.otp.verify(phone, wrong)).toMatchObject({ valid: false, outcome: 'invalid_code', attemptsRemaining: 2 });
  expect(await stack.otp.verify(phone, wrong)).toMatchObject({ valid: false, outcome: 'invalid_code', attemptsRemaining: 1 });
  expect(await stack.otp.verify(phone, wrong)).toMatchObject({ valid: false, outcome: 'invalid_code', attemptsRemaining: 0 });
  expect(await stack.otp.verify(phone, code)).toMatchObject({ valid: false, outcome: 'locked', attemptsRemaining: 0 });
});

test('a new send replaces the previous code', async () => {
  const phone = '+33612340004';
  await stack.otp.send(phone, { profile: 'fast' });
  const first = codeFrom((await stack.waitForSms(phone, 1))[0].text);
  const second = accepted(await stack.otp.send(phone, { profile: 'fast' }));
  expect(second.codeSeq).toBe(2);
  const code2 = codeFrom((await stack.waitForSms(phone, 2))[1].text);
  expect(code2).not.toBe(first);
  expect(await stack.otp.verify(phone, code2)).toMatchObject({ valid: true, outcome: 'verified' });
});

test('verify without a session answers not_found', async () => {
  expect(await stack.otp.verify('+33612340005', '123456')).toMatchObject({ valid: false, outcome: 'not_found', attemptsRemaining: 0 });
  expect(await stack.otp.status('+33612340005')).toBeNull();
});

// Idempotency keys: test/lifecycle.test.ts ("idempotency").

test('bad input is refused with a reason that names the problem, and nothing is sent', async () => {
  expect(await stack.otp.send('+33 1')).toEqual({ status: 'invalid_number', reason: 'too_short' });
  expect(await stack.otp.send('+33 9 99 99 99 99 99')).toEqual({ status: 'invalid_number', reason: 'not_a_valid_number' });
  await expect(stack.otp.send('+33612340007', { profile: 'nope' })).rejects.toThrow(/unknown profile "nope" \(known: login, transaction, recovery/);
  expect(stack.sim.messages('+33612340007')).toHaveLength(0);
});

test('SMSC throttling backs off and the code still goes out once throttling stops', async () => {
  const phone = '+33612340008';
  stack.sim.setBehaviour(phone, 'throttle');
  const sending = stack.otp.send(phone);
  await waitFor(
    () => stack.sim.submits.filter((x) => x.to === phone && x.status === 0x58).length,
    (n) => n > 1,
    'two throttled submits',
  );
  stack.sim.setBehaviour(phone, 'deliver');
  const sent = accepted(await sending);
  expect(sent.codeSeq).toBe(1);
  expect(await stack.waitForSms(phone)).toHaveLength(1);
  const throttled = stack.sim.submits.filter((s) => s.to === phone && s.status === 0x58).length;
  expect(throttled).toBeGreaterThan(1);
});

test('a permanent SMSC refusal fails the send at once, naming the status', async () => {
  const phone = '+33612340010';
  stack.sim.setBehaviour(phone, 'refuse');
  await expect(stack.otp.send(phone)).rejects.toThrow('SMS dispatch failed: submit_sm refused by SMSC with ESME_RINVDSTADR');
  expect(stack.sim.submits.filter((s) => s.to === phone)).toHaveLength(1);
});

test('a code length of 8 sends 8 digits', async () => {
  const phone = '+33612340009';
  await stack.otp.send(phone, { profile: 'fast-len8' });
  const code = codeFrom((await stack.waitForSms(phone))[0].text);
  expect(code).toMatch(/^\d{8}$/);
  expect((await stack.otp.verify(phone, code)).outcome).toBe('verified');
});
