/**
 * The example flows (examples/n8n/*.json) served by a real `n8n start` and
 * called over HTTP, as a login page or an app would call them: the packed
 * package installed as n8n installs it, the flows imported as shipped (only
 * the credentials are this run's) and published, against the real Temporal
 * dev server, worker, SMSC simulator and SMTP mailbox. Copies of the flows
 * whose credential points at an unreachable Temporal (127.0.0.1:1), or at an
 * SMTP port nobody listens on, show what callers get in an outage.
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../dev/temporal-server';
import type { MailMessage } from '../../sim/smsc-simulator';
import { codeFrom, startStack, temporalAddress, TEST_PROFILES, type TestStack } from '../helpers/stack';
import { waitFor } from '../helpers/wait';
import { setUpN8n, type N8nHarness, type N8nServer, type WebhookAnswer } from '../../dev/n8n-harness';

interface FlowNode {
  name: string;
  type: string;
  credentials?: Record<string, { id: string; name: string }>;
  parameters: Record<string, unknown>;
  webhookId?: string;
}
interface Flow {
  id: string;
  name: string;
  settings: Record<string, unknown>;
  nodes: FlowNode[];
}

const EXAMPLES = join(__dirname, '..', '..', 'examples', 'n8n');
const example = (file: string) => JSON.parse(readFileSync(join(EXAMPLES, file), 'utf8')) as Flow;
const LOGIN = example('2fa-login-api.json');
const VERIFY = example('verify-endpoint.json');
const EMAIL = example('custom-channel-email.json');

// The names the examples use for their credentials.
const OTP_CRED = { id: 'temporalOtpCred01', name: 'Temporal OTP API account' };
const SMTP_CRED = { id: 'smtpCred00000001', name: 'SMTP account' };
const DEAD_OTP_CRED = { id: 'otpExDeadOtpCred', name: 'Temporal OTP (unreachable)' };
const DEAD_SMTP_CRED = { id: 'otpExDeadSmtpCrd', name: 'SMTP (nobody listens)' };
// The custom-channel example's user store: u-1001.
const ALICE = { userId: 'u-1001', phone: '+33612345678', email: 'alice@example.com' };

/**
 * A copy of an example under another id and webhook path, with other credentials or settings.
 * Everything else stays as shipped.
 */
function variant(flow: Flow, id: string, prefix: string, change: { otp?: typeof OTP_CRED; smtp?: typeof SMTP_CRED; settings?: Record<string, unknown> }): Flow {
  const copy = JSON.parse(JSON.stringify(flow)) as Flow;
  copy.id = id;
  copy.name = `${flow.name} (${prefix})`;
  Object.assign(copy.settings, change.settings ?? {});
  for (const node of copy.nodes) {
    if (node.type === 'n8n-nodes-base.webhook') {
      node.parameters.path = `${prefix}/${node.parameters.path as string}`;
      node.webhookId = randomUUID();
    }
    if (node.credentials?.temporalOtpApi && change.otp) node.credentials.temporalOtpApi = change.otp;
    if (node.credentials?.smtp && change.smtp) node.credentials.smtp = change.smtp;
  }
  return copy;
}

const pathOf = (flow: Flow) => flow.nodes.find((n) => n.type === 'n8n-nodes-base.webhook')!.parameters.path as string;

const DOWN = {
  login: variant(LOGIN, 'otpExDownLogin01', 'down', { otp: DEAD_OTP_CRED }),
  verify: variant(VERIFY, 'otpExDownVerify1', 'down', { otp: DEAD_OTP_CRED }),
  email: variant(EMAIL, 'otpExDownEmail01', 'down', { otp: DEAD_OTP_CRED }),
  smtp: variant(EMAIL, 'otpExNoSmtp00001', 'nosmtp', { smtp: DEAD_SMTP_CRED }),
};
// The custom channel with n8n's default saving: the control that shows the database grep finds a saved code.
const SAVED_EMAIL = variant(EMAIL, 'otpExSavedEmail1', 'saved', { settings: { saveDataSuccessExecution: 'all', saveDataErrorExecution: 'all' } });

let stack: TestStack;
let n8n: N8nHarness;
let server: N8nServer;

beforeAll(async () => {
  // The operator's profiles (deployment settings, not part of a flow): "email-login" allows the custom
  // channel, as examples/n8n/README.md says. "login" is lowered so a test reaches the send window
  // (2 sends), a code's lock (2 wrong codes) and the session's lock (4) in a few requests.
  const profiles = {
    ...TEST_PROFILES,
    login: { resendCooldownSeconds: 0, maxSendsPerWindow: 2, maxAttempts: 2, maxFailures: 4 },
    'email-login': { extends: 'login', allowCustomChannel: true, maxSendsPerWindow: 100 },
  };
  [stack, n8n] = await Promise.all([startStack({ smtpPort: 0 }, { OTP_PROFILES: JSON.stringify(profiles) }), setUpN8n()]);
  const otp = (cred: typeof OTP_CRED, address: string) => ({
    ...cred,
    type: 'temporalOtpApi',
    data: { address, namespace: 'default', taskQueue: stack.config.temporal.taskQueue, tls: false, hashSecret: '', payloadSecrets: '' },
  });
  const smtp = (cred: typeof SMTP_CRED, port: number) => ({
    ...cred,
    type: 'smtp',
    data: { host: '127.0.0.1', port, secure: false, disableStartTls: true, user: '', password: '' },
  });
  await n8n.importCredentials([
    otp(OTP_CRED, temporalAddress()),
    otp(DEAD_OTP_CRED, '127.0.0.1:1'),
    smtp(SMTP_CRED, stack.sim.smtpPort!),
    smtp(DEAD_SMTP_CRED, await freePort()),
  ]);
  const flows = [LOGIN, VERIFY, EMAIL, ...Object.values(DOWN), SAVED_EMAIL];
  await n8n.importWorkflows(flows);
  for (const flow of flows) await n8n.publish(flow.id);
  server = await n8n.startServer();
  for (const flow of flows) await server.waitForWebhook(pathOf(flow));
}, 20 * 60_000);

afterAll(async () => {
  await server?.stop();
  await stack?.stop();
});

const sendCode = (body: unknown) => server.post(pathOf(LOGIN), body);
const verifyCode = (body: unknown) => server.post(pathOf(VERIFY), body);
const emailCode = (body: unknown) => server.post(pathOf(EMAIL), body);

/** The answer's status and body, for one readable failure message. */
const answer = (a: WebhookAnswer) => ({ status: a.status, body: a.body });
const retryAfter = (a: WebhookAnswer) => Number(a.headers.get('retry-after'));

async function waitForMail(to: string, count: number): Promise<MailMessage[]> {
  let mails: MailMessage[] = [];
  // Polls the count, so a failure names it and never prints a code.
  await waitFor(
    async () => (mails = (await (await fetch(`${stack.sim.inboxUrl}/mail?to=${encodeURIComponent(to)}`)).json()) as MailMessage[]).length,
    (n) => n >= count,
    `${count} emails to ${to}`,
    15_000,
  );
  return mails;
}

describe('2FA login API (POST /webhook/otp/send)', () => {
  test('202 for a sent code, with nothing internal; the handset gets the SMS; a retried request sends nothing more; the code verifies once (200, then 401)', async () => {
    const phone = '+33612910001';
    const sent = await sendCode({ phone, requestId: 'login-1' });
    expect(answer(sent)).toEqual({ status: 202, body: { status: 'sent', expiresAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) } });
    const [sms] = await stack.waitForSms(phone);
    expect(answer(await sendCode({ phone, requestId: 'login-1' }))).toEqual(answer(sent));
    // The code it sent verifies through the verify example.
    expect(answer(await verifyCode({ phone, code: codeFrom(sms.text) }))).toEqual({ status: 200, body: { valid: true } });
    expect(answer(await verifyCode({ phone, code: codeFrom(sms.text) }))).toEqual({ status: 401, body: { valid: false } });
    expect(await stack.waitForSms(phone)).toHaveLength(1);
  });

  test('a language the profile has picks its template; any other gets the default language, not an error', async () => {
    for (const [phone, locale, text] of [
      ['+33612910006', 'fr-FR', /votre code de vérification est/],
      ['+33612910007', 'de', /code is/],
    ] as const) {
      expect((await sendCode({ phone, requestId: `locale-${locale}`, locale })).status).toBe(202);
      expect((await stack.waitForSms(phone))[0].text).toMatch(text);
    }
  });

  test('429 with Retry-After past the send window', async () => {
    const phone = '+33612910002';
    for (const requestId of ['window-1', 'window-2']) expect((await sendCode({ phone, requestId })).status).toBe(202);
    const refused = await sendCode({ phone, requestId: 'window-3' });
    expect(answer(refused)).toEqual({ status: 429, body: { error: 'try_later', retryAfterSeconds: expect.any(Number) } });
    expect(retryAfter(refused)).toBe((refused.body as { retryAfterSeconds: number }).retryAfterSeconds);
    expect(retryAfter(refused)).toBeGreaterThan(0);
  });

  test('400 for a number that is not one, 403 without a reason for a blocked one, 400 for a malformed request', async () => {
    for (const phone of ['+33 12', 'hello']) {
      expect(answer(await sendCode({ phone, requestId: `bad-${phone.replace(/\W/g, '')}` }))).toEqual({
        status: 400,
        body: { error: 'invalid_number', message: 'This is not a valid phone number.' },
      });
    }
    // A premium-rate number: the login profile denies PREMIUM_RATE.
    expect(answer(await sendCode({ phone: '+33899123456', requestId: 'premium-1' }))).toEqual({
      status: 403,
      body: { error: 'refused', message: 'We cannot send a code to this number.' },
    });
    for (const body of [
      { phone: '+33612910009' },
      { requestId: 'x' },
      { phone: 33612910009, requestId: 'x' },
      { phone: '+33612910009', requestId: 'x', locale: { a: 1 } },
      'not json',
    ]) {
      expect(answer(await sendCode(body))).toEqual({ status: 400, body: { error: 'invalid_request', message: 'Send a JSON body with phone and requestId.' } });
    }
    expect(await stack.waitForSms('+33612910009', 0)).toEqual([]);
  });
});

describe('Verify endpoint (POST /webhook/otp/verify)', () => {
  test('401 for a wrong code, 429 once the code is locked, 429 with Retry-After once the number is; a locked number gets no new code (429)', async () => {
    const phone = '+33612910003';
    expect((await sendCode({ phone, requestId: 'lock-1' })).status).toBe(202);
    const code = codeFrom((await stack.waitForSms(phone))[0].text);
    const wrong = code === '000000' ? '111111' : '000000';
    for (let i = 0; i < 2; i++) expect(answer(await verifyCode({ phone, code: wrong }))).toEqual({ status: 401, body: { valid: false } });
    // Two wrong codes lock this code: even the right one is refused now, and a new code is the way out.
    const codeLocked = await verifyCode({ phone, code });
    expect(answer(codeLocked)).toEqual({ status: 429, body: { valid: false, error: 'locked', message: 'Too many wrong codes: request a new code.' } });
    expect(codeLocked.headers.get('retry-after')).toBeNull();

    expect((await sendCode({ phone, requestId: 'lock-2' })).status).toBe(202);
    const code2 = codeFrom((await stack.waitForSms(phone, 2))[1].text);
    const wrong2 = code2 === '000000' ? '111111' : '000000';
    for (let i = 0; i < 2; i++) await verifyCode({ phone, code: wrong2 });
    // Four wrong codes lock the number until a time the caller is told.
    const locked = await verifyCode({ phone, code: code2 });
    expect(answer(locked)).toEqual({ status: 429, body: { valid: false, error: 'locked', retryAfterSeconds: expect.any(Number) } });
    expect(retryAfter(locked)).toBeGreaterThan(0);
    expect(Math.abs(retryAfter(locked) - (locked.body as { retryAfterSeconds: number }).retryAfterSeconds)).toBeLessThanOrEqual(1);
    const noNewCode = await sendCode({ phone, requestId: 'lock-3' });
    expect(answer(noNewCode)).toEqual({ status: 429, body: { error: 'try_later', retryAfterSeconds: expect.any(Number) } });
    expect(retryAfter(noNewCode)).toBeGreaterThan(0);
    expect(await stack.waitForSms(phone, 2)).toHaveLength(2);
  });

  test('401 for a number without a code, as for a wrong one; 400 for bad input, a phone that is no number included', async () => {
    expect(answer(await verifyCode({ phone: '+33612910004', code: '123456' }))).toEqual({ status: 401, body: { valid: false } });
    const bad = { valid: false, error: 'invalid_request', message: 'Send a JSON body with phone and code.' };
    for (const request of [
      { phone: '+33612910004' },
      { phone: '+33612910004', code: '' },
      { phone: '+33612910004', code: 'no!' },
      { code: '123456' },
      { phone: 'hello', code: '123456' },
    ]) {
      expect({ request, ...answer(await verifyCode(request)) }).toEqual({ request, status: 400, body: bad });
    }
  });
});

describe('Custom channel: code by email (POST /webhook/otp/email)', () => {
  test('202 with nothing internal; the email carries the code and a friendly expiry; the code verifies', async () => {
    const accepted = await emailCode({ userId: ALICE.userId, requestId: 'email-1' });
    expect(answer(accepted)).toEqual({ status: 202, body: { status: 'accepted', message: 'If the account exists, a code is on its way.' } });
    const [mail] = await waitForMail(ALICE.email, 1);
    expect(mail.text).toMatch(/^Your login code is \d{6}\. It expires in 5 minutes\. Never share it\.\s*$/);
    const code = /code is (\d{6})/.exec(mail.text)![1];
    expect(answer(await verifyCode({ phone: ALICE.phone, code }))).toEqual({ status: 200, body: { valid: true } });
    // No SMS: the custom channel hands the code to the flow only.
    expect(await stack.waitForSms(ALICE.phone, 0)).toEqual([]);
  });

  test('an unknown user gets the same 202 and no email; a malformed request 400', async () => {
    const before = (await waitForMail(ALICE.email, 0)).length;
    expect(answer(await emailCode({ userId: 'u-nobody', requestId: 'email-2' }))).toEqual({
      status: 202,
      body: { status: 'accepted', message: 'If the account exists, a code is on its way.' },
    });
    for (const request of [{ userId: ALICE.userId }, { requestId: 'x' }, { userId: 7, requestId: 'x' }]) {
      expect({ request, ...answer(await emailCode(request)) }).toEqual({
        request,
        status: 400,
        body: { error: 'invalid_request', message: 'Send a JSON body with userId and requestId.' },
      });
    }
    expect(await waitForMail(ALICE.email, 0)).toHaveLength(before);
  });

  test('n8n saves no execution data for it: its code is nowhere in the user folder, while a copy with saving on leaves it there', async () => {
    const before = (await waitForMail(ALICE.email, 0)).length;
    expect((await emailCode({ userId: ALICE.userId, requestId: 'email-unsaved' })).status).toBe(202);
    const unsaved = /code is (\d{6})/.exec((await waitForMail(ALICE.email, before + 1))[before].text)![1];
    // The control, after it: once n8n has saved the control's execution, it is done with the example's.
    expect((await server.post(pathOf(SAVED_EMAIL), { userId: ALICE.userId, requestId: 'email-saved' })).status).toBe(202);
    const saved = /code is (\d{6})/.exec((await waitForMail(ALICE.email, before + 2))[before + 1].text)![1];
    expect(saved).not.toBe(unsaved);
    await waitFor(
      () => inUserFolder(saved),
      (found) => found,
      'n8n to save the control execution',
      30_000,
      250,
    );
    expect({ saved: inUserFolder(saved) }).toEqual({ saved: true });
    expect({ unsaved: inUserFolder(unsaved) }).toEqual({ unsaved: false });
  });
});

/** Whether n8n's files (its sqlite database, its WAL, logs) hold the code as a number of its own. */
function inUserFolder(code: string): boolean {
  const pattern = new RegExp(`(^|[^0-9])${code}([^0-9]|$)`);
  const dir = join(n8n.userFolder, '.n8n');
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => !f.startsWith('nodes') && statSync(join(dir, f)).isFile());
  expect(files).toEqual(expect.arrayContaining(['database.sqlite']));
  return files.some((f) => pattern.test(readFileSync(join(dir, f)).toString('latin1')));
}

describe('outage: every example answers 503 with a small JSON body, never 2xx or valid', () => {
  const UNAVAILABLE = { error: 'unavailable', message: 'The service is unavailable. Try again later.' };
  test.each([
    ['login, Temporal unreachable', DOWN.login, { phone: '+33612910005', requestId: 'down-1' }],
    ['verify, Temporal unreachable', DOWN.verify, { phone: '+33612910005', code: '123456' }],
    ['email, Temporal unreachable', DOWN.email, { userId: ALICE.userId, requestId: 'down-2' }],
    ['email, SMTP unreachable', DOWN.smtp, { userId: ALICE.userId, requestId: 'down-3' }],
  ])('%s', async (_what, flow, request) => {
    const res = await server.post(pathOf(flow), request);
    expect(answer(res)).toEqual({ status: 503, body: UNAVAILABLE });
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(Number(res.headers.get('content-length'))).toBeLessThan(200);
  });
});
