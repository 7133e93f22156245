/**
 * Session lifecycle against the real dev server and the SMSC simulator:
 * idempotency, resend rules, the grace window, same-code re-delivery,
 * parallel verification and the public response mode.
 */
import { OtpClient, type CustomSendResult } from '../client';
import { accepted, codeFrom, startStack, TEST_PROFILES, type TestStack } from './helpers/stack';
import { settleFor, waitFor } from './helpers/wait';

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack(
    {},
    {
      OTP_PROFILES: JSON.stringify({
        ...TEST_PROFILES,
        limit3: { resendCooldownSeconds: 0, maxSendsPerWindow: 3, sendWindowSeconds: 600 },
        'fast-grace1': { extends: 'fast', previousCodeGraceSeconds: 1 },
      }),
    },
  );
});
afterAll(async () => {
  await stack?.stop();
});

describe('idempotency', () => {
  test('the same key returns the same session and result, with no new SMS and no new code', async () => {
    const phone = '+33612350001';
    const a = accepted(await stack.otp.send(phone, { idempotencyKey: 'req-1' }));
    const b = await stack.otp.send(phone, { idempotencyKey: 'req-1' });
    expect(b).toEqual(a);
    await stack.waitForSms(phone);
    await settleFor(200, 'negative check: give a second SMS time to show');
    expect(stack.sim.messages(phone)).toHaveLength(1);
    expect((await stack.otp.status(phone))?.code?.seq).toBe(1);
  });

  test('a concurrent double click produces one send', async () => {
    const phone = '+33612350002';
    const clicks = await Promise.all([stack.otp.send(phone), stack.otp.send(phone), stack.otp.send(phone)]);
    const sent = clicks.map(accepted);
    expect(new Set(sent.map((s) => s.codeSeq))).toEqual(new Set([1]));
    await settleFor(300, 'negative check: give a second SMS time to show');
    expect(stack.sim.messages(phone)).toHaveLength(1);
  });
});

describe('resend rules', () => {
  test('a resend within the cooldown is refused with retryAfter, and sends nothing', async () => {
    const phone = '+33612350003';
    const first = accepted(await stack.otp.send(phone)); // login preset: 30 s cooldown
    expect(await stack.otp.send(phone)).toEqual(first); // within 2 s: the same click twice
    await settleFor(2100, 'the rule under test: past the 2 s same-click window');
    const again = await stack.otp.send(phone);
    expect(again).toMatchObject({ status: 'rate_limited', reason: 'resend_cooldown' });
    expect(again.status === 'rate_limited' && again.retryAfterSeconds).toBeGreaterThanOrEqual(27);
    expect(again.status === 'rate_limited' && Date.parse(again.retryAt!)).toBeGreaterThan(Date.now() + 24_000);
    await settleFor(200, 'negative check: give an SMS for the refused resend time to show');
    expect(stack.sim.messages(phone)).toHaveLength(1);
    const status = await stack.otp.status(phone);
    expect(status?.events.some((e) => e.type === 'refused' && e.detail.includes('resend_cooldown'))).toBe(true);
  });

  test('past the limit a send is rate_limited, with the time sending is allowed again', async () => {
    const phone = '+33612350004';
    const first = accepted(await stack.otp.send(phone, { profile: 'limit3' }));
    accepted(await stack.otp.send(phone, { profile: 'limit3' }));
    accepted(await stack.otp.send(phone, { profile: 'limit3' }));
    const fourth = await stack.otp.send(phone, { profile: 'limit3' });
    expect(fourth).toMatchObject({ status: 'rate_limited', reason: 'too_many_sends' });
    if (fourth.status !== 'rate_limited') throw new Error('unreachable');
    const issuedAt = Date.parse(first.expiresAt) - 300_000;
    expect(Math.abs(Date.parse(fourth.retryAt!) - (issuedAt + 600_000))).toBeLessThan(1000);
    expect(fourth.retryAfterSeconds).toBeGreaterThan(590);
    expect(stack.sim.messages(phone)).toHaveLength(3);
    expect((await stack.otp.status(phone))?.sendsInWindow).toBe(3);
  });

  test('a resend with a new code keeps the previous code valid for the grace window only', async () => {
    const phone = '+33612350005';
    await stack.otp.send(phone, { profile: 'fast' });
    const old = codeFrom((await stack.waitForSms(phone, 1))[0].text);
    await stack.otp.send(phone, { profile: 'fast' }); // default grace: 10 s
    await stack.waitForSms(phone, 2);
    expect(await stack.otp.verify(phone, old)).toMatchObject({ valid: true, outcome: 'verified' });

    const phone2 = '+33612350006';
    await stack.otp.send(phone2, { profile: 'fast-grace1' });
    const old2 = codeFrom((await stack.waitForSms(phone2, 1))[0].text);
    await stack.otp.send(phone2, { profile: 'fast-grace1' });
    const new2 = codeFrom((await stack.waitForSms(phone2, 2))[1].text);
    await settleFor(1500, 'the rule under test: past the 1 s grace window');
    expect(await stack.otp.verify(phone2, old2)).toMatchObject({ valid: false, outcome: 'invalid_code' });
    expect(await stack.otp.verify(phone2, new2)).toMatchObject({ valid: true, outcome: 'verified' });
  });

  test('after a failed delivery, a resend re-delivers the same code', async () => {
    const phone = '+33612350007';
    stack.sim.setBehaviour(phone, 'undeliverable');
    const first = accepted(await stack.otp.send(phone, { profile: 'fast' }));
    await waitFor(
      async () => (await stack.otp.status(phone))?.code?.delivery,
      (delivery) => delivery === 'failed',
      'the failure receipt',
      5000,
      20,
    );
    stack.sim.setBehaviour(phone, 'deliver');
    const again = accepted(await stack.otp.send(phone, { profile: 'fast' }));
    expect(again).toMatchObject({ sameCode: true, codeSeq: first.codeSeq, expiresAt: first.expiresAt });
    const code = codeFrom((await stack.waitForSms(phone))[0].text);
    expect(await stack.otp.verify(phone, code)).toMatchObject({ valid: true });
  });
});

describe('verification', () => {
  test('parallel verifications of one session produce exactly one success', async () => {
    const phone = '+33612350008';
    await stack.otp.send(phone);
    const code = codeFrom((await stack.waitForSms(phone))[0].text);
    const results = await Promise.all(Array.from({ length: 10 }, () => stack.otp.verify(phone, code)));
    expect(results.filter((r) => r.valid)).toHaveLength(1);
    expect(results.filter((r) => r.outcome === 'already_verified')).toHaveLength(9);
  });

  test('codes are compared after trimming spaces and dashes', async () => {
    const phone = '+33612350009';
    await stack.otp.send(phone);
    const code = codeFrom((await stack.waitForSms(phone))[0].text);
    expect(await stack.otp.verify(phone, ` ${code.slice(0, 3)}-${code.slice(3)} `)).toMatchObject({ valid: true });
  });

  test('public response mode tells no failure from another', async () => {
    const phone = '+33612350010';
    await stack.otp.send(phone, { profile: 'fast-lock1' });
    const code = codeFrom((await stack.waitForSms(phone))[0].text);
    const wrong = code === '000000' ? '111111' : '000000';
    const answers = [
      await stack.otp.verify('+33612350099', '123456', { responseMode: 'public' }), // no session
      await stack.otp.verify(phone, wrong, { responseMode: 'public' }), // typo, now locked
      await stack.otp.verify(phone, code, { responseMode: 'public' }), // locked
    ];
    for (const a of answers) expect(a).toEqual({ valid: false, outcome: 'rejected' });
    const phone2 = '+33612350011';
    await stack.otp.send(phone2);
    const code2 = codeFrom((await stack.waitForSms(phone2))[0].text);
    expect(await stack.otp.verify(phone2, code2, { responseMode: 'public' })).toEqual({ valid: true, outcome: 'verified' });
  });
});

describe('cancel, custom channel, verify by session', () => {
  test('cancel: the code stops verifying and is not re-sent', async () => {
    const phone = '+33612350012';
    await stack.otp.send(phone);
    const code = codeFrom((await stack.waitForSms(phone))[0].text);
    expect(await stack.otp.cancel(phone)).toMatchObject({ cancelled: true, codeSeq: 1 });
    expect(await stack.otp.verify(phone, code)).toMatchObject({ valid: false, outcome: 'cancelled' });
    expect(await stack.otp.cancel(phone)).toMatchObject({ cancelled: false });
    expect(await stack.otp.cancel('+33612350099')).toMatchObject({ cancelled: false });
    expect((await stack.otp.status(phone))?.code?.state).toBe('cancelled');
  });

  test('custom channel: no SMS; the caller gets the code to deliver and the session verifies it', async () => {
    const phone = '+33612350013';
    const result = await stack.otp.send(phone, { profile: 'fast', channel: 'custom', customCodeLength: 8 });
    if (result.status !== 'sent' || !('code' in result)) throw new Error(`unexpected ${JSON.stringify(result)}`);
    const sent = result as CustomSendResult;
    expect(sent).toMatchObject({ channel: 'custom', segments: 0 });
    expect(sent.code).toMatch(/^\d{8}$/);
    await settleFor(200, 'negative check: give a wrong SMS time to show');
    expect(stack.sim.submits.filter((x) => x.to === phone)).toHaveLength(0);
    expect(await stack.otp.verifySession(sent.sessionId, sent.code)).toMatchObject({ valid: true, outcome: 'verified' });
  });

  test('verify by session id rejects ids that are not session ids', async () => {
    await expect(stack.otp.verifySession('not-a-session', '123456')).rejects.toThrow(/sessionId must be the sessionId a send returned/);
  });
});

describe('bounded waits', () => {
  test('with no worker on the task queue, a send fails within its timeout and names the cause; nothing is sent later', async () => {
    const phone = '+33612350099';
    const orphan = new OtpClient({
      client: stack.otp.temporal,
      address: stack.config.temporal.address,
      taskQueue: 'otp-nobody-polls-this',
      hashKey: stack.config.keys.hash[0],
      sealPublicKey: stack.config.keys.sealPublic,
      tenant: stack.config.tenant,
      callTimeoutMs: 1500,
    });
    const started = Date.now();
    await expect(orphan.send(phone)).rejects.toMatchObject({
      type: 'Timeout',
      message: expect.stringMatching(/no OTP worker is polling task queue 'otp-nobody-polls-this' on /),
    });
    expect(Date.now() - started).toBeLessThan(8000);
    await expect(orphan.verify(phone, '123456')).rejects.toMatchObject({ type: 'Timeout' });
    expect(stack.sim.messages(phone)).toHaveLength(0);
    await stack.otp.temporal.workflow.getHandle(orphan.sessionId(phone)).terminate('test cleanup');
  });
});
