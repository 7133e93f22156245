/**
 * Staggered retries in the workflow, on the real time-skipping test server:
 * the schedule runs in milliseconds. Every retry re-sends the same code and
 * the retries stop at delivery, verification or expiry.
 */
import { createHmac } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { OtpClient, WebhookChannelMessage } from '../client';
import { accepted, codeFrom, startTimeSkippingStack, TEST_PROFILES, type TestStack } from './helpers/stack';
import { startHttpReceiver } from './helpers/http-receiver';
import { settleFor } from './helpers/wait';

let env: TestWorkflowEnvironment;
let sim: TestStack['sim'];
let otp: OtpClient;
let stack: Awaited<ReturnType<typeof startTimeSkippingStack>>;
let webhook: { url: string; received: { body: WebhookChannelMessage; signature: string; timestamp: string; raw: string }[]; close: () => Promise<void> };

/** The webhook channel's receiver: every POST, its signature headers and its parsed body. */
async function webhookReceiver(): Promise<typeof webhook> {
  const receiver = await startHttpReceiver();
  const received = () =>
    receiver.requests.map((r) => ({
      body: JSON.parse(r.raw) as WebhookChannelMessage,
      signature: String(r.headers['x-otp-signature']),
      timestamp: String(r.headers['x-otp-timestamp']),
      raw: r.raw,
    }));
  return {
    url: `${receiver.base}/code`,
    get received() {
      return received();
    },
    close: receiver.close,
  };
}

beforeAll(async () => {
  webhook = await webhookReceiver();
  stack = await startTimeSkippingStack({
    OTP_CALLBACK_KEY: 'webhook-channel-key-0123456789',
    OTP_PROFILES: JSON.stringify({ ...TEST_PROFILES, short: { extends: 'fast', ttlSeconds: 45 } }),
  });
  ({ env, sim, otp } = stack);
});

afterAll(async () => {
  await stack?.stop();
  await webhook?.close();
});

/**
 * Lets real time pass so the work of the last step (the submit, the simulator's receipt, the timers the workflow
 * task starts) is done before time skips: the time-skipping clock only moves in env.sleep, and no one condition
 * says every such step has finished (some steps, e.g. no_receipt, leave nothing to wait for).
 */
const settle = () => settleFor(300, 'real-time work of the last step is done before time skips');

async function events(phone: string) {
  return (await otp.status(phone))?.events ?? [];
}

test('no receipt: the same code is re-sent at +20 s and +60 s, then never again', async () => {
  const phone = '+33612700001';
  sim.setBehaviour(phone, 'no_receipt');
  accepted(await otp.send(phone, { profile: 'fast' }));
  await settle();
  await env.sleep('21 seconds');
  await settle();
  expect(sim.messages(phone)).toHaveLength(2);
  await env.sleep('40 seconds');
  await settle();
  await env.sleep('3 minutes');
  await settle();
  const sms = sim.messages(phone);
  expect(sms).toHaveLength(3);
  expect(new Set(sms.map((m) => codeFrom(m.text))).size).toBe(1);
  const retries = (await events(phone)).filter((e) => e.type === 'retry');
  expect(retries.map((e) => e.detail)).toEqual([expect.stringContaining('retry 1/2 after no receipt within 15 s'), expect.stringContaining('retry 2/2')]);
  expect(await otp.verify(phone, codeFrom(sms[0].text))).toMatchObject({ valid: true });
});

test('a retryable failure (UNDELIV) is retried; once a retry is delivered, retries stop', async () => {
  const phone = '+33612700002';
  sim.setBehaviour(phone, 'undeliverable');
  accepted(await otp.send(phone, { profile: 'fast' }));
  await settle();
  expect((await otp.status(phone))?.code?.delivery).toBe('failed');
  sim.setBehaviour(phone, 'deliver');
  await env.sleep('21 seconds');
  await settle();
  expect((await otp.status(phone))?.code).toMatchObject({ delivery: 'delivered', deliveryStat: 'DELIVRD' });
  await env.sleep('2 minutes');
  await settle();
  expect(sim.submits.filter((x) => x.to === phone && x.status === 0)).toHaveLength(2);
  expect(sim.messages(phone)).toHaveLength(1); // the first was never delivered
});

test('REJECTD is final: no retry', async () => {
  const phone = '+33612700003';
  sim.setBehaviour(phone, 'rejected');
  accepted(await otp.send(phone, { profile: 'fast' }));
  await settle();
  await env.sleep('2 minutes');
  await settle();
  expect(sim.submits.filter((x) => x.to === phone)).toHaveLength(1);
  expect((await otp.status(phone))?.code?.deliveryStat).toBe('REJECTD');
});

test('a verified code is not retried', async () => {
  const phone = '+33612700004';
  sim.setBehaviour(phone, 'no_receipt');
  accepted(await otp.send(phone, { profile: 'fast' }));
  await settle();
  expect(await otp.verify(phone, codeFrom(sim.messages(phone)[0].text))).toMatchObject({ valid: true });
  await env.sleep('2 minutes');
  await settle();
  expect(sim.messages(phone)).toHaveLength(1);
});

test('retries past the code expiry are skipped', async () => {
  const phone = '+33612700005';
  sim.setBehaviour(phone, 'no_receipt');
  accepted(await otp.send(phone, { profile: 'short' })); // 45 s: +20 s happens, +60 s would be after expiry
  await settle();
  await env.sleep('25 seconds');
  await settle();
  await env.sleep('2 minutes');
  await settle();
  expect(sim.messages(phone)).toHaveLength(2);
});

describe('escalation to fallback channels', () => {
  test('an SMS not delivered in time escalates: the same code by email, then by webhook', async () => {
    const phone = '+33612700006';
    sim.setBehaviour(phone, 'no_receipt');
    accepted(await otp.send(phone, { profile: 'fast', email: 'Alice@Example.com', webhookUrl: webhook.url }));
    await settle();
    const smsCode = codeFrom(sim.messages(phone)[0].text);
    await env.sleep('91 seconds');
    await settle();
    const [mail] = sim.mailTo('alice@example.com');
    expect(mail).toMatchObject({ from: 'otp@localhost', subject: 'Acme verification code' });
    expect(codeFrom(mail.text)).toBe(smsCode);
    expect(mail.text).not.toContain('612700006');
    expect(webhook.received).toHaveLength(0);
    await env.sleep('90 seconds');
    await settle();
    expect(webhook.received).toHaveLength(1);
    const hook = webhook.received[0];
    expect(hook.body).toMatchObject({ channel: 'webhook', codeSeq: 1, code: smsCode, brand: 'Acme' });
    expect(hook.signature).toBe(`sha256=${createHmac('sha256', 'webhook-channel-key-0123456789').update(`${hook.timestamp}.${hook.raw}`).digest('hex')}`);
    const status = await otp.status(phone);
    expect(status?.code?.escalatedTo).toEqual(['email', 'webhook']);
    expect(status?.events.filter((e) => e.type === 'escalated').map((e) => e.detail)).toEqual([
      expect.stringContaining('sent by email: no receipt within 90 s'),
      expect.stringContaining('sent by webhook'),
    ]);
    expect(await otp.verify(phone, smsCode)).toMatchObject({ valid: true });
  });

  test('a rejected SMS escalates to email at once; a delivered one never escalates', async () => {
    const rejected = '+33612700007';
    sim.setBehaviour(rejected, 'rejected');
    accepted(await otp.send(rejected, { profile: 'fast', email: 'bob@example.com' }));
    await settle();
    await settle();
    expect(sim.mailTo('bob@example.com')).toHaveLength(1);

    const fine = '+33612700008';
    accepted(await otp.send(fine, { profile: 'fast', email: 'carol@example.com' }));
    await settle();
    await env.sleep('5 minutes');
    await settle();
    expect(sim.mailTo('carol@example.com')).toHaveLength(0);
  });

  test('a malformed contact is refused before anything is sent', async () => {
    await expect(otp.send('+33612700009', { email: 'not-an-address' })).rejects.toThrow('email must be one email address');
    await expect(otp.send('+33612700009', { webhookUrl: 'mailto:x@example.com' })).rejects.toThrow(/webhookUrl URL scheme must be http or https/);
    expect(sim.messages('+33612700009')).toHaveLength(0);
  });
});
