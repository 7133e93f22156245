/**
 * Issue 15: a profile's channel chain (sessions v7), against a real SMTP server (smtp-server, on
 * loopback, refusing one domain with 550), a real HTTP receiver standing in for a voice provider
 * and a webhook flow, the SMSC simulator and a real dev server.
 */
import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import type { VoiceChannelMessage } from '../contract';
import { accepted, codeFrom, startStack, TEST_PROFILES, type TestStack } from './helpers/stack';
import { startHttpReceiver, type HttpReceiver } from './helpers/http-receiver';
import { settleFor, waitFor, waitForAny } from './helpers/wait';

interface Mail {
  to: string;
  from: string;
  raw: string;
}

let stack: TestStack;
let smtp: SMTPServer;
let voice: HttpReceiver;
/** A webhook receiver that is down: every POST answers 503. */
let hook: HttpReceiver;
/** Answers 503 while true: a voice provider that is down. */
let voiceDown = false;
const mails: Mail[] = [];

beforeAll(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onRcptTo(address, _session, cb) {
      if (address.address.endsWith('@refusing.example')) cb(Object.assign(new Error('mailbox unavailable'), { responseCode: 550 }));
      else cb();
    },
    onData(stream, session, cb) {
      let raw = '';
      stream.on('data', (d: Buffer) => (raw += d.toString('utf8')));
      stream.on('end', () => {
        for (const r of session.envelope.rcptTo) mails.push({ to: r.address, from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', raw });
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  const smtpPort = (smtp.server.address() as AddressInfo).port;
  voice = await startHttpReceiver(() => (voiceDown ? 503 : 204));
  hook = await startHttpReceiver(() => 503);
  const chainProfile = { extends: 'fast', callerContacts: true, retrySchedule: [20, 60], voiceWebhookUrl: `${voice.base}/voice` };
  stack = await startStack(
    {},
    {
      SMTP_PORT: String(smtpPort),
      OTP_PROFILES: JSON.stringify({
        ...TEST_PROFILES,
        // SMS, then email after 6 s without a receipt (at once on UNDELIV); the email has its own From, subject and HTML.
        'chain-mail': {
          ...chainProfile,
          emailFrom: 'codes@bank.example',
          emailSubject: 'Your {brand} code',
          emailHtmlTemplates: { en: '<p>{brand}: <b>{code}</b></p>' },
          chain: [
            { channel: 'sms', deadlineSeconds: 6 },
            { channel: 'email', deadlineSeconds: 30 },
          ],
        },
        // SMS, then a voice call, then email: the voice step moves on when the provider keeps failing.
        'chain-voice': {
          ...chainProfile,
          chain: [{ channel: 'sms', deadlineSeconds: 6 }, { channel: 'voice', deadlineSeconds: 30 }, { channel: 'email' }],
        },
        // SMS, then the operator's webhook (down), then email.
        'chain-hook': {
          ...chainProfile,
          callerContacts: false,
          fallbackEmailDomains: ['bank.example'],
          fallbackWebhookUrl: `${hook.base}/hook`,
          chain: [{ channel: 'sms', deadlineSeconds: 6 }, { channel: 'webhook' }, { channel: 'email' }],
        },
        // Email first after the SMS, then voice: an SMTP refusal moves on to the call.
        'chain-mail-voice': {
          ...chainProfile,
          chain: [{ channel: 'sms', deadlineSeconds: 6 }, { channel: 'email' }, { channel: 'voice' }],
        },
      }),
    },
  );
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  await voice?.close();
  await hook?.close();
  await new Promise<void>((resolve) => (smtp ? smtp.close(() => resolve()) : resolve()));
});

/** A send to a number whose SMS the carrier reports UNDELIV: the chain's first move. */
const sendUndelivered = async (phone: string, options: Parameters<TestStack['otp']['send']>[1]) => {
  stack.sim.setBehaviour(phone, 'undeliverable');
  accepted(await stack.otp.send(phone, options));
};
const mailsTo = (to: string) => mails.filter((m) => m.to === to);
const voiceCallsFor = (phone: string) => voice.requests.map((r) => JSON.parse(r.raw) as VoiceChannelMessage).filter((m) => m.phone === phone);

test('UNDELIV: the email arrives within 2 s of the receipt, with the profile From, subject and HTML, and the code verifies', async () => {
  const phone = '+33612880001';
  const email = 'u1@bank.example';
  await sendUndelivered(phone, { profile: 'chain-mail', email });
  await waitFor(
    () => stack.otp.status(phone),
    (st) => st?.code?.delivery === 'failed',
    'the UNDELIV receipt',
  );
  const receiptAt = Date.now();
  const [mail] = await waitForAny(() => mailsTo(email), 'the email', 10_000);
  const took = Date.now() - receiptAt;
  expect(took).toBeLessThan(2000 + 1000); // 2 s, plus the status poll that saw the receipt
  expect(mail.from).toBe('codes@bank.example');
  expect(mail.raw).toMatch(/Subject: Your Test code|Subject: Your .* code/);
  expect(mail.raw).toContain('text/html');
  const st = await stack.otp.status(phone);
  expect(st?.code?.step).toMatchObject({ index: 1, channel: 'email' });
  expect(st?.code?.step?.steps.map((s) => [s.channel, s.outcome])).toEqual([
    ['sms', 'failed'],
    ['email', 'sent'],
  ]);
  expect(st?.code?.step?.steps[0].reason).toBe('SMS UNDELIV');
  expect(stack.sim.submits.filter((s) => s.to === phone)).toHaveLength(1); // no SMS retry
  const code = codeFrom(mail.raw);
  expect(await stack.otp.verify(phone, code)).toMatchObject({ valid: true });
}, 60_000);

test('no receipt before the deadline: the next step starts at the deadline, not before', async () => {
  const phone = '+33612880002';
  const email = 'u2@bank.example';
  stack.sim.setBehaviour(phone, 'no_receipt');
  const sentAt = Date.now();
  accepted(await stack.otp.send(phone, { profile: 'chain-mail', email }));
  await waitForAny(() => mailsTo(email), 'the email at the deadline', 20_000);
  const after = Date.now() - sentAt;
  expect(after).toBeGreaterThanOrEqual(6000);
  const st = await stack.otp.status(phone);
  expect(st?.code?.step?.steps[0]).toMatchObject({ channel: 'sms', outcome: 'moved_on', reason: 'no receipt within 6 s' });
}, 60_000);

test('a code verified while a step waits: nothing more is sent', async () => {
  const phone = '+33612880003';
  const email = 'u3@bank.example';
  stack.sim.setBehaviour(phone, 'no_receipt');
  accepted(await stack.otp.send(phone, { profile: 'chain-mail', email }));
  const [sms] = await stack.waitForSms(phone);
  expect(await stack.otp.verify(phone, codeFrom(sms.text))).toMatchObject({ valid: true });
  // Past the SMS step's 6 s deadline: the email step must not start.
  await waitFor(
    () => stack.otp.status(phone),
    (st) => st?.code?.step?.steps[0].outcome === 'stopped',
    'the SMS step stopped by the verify',
  );
  await settleFor(7000, 'rule under test: past the SMS step deadline (6 s), the email step must not start');
  expect(mailsTo(email)).toHaveLength(0);
  expect((await stack.otp.status(phone))?.code?.step?.steps).toHaveLength(1);
}, 60_000);

test('the voice receiver is down: three tries, the step fails, and the chain goes on to email', async () => {
  const phone = '+33612880004';
  const email = 'u4@bank.example';
  stack.sim.setBehaviour(phone, 'undeliverable');
  voiceDown = true;
  try {
    accepted(await stack.otp.send(phone, { profile: 'chain-voice', email }));
    await waitForAny(() => mailsTo(email), 'the email after the voice step failed', 20_000);
  } finally {
    voiceDown = false;
  }
  expect(voiceCallsFor(phone)).toHaveLength(3);
  const st = await stack.otp.status(phone);
  expect(st?.code?.step?.steps.map((s) => [s.channel, s.outcome])).toEqual([
    ['sms', 'failed'],
    ['voice', 'failed'],
    ['email', 'sent'],
  ]);
  expect(st?.code?.escalatedTo).toEqual(['voice', 'email']);
}, 60_000);

test('the webhook receiver is down: three tries 250 ms and 750 ms apart under one event id, then the next channel', async () => {
  const phone = '+33612880009';
  const email = 'u9@bank.example';
  await sendUndelivered(phone, { profile: 'chain-hook', email });
  await waitForAny(() => mailsTo(email), 'the email after the webhook step failed', 20_000);
  const posts = hook.requests.filter((r) => r.raw.includes('"codeSeq"') && r.headers['x-otp-event-id']?.toString().endsWith(':1:webhook'));
  const mine = posts.filter((r) => (JSON.parse(r.raw) as { sessionId: string }).sessionId === stack.otp.sessionId(phone));
  expect(mine).toHaveLength(3);
  expect(new Set(mine.map((r) => r.headers['x-otp-event-id'])).size).toBe(1);
  const st = await stack.otp.status(phone);
  expect(st?.code?.step?.steps.map((s) => [s.channel, s.outcome])).toEqual([
    ['sms', 'failed'],
    ['webhook', 'failed'],
    ['email', 'sent'],
  ]);
  expect(st?.code?.step?.steps[1].reason).toMatch(/webhook channel failed: .*503.*\(3 tries\)/);
}, 60_000);

test('the voice step: text for speech, digit by digit, said twice, in the send locale, signed, same code as the SMS', async () => {
  const phone = '+33612880005';
  await sendUndelivered(phone, { profile: 'chain-voice', locale: 'fr' });
  const [call] = await waitForAny(() => voiceCallsFor(phone), 'the voice POST', 10_000);
  const [sms] = await stack.waitForSms(phone).catch(() => [undefined]);
  expect(sms).toBeUndefined(); // UNDELIV: the handset never had it
  expect(call.channel).toBe('voice');
  expect(call.locale).toBe('fr');
  const spoken = [...call.code].join(', ');
  expect(call.speech.split(spoken)).toHaveLength(3); // said twice
  expect(call.speech).toMatch(/^Ici /);
  const req = voice.requests.find((r) => r.raw.includes(phone))!;
  expect(req.headers['x-otp-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
  expect(req.headers['x-otp-event-id']).toMatch(/:1:voice$/);
  expect(await stack.otp.verify(phone, call.code)).toMatchObject({ valid: true });
}, 60_000);

test('the SMTP server refuses (550): a typed failure on the step, and the chain goes on to the voice call', async () => {
  const phone = '+33612880006';
  const email = 'u6@refusing.example';
  await sendUndelivered(phone, { profile: 'chain-mail-voice', email });
  await waitForAny(() => voiceCallsFor(phone), 'the voice call after the refused email', 15_000);
  const st = await stack.otp.status(phone);
  expect(st?.code?.step?.steps.map((s) => [s.channel, s.outcome])).toEqual([
    ['sms', 'failed'],
    ['email', 'failed'],
    ['voice', 'sent'],
  ]);
  // Typed, and without the address the server named.
  expect(st?.code?.step?.steps[1].reason).toBe('email refused: SMTP 550');
}, 60_000);

test('a permanent refusal at submit: the send is accepted with smsRefused and the chain continues at once', async () => {
  const phone = '+33612880007';
  const email = 'u7@bank.example';
  stack.sim.setBehaviour(phone, 'refuse');
  const r = accepted(await stack.otp.send(phone, { profile: 'chain-mail', email }));
  expect(r.smsRefused).toMatch(/ESME_RINVDSTADR/);
  expect(r.messageId).toBeUndefined();
  const [mail] = await waitForAny(() => mailsTo(email), 'the email after the refused SMS', 10_000);
  const st = await stack.otp.status(phone);
  expect(st?.code?.step?.steps[0]).toMatchObject({ channel: 'sms', outcome: 'failed' });
  expect(st?.code?.step?.steps[0].reason).toMatch(/^not submitted: .*ESME_RINVDSTADR/);
  const code = codeFrom(mail.raw);
  expect(await stack.otp.verify(phone, code)).toMatchObject({ valid: true });
}, 60_000);

test('a permanent refusal at submit with no later destination still fails the send, as before', async () => {
  const phone = '+33612880008';
  stack.sim.setBehaviour(phone, 'refuse');
  await expect(stack.otp.send(phone, { profile: 'chain-mail' })).rejects.toThrow(/dispatch failed/i);
}, 60_000);

// Last: it leaves the simulator dropping this number's connections, which costs the binds a reconnect.
test('an SMS the SMSC never takes (the connection drops on every try): the send is accepted and the chain goes on', async () => {
  const phone = '+33612880010';
  const email = 'u10@bank.example';
  stack.sim.setBehaviour(phone, 'drop');
  const r = accepted(await stack.otp.send(phone, { profile: 'chain-mail', email }));
  expect(r.smsRefused).toBeDefined();
  await waitForAny(() => mailsTo(email), 'the email after the SMS was not submitted', 20_000);
  const st = await stack.otp.status(phone);
  expect(st?.code?.step?.steps.map((s) => [s.channel, s.outcome])).toEqual([
    ['sms', 'failed'],
    ['email', 'sent'],
  ]);
  expect(st?.code?.step?.steps[0].reason).toMatch(/^not submitted: /);
}, 90_000);
