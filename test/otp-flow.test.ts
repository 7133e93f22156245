/**
 * The whole OTP path against a real Temporal dev server and the SMSC
 * simulator over real SMPP: send -> SMS on the handset -> verify.
 */
import { startStack, codeFrom, type TestStack } from './helpers/stack';

const PHONE = '+33612345678';
let stack: TestStack;

beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

test('send puts the code on the handset; verify accepts it once', async () => {
  const sent = await stack.otp.send(PHONE);
  expect(sent).toMatchObject({ status: 'sent', channel: 'sms', segments: 1, encoding: 'GSM7', maskedPhone: '+33••••••678', codeSeq: 1 });
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
