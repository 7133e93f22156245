/**
 * Issue 9's findings, tried as an attacker would, against a real stack: each
 * test is a path to someone else's code that used to work and must not.
 * The threat model that lists them is docs/security.md.
 */
import { Client, WithStartWorkflowOperation } from '@temporalio/client';
import {
  OTP_SESSION_WORKFLOW,
  SESSION_VERSION,
  cancelUpdate,
  deliveryReceiptSignal,
  sendUpdate,
  statusQuery,
  verifyUpdate,
  type CustomSendResult,
  type OtpSessionInput,
  type OtpSessionStatus,
} from '../client';
import { parseSealPublicKey, sealCode } from '../contract/keys';
import { accepted, codeFrom, startStack, TEST_PROFILES, type TestStack } from './helpers/stack';
import { startHttpReceiver } from './helpers/http-receiver';
import { settleFor, waitFor } from './helpers/wait';

let stack: TestStack;
let hook: { url: string; bodies: string[]; close: () => Promise<void> };
let n = 0;
/** A fresh French mobile number per test. */
const phone = () => `+336129${String(++n).padStart(5, '0')}`;

beforeAll(async () => {
  const http = await startHttpReceiver();
  hook = {
    url: `${http.base}/hook`,
    get bodies() {
      return http.requests.map((r) => r.raw);
    },
    close: http.close,
  };
  stack = await startStack(
    {},
    {
      OTP_PROFILES: JSON.stringify({
        ...TEST_PROFILES,
        // No cooldown, so an attacker can resend as fast as the lock allows.
        open: { resendCooldownSeconds: 0, maxSendsPerWindow: 100 },
        short: { resendCooldownSeconds: 2, maxSendsPerWindow: 100 },
        custom: { extends: 'fast', allowCustomChannel: true },
        staff: { extends: 'open', fallbackEmailDomains: ['example.com'], fallbackChannels: ['email'] },
        operator: { extends: 'open', fallbackChannels: ['webhook'], fallbackWebhookUrl: hook.url },
        tight: { extends: 'open', tenantSendsPerMinute: 1, retrySchedule: [5], receiptTimeoutSeconds: 5 },
      }),
    },
  );
});
afterAll(async () => {
  await stack?.stop();
  await hook?.close();
});

const otherThan = (code: string) => (code === '000000' ? '111111' : '000000');
const status = async (p: string): Promise<OtpSessionStatus> => (await stack.otp.status(p))!;

describe('1. the lockout survives resends', () => {
  test('ten wrong codes over two codes lock the number: the right code and new sends are refused until retryAt', async () => {
    const to = phone();
    for (let round = 1; round <= 2; round++) {
      accepted(await stack.otp.send(to, { profile: 'open' }));
      const code = codeFrom((await stack.waitForSms(to, round))[round - 1].text);
      for (let i = 0; i < 5; i++) expect((await stack.otp.verify(to, otherThan(code))).valid).toBe(false);
    }
    const refused = await stack.otp.send(to, { profile: 'open' });
    expect(refused).toMatchObject({ status: 'locked', reason: 'too_many_failures' });
    const retryAt = Date.parse((refused as { retryAt: string }).retryAt);
    expect(retryAt - Date.now()).toBeGreaterThan(14 * 60_000);
    expect(stack.sim.messages(to)).toHaveLength(2);
    const last = codeFrom(stack.sim.messages(to)[1].text);
    expect(await stack.otp.verify(to, last)).toMatchObject({ valid: false, outcome: 'locked', retryAt: new Date(retryAt).toISOString() });
  });
});

describe('2. fallback destinations come from the operator', () => {
  test('an email the caller names is refused by default: nothing is sent, by SMS or by mail', async () => {
    const victim = phone();
    await expect(stack.otp.send(victim, { email: 'attacker@evil.example' })).rejects.toThrow(/does not send codes to an email the caller names/);
    await expect(stack.otp.send(victim, { webhookUrl: 'https://evil.example/hook' })).rejects.toThrow(/does not send codes to a webhookUrl the caller names/);
    await settleFor(200, 'negative check: give a wrong SMS or mail time to show');
    expect(stack.sim.messages(victim)).toHaveLength(0);
    expect(stack.sim.mailTo('attacker@evil.example')).toHaveLength(0);
  });

  test('a domain the profile lists is taken, and the operator’s own webhook gets the code when the SMS fails', async () => {
    accepted(await stack.otp.send(phone(), { profile: 'staff', email: 'alice@example.com' }));
    await expect(stack.otp.send(phone(), { profile: 'staff', email: 'mallory@evil.example' })).rejects.toThrow(/fallbackEmailDomains/);
    const to = phone();
    stack.sim.setBehaviour(to, 'rejected');
    accepted(await stack.otp.send(to, { profile: 'operator' }));
    await waitFor(
      () => hook.bodies.length,
      (posts) => posts > 0,
      'the operator webhook POST',
      5000,
    );
    const body = JSON.parse(hook.bodies[0]) as { channel: string; code: string };
    expect(body.channel).toBe('webhook');
    expect(await stack.otp.verify(to, body.code)).toMatchObject({ valid: true });
  });
});

describe('3. every answer to one custom-channel send carries a code that verifies', () => {
  test('a retry under the same idempotency key gets a new code, and that code verifies', async () => {
    const to = phone();
    const first = accepted(await stack.otp.send(to, { profile: 'custom', channel: 'custom', idempotencyKey: 'order-1' })) as CustomSendResult;
    const retry = accepted(await stack.otp.send(to, { profile: 'custom', channel: 'custom', idempotencyKey: 'order-1' })) as CustomSendResult;
    expect(retry.codeSeq).toBe(first.codeSeq);
    expect(retry.code).not.toBe(first.code);
    expect(await stack.otp.verify(to, retry.code)).toMatchObject({ valid: true, outcome: 'verified' });
  });
});

describe('4. a code confirms one purpose and one context', () => {
  test('a transaction code does not verify a login, nor another transfer', async () => {
    const to = phone();
    accepted(await stack.otp.send(to, { profile: 'transaction', context: 'Pay €500 to Alice' }));
    const code = codeFrom((await stack.waitForSms(to))[0].text);
    expect(await stack.otp.verify(to, code)).toMatchObject({ valid: false, outcome: 'purpose_mismatch' });
    expect(await stack.otp.verify(to, code, { purpose: 'transaction', context: 'Pay €5000 to Mallory' })).toMatchObject({
      valid: false,
      outcome: 'context_mismatch',
    });
    // Neither used an attempt.
    expect(await stack.otp.verify(to, code, { purpose: 'transaction', context: 'Pay €500 to Alice' })).toMatchObject({ valid: true, attemptsRemaining: 5 });
  });

  test('a concurrent send for another profile is not joined to the first: it is decided on its own', async () => {
    const to = phone();
    const [a, b] = await Promise.all([stack.otp.send(to), stack.otp.send(to, { profile: 'transaction', context: 'Pay €500 to Alice' })]);
    expect([a.status, b.status].sort()).toEqual(['rate_limited', 'sent']);
  });
});

describe('5 and 6. the session trusts only the workers and the payload keys', () => {
  test('a send whose phone is not the session’s number is refused, and nothing goes to that number', async () => {
    const victim = phone();
    const attacker = phone();
    const input: OtpSessionInput = { tenant: stack.config.tenant, maskedPhone: 'FAKE', v: SESSION_VERSION };
    const start = new WithStartWorkflowOperation(OTP_SESSION_WORKFLOW, {
      workflowId: stack.otp.sessionId(victim),
      taskQueue: stack.config.temporal.taskQueue,
      args: [input],
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
    await expect(
      stack.otp.temporal.workflow.executeUpdateWithStart(sendUpdate, { args: [{ phone: attacker }], startWorkflowOperation: start }),
    ).rejects.toMatchObject({
      cause: { type: 'InvalidRequest', message: expect.stringMatching(/phone does not belong to this session/) },
    });
    await settleFor(200, 'negative check: give an SMS to the attacker time to show');
    expect(stack.sim.messages(attacker)).toHaveLength(0);
    // The caller's maskedPhone is not echoed: a checked send shows the worker's.
    const ok = accepted(await stack.otp.send(victim));
    expect(ok.maskedPhone).toBe(`+33••••••${victim.slice(-3)}`);
    expect((await status(victim)).maskedPhone).toBe(ok.maskedPhone);
  });

  test('without the payload keys, a fake DELIVRD receipt and a cancel change nothing', async () => {
    const to = phone();
    stack.sim.setBehaviour(to, 'no_receipt');
    accepted(await stack.otp.send(to, { profile: 'fast' }));
    const code = codeFrom((await stack.waitForSms(to))[0].text);
    const plain = new Client({ connection: stack.otp.temporal.connection, namespace: stack.config.temporal.namespace });
    const handle = plain.workflow.getHandle(stack.otp.sessionId(to));
    await handle.signal(deliveryReceiptSignal, {
      messageId: stack.sim.messages(to)[0].messageIds[0],
      stat: 'DELIVRD',
      outcome: 'delivered',
      err: '000',
      receivedAt: new Date().toISOString(),
      codeSeq: 1,
    });
    // Refused (the reason is encrypted, so this client cannot even read it).
    await expect(handle.executeUpdate(cancelUpdate, { args: [{}] })).rejects.toThrow();
    await expect(plain.workflow.getHandle(stack.otp.sessionId(to)).executeUpdate('cancel')).rejects.toThrow();
    const st = await status(to);
    expect(st.code?.delivery).toBe('submitted');
    expect(st.events.some((e) => e.type === 'refused' && e.detail.includes('not encrypted'))).toBe(true);
    expect(await stack.otp.verify(to, code)).toMatchObject({ valid: true });
  });
});

describe('7. idempotency and pumping', () => {
  test('a refusal is not kept under its key: after retryAfterSeconds the same key gets a fresh decision', async () => {
    const to = phone();
    accepted(await stack.otp.send(to, { profile: 'short', idempotencyKey: 'first' }));
    // Another request (not the same click twice) inside the cooldown is refused.
    expect(await stack.otp.send(to, { profile: 'short', locale: 'fr', idempotencyKey: 'second' })).toMatchObject({
      status: 'rate_limited',
      reason: 'resend_cooldown',
    });
    await settleFor(2100, 'the rule under test: past the 2 s cooldown of "short" (retryAfterSeconds)');
    expect(await stack.otp.send(to, { profile: 'short', locale: 'fr', idempotencyKey: 'second' })).toMatchObject({ status: 'sent', codeSeq: 2 });
  });

  test('an idempotency key longer than 128 characters is refused', async () => {
    await expect(stack.otp.send(phone(), { idempotencyKey: 'k'.repeat(129) })).rejects.toThrow(/idempotencyKey must be 1–128 printable ASCII/);
  });

  test('a staggered retry is charged to the tenant rate like a send', async () => {
    const to = phone();
    stack.sim.setBehaviour(to, 'no_receipt');
    // A tenant of its own: its one send a minute is this test's.
    const tenant = 'pumping';
    accepted(await stack.otp.send(to, { profile: 'tight', tenant }));
    const events = await waitFor(
      async () => (await stack.otp.status(to, { tenant }))?.events ?? [],
      (found) => found.some((e) => e.type === 'retry'),
      'the staggered retry',
      12_000,
      250,
    );
    expect(events.find((e) => e.type === 'retry')?.detail).toMatch(/not sent: tenant_rate/);
    expect(stack.sim.messages(to)).toHaveLength(1);
  }, 30_000);
});

describe('8. public answers tell nothing', () => {
  test('a public verify for a number without a session takes as long as the floor', async () => {
    const started = Date.now();
    expect(await stack.otp.verify(phone(), '123456', { responseMode: 'public' })).toEqual({ valid: false, outcome: 'rejected' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(295);
  });

  test('the default profile refuses caller message text and the custom channel', async () => {
    await expect(stack.otp.send(phone(), { messageText: 'Acme: {code}' })).rejects.toThrow(/does not allow caller message text/);
    await expect(stack.otp.send(phone(), { channel: 'custom' })).rejects.toThrow(/does not allow the custom channel/);
  });
});

describe('9. a verify idempotency key is bound to its request', () => {
  test('a wrong code under a key that verified is refused, in full and public mode, and counts as a wrong code', async () => {
    const to = phone();
    accepted(await stack.otp.send(to, { profile: 'fast' }));
    const code = codeFrom((await stack.waitForSms(to))[0].text);
    expect(await stack.otp.verify(to, code, { idempotencyKey: 'login-42' })).toMatchObject({ valid: true, outcome: 'verified' });
    // The same request again: the same answer.
    expect(await stack.otp.verify(to, code, { idempotencyKey: 'login-42' })).toMatchObject({ valid: true, outcome: 'verified' });
    expect(await stack.otp.verify(to, otherThan(code), { idempotencyKey: 'login-42' })).toMatchObject({ valid: false, outcome: 'idempotency_conflict' });
    expect(await stack.otp.verify(to, otherThan(code), { idempotencyKey: 'login-42', responseMode: 'public' })).toEqual({ valid: false, outcome: 'rejected' });
  });
});

describe('10. the worker calls only allowed destinations', () => {
  test.each([
    ['the cloud metadata address', 'http://169.254.169.254/latest/meta-data/', /private_address|link-local|169\.254/],
    ['a private network', 'http://10.1.2.3/hook', /private|10\.1\.2\.3/],
    ['the metadata address as IPv4-mapped IPv6', 'http://[::ffff:a9fe:a9fe]/latest/', /private_address|link-local|169\.254/],
    ['the metadata address in decimal', 'http://2852039166/latest/', /private_address|link-local|169\.254/],
  ])('a callback to %s is refused before anything is sent', async (_what, url, message) => {
    const to = phone();
    await expect(stack.otp.send(to, { callbackUrl: url })).rejects.toThrow(message);
    await expect(stack.otp.send(to, { profile: 'fast', webhookUrl: url })).rejects.toThrow(message);
    expect(stack.sim.messages(to)).toHaveLength(0);
  });
});

describe('11. no injection through brand, context or locale', () => {
  test.each([
    [{ brand: 'Acme' }, /does not allow a caller brand/],
    [{ profile: 'fast', brand: 'Acme\r\n\u0007Call +19005550123' }, /brand must not contain a control character/],
    [{ profile: 'fast', brand: 'Acme\u202E' }, /brand.*U\+202E/],
    [{ profile: 'fast', brand: 'Ac\u200Bme' }, /brand must not contain an invisible/],
    [{ profile: 'fast', brand: '{code}' }, /brand must not contain a brace/],
    [{ profile: 'transaction', context: 'Pay €5\nto Alice' }, /context/],
    [{ locale: 'constructor' }, /locale/],
    [{ locale: '__proto__' }, /locale/],
  ])('%p is refused with a typed error, and nothing is sent', async (options, message) => {
    const to = phone();
    await expect(stack.otp.send(to, options)).rejects.toMatchObject({ type: 'InvalidRequest', message: expect.stringMatching(message) });
    expect(stack.sim.messages(to)).toHaveLength(0);
  });
});

test('a plain code in a send request is refused: codes travel sealed', async () => {
  const to = phone();
  const start = new WithStartWorkflowOperation(OTP_SESSION_WORKFLOW, {
    workflowId: stack.otp.sessionId(to),
    taskQueue: stack.config.temporal.taskQueue,
    args: [{ tenant: stack.config.tenant, maskedPhone: '', v: SESSION_VERSION }],
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
  await expect(
    stack.otp.temporal.workflow.executeUpdateWithStart('send', { args: [{ phone: to, code: '123456' }], startWorkflowOperation: start }),
  ).rejects.toMatchObject({
    cause: { message: expect.stringMatching(/code must be sent sealed/) },
  });
  await expect(stack.otp.temporal.workflow.getHandle(stack.otp.sessionId(to)).query(statusQuery)).resolves.toBeDefined();
});

test('a session a v2 client starts now runs as v3: sealed codes verify, and the lockout applies', async () => {
  const to = phone();
  const v2: OtpSessionInput = { tenant: stack.config.tenant, maskedPhone: '+33••••••000', v: 2 };
  for (let round = 1; round <= 2; round++) {
    const start = new WithStartWorkflowOperation(OTP_SESSION_WORKFLOW, {
      workflowId: stack.otp.sessionId(to),
      taskQueue: stack.config.temporal.taskQueue,
      args: [v2],
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
    expect(
      await stack.otp.temporal.workflow.executeUpdateWithStart(sendUpdate, { args: [{ phone: to, profile: 'open' }], startWorkflowOperation: start }),
    ).toMatchObject({ status: 'sent', codeSeq: round });
    const code = codeFrom((await stack.waitForSms(to, round))[round - 1].text);
    if (round === 1) {
      expect(await stack.otp.verify(to, otherThan(code))).toMatchObject({ valid: false, outcome: 'invalid_code' });
      for (let i = 0; i < 4; i++) await stack.otp.verify(to, otherThan(code));
    } else for (let i = 0; i < 5; i++) await stack.otp.verify(to, otherThan(code));
  }
  expect(await stack.otp.send(to, { profile: 'open' })).toMatchObject({ status: 'locked' });
  // A plain (keyless) cancel is refused there too.
  const plain = new Client({ connection: stack.otp.temporal.connection, namespace: stack.config.temporal.namespace });
  await expect(plain.workflow.getHandle(stack.otp.sessionId(to)).executeUpdate(cancelUpdate, { args: [{}] })).rejects.toThrow();
});

describe('review findings (attacks that held against the first fix)', () => {
  const sealFor = (to: string, code: string, use: 'verify' | 'send', at = Date.now()) =>
    sealCode(parseSealPublicKey(stack.config.keys.sealPublic), stack.otp.sessionId(to), code, use, at);
  const rawVerify = (to: string, sealedCode: string) =>
    stack.otp.temporal.workflow.getHandle(stack.otp.sessionId(to)).executeUpdate(verifyUpdate, { args: [{ sealedCode }] });

  test('a start that carries forged state (a nonce and a number of the caller’s choosing) fails at once and sends nothing', async () => {
    const victim = phone();
    const attacker = phone();
    const handle = await stack.otp.temporal.workflow.start(OTP_SESSION_WORKFLOW, {
      workflowId: stack.otp.sessionId(victim),
      taskQueue: stack.config.temporal.taskQueue,
      args: [
        {
          tenant: stack.config.tenant,
          maskedPhone: '',
          v: SESSION_VERSION,
          carried: { codeSeq: 1, sends: [], idempotency: {}, events: [], current: { seq: 1, nonce: 'chosen', state: 'active', resend: { phone: attacker } } },
        },
      ],
    });
    await expect(handle.result()).rejects.toThrow();
    await settleFor(300, 'negative check: give an SMS to the attacker time to show');
    expect(stack.sim.messages(attacker)).toHaveLength(0);
  });

  test('a sealed code is taken once, for what it was sealed for, and only while fresh', async () => {
    const to = phone();
    accepted(await stack.otp.send(to, { profile: 'fast' }));
    const code = codeFrom((await stack.waitForSms(to))[0].text);
    // A caller's code as a send carries it (ciphertext in history) is no verify.
    await expect(rawVerify(to, sealFor(to, code, 'send'))).rejects.toMatchObject({ cause: { message: expect.stringMatching(/sealed for a send request/) } });
    await expect(rawVerify(to, sealFor(to, code, 'verify', Date.now() - 11 * 60_000))).rejects.toMatchObject({
      cause: { message: expect.stringMatching(/too old/) },
    });
    // A verify that answered without using the code up (here: the wrong purpose) cannot be replayed later.
    const sealed = sealFor(to, code, 'verify');
    const handle = stack.otp.temporal.workflow.getHandle(stack.otp.sessionId(to));
    expect(await handle.executeUpdate(verifyUpdate, { args: [{ sealedCode: sealed, purpose: 'recovery' }] })).toMatchObject({ outcome: 'purpose_mismatch' });
    await expect(rawVerify(to, sealed)).rejects.toMatchObject({ cause: { message: expect.stringMatching(/already used/) } });
    expect(await stack.otp.verify(to, code)).toMatchObject({ valid: true });
  });

  test('a cron or retried run cannot carry forged state either', async () => {
    const victim = phone();
    const attacker = phone();
    const carried = {
      codeSeq: 1,
      sends: [],
      idempotency: {},
      events: [],
      current: { seq: 1, nonce: 'chosen', state: 'active', resend: { phone: attacker }, fallback: { email: 'attacker@evil.example' } },
    };
    const handle = await stack.otp.temporal.workflow.start(OTP_SESSION_WORKFLOW, {
      workflowId: stack.otp.sessionId(victim),
      taskQueue: stack.config.temporal.taskQueue,
      cronSchedule: '@every 2s',
      args: [{ tenant: stack.config.tenant, maskedPhone: '', v: SESSION_VERSION, carried }],
    });
    // The signature check refuses it on every run, cron or not: the first run that executes fails at once.
    const firstRun = stack.otp.temporal.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId);
    let failed = false;
    try {
      failed = await waitFor(
        async () => ((await firstRun.fetchHistory()).events ?? []).some((e) => e.workflowExecutionFailedEventAttributes),
        (done) => done,
        'the first run to fail',
        20_000,
        500,
      );
    } finally {
      await handle.terminate().catch(() => undefined);
    }
    expect(failed).toBe(true);
    expect(stack.sim.messages(attacker)).toHaveLength(0);
    expect(stack.sim.mailTo('attacker@evil.example')).toHaveLength(0);
  }, 40_000);

  test('a sealed code re-spelled (the unused bits of its last character) is still the same, used seal', async () => {
    const to = phone();
    accepted(await stack.otp.send(to, { profile: 'fast' }));
    const code = codeFrom((await stack.waitForSms(to))[0].text);
    const sealed = sealFor(to, code, 'verify');
    const handle = stack.otp.temporal.workflow.getHandle(stack.otp.sessionId(to));
    expect(await handle.executeUpdate(verifyUpdate, { args: [{ sealedCode: sealed, purpose: 'recovery' }] })).toMatchObject({ outcome: 'purpose_mismatch' });
    const last = sealed.slice(-1);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const respelled = sealed.slice(0, -1) + alphabet[(alphabet.indexOf(last) & ~0xf) | ((alphabet.indexOf(last) + 1) & 0xf)];
    await expect(rawVerify(to, respelled)).rejects.toMatchObject({
      cause: { message: expect.stringMatching(/sealedCode is invalid \(malformed\)|already used/) },
    });
  });

  test('another workflow started under a session id (a squat) ends at once, and the number still gets its code', async () => {
    const to = phone();
    const squat = await stack.otp.temporal.workflow.start('deliveryReceiptMailbox', {
      workflowId: stack.otp.sessionId(to),
      taskQueue: stack.config.temporal.taskQueue,
    });
    await squat.result();
    accepted(await stack.otp.send(to));
  });

  test('an idempotency key reused for a different send is refused', async () => {
    const to = phone();
    accepted(await stack.otp.send(to, { profile: 'custom', channel: 'custom', idempotencyKey: 'k-1' }));
    await expect(stack.otp.send(to, { profile: 'custom', channel: 'custom', locale: 'fr', idempotencyKey: 'k-1' })).rejects.toThrow(
      /already used for a different send request/,
    );
  });
});
