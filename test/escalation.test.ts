/**
 * Issue 15: a receipt that says the SMS cannot get through (UNDELIV, REJECTD) moves to the next
 * channel at once, with the same code, instead of retrying the SMS first. Real dev server, the
 * SMSC simulator and its SMTP mailbox.
 */
import { accepted, codeFrom, startStack, TEST_PROFILES, type TestStack } from './helpers/stack';
import { settleFor, waitFor, waitForAny } from './helpers/wait';

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack(
    {},
    {
      OTP_PROFILES: JSON.stringify({
        ...TEST_PROFILES,
        // Retries at +20 s and +60 s: an escalation that waited for them would come a minute late.
        mailed: { extends: 'fast', fallbackChannels: ['email'], fallbackEmailDomains: ['example.com'], callerContacts: false, retrySchedule: [20, 60] },
        'mailed-late': { extends: 'mailed', escalateOnStats: [] },
      }),
    },
  );
}, 60_000);
afterAll(async () => {
  await stack?.stop();
});

test('UNDELIV: the code goes by email as soon as the receipt lands, no SMS retry; it verifies', async () => {
  const phone = '+33612870001';
  const email = 'user1@example.com';
  stack.sim.setBehaviour(phone, 'undeliverable');
  accepted(await stack.otp.send(phone, { profile: 'mailed', email }));
  await waitFor(
    () => stack.otp.status(phone),
    (st) => st?.code?.delivery === 'failed',
    'the UNDELIV receipt',
  );
  const receiptAt = Date.now();
  const [mail] = await waitForAny(() => stack.sim.mailTo(email), 'the fallback email', 15_000);
  // Long before the first staggered retry (+20 s) could have run: the escalation did not wait for it.
  expect(Date.now() - receiptAt).toBeLessThan(15_000);
  const code = codeFrom(mail.text);
  const st = await stack.otp.status(phone);
  expect(st?.code?.escalatedTo).toEqual(['email']);
  expect(st?.events.some((e) => e.type === 'retry')).toBe(false);
  expect(stack.sim.submits.filter((s) => s.to === phone)).toHaveLength(1);
  expect(await stack.otp.verify(phone, code)).toMatchObject({ valid: true, outcome: 'verified' });
}, 60_000);

test('a profile with escalateOnStats [] keeps the SMS retries first: no email at the receipt', async () => {
  const phone = '+33612870002';
  const email = 'user2@example.com';
  stack.sim.setBehaviour(phone, 'undeliverable');
  accepted(await stack.otp.send(phone, { profile: 'mailed-late', email }));
  await waitFor(
    () => stack.otp.status(phone),
    (st) => st?.code?.delivery === 'failed',
    'the UNDELIV receipt',
  );
  await settleFor(3000, 'negative check: give an at-once escalation ample time to show; none comes');
  expect(stack.sim.mailTo(email)).toHaveLength(0);
  expect((await stack.otp.status(phone))?.code?.escalatedTo).toEqual([]);
}, 60_000);

test('a delivered SMS never escalates', async () => {
  const phone = '+33612870003';
  const email = 'user3@example.com';
  accepted(await stack.otp.send(phone, { profile: 'mailed', email }));
  await waitFor(
    () => stack.otp.status(phone),
    (st) => st?.code?.delivery === 'delivered',
    'the DELIVRD receipt',
  );
  await settleFor(1000, 'negative check: give a wrong escalation after the receipt time to show');
  expect(stack.sim.mailTo(email)).toHaveLength(0);
}, 60_000);
