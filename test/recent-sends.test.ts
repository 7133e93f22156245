/**
 * Recipients listing (issue 12 deliverable 6, the seed's recipients API): a tenant's recent sends
 * with masked number, delivery and verification state, paged and filtered, through the client and
 * the CLI; never another tenant's sessions, never a full number.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { OtpRequestError, type RecentSend, type RecentSendsPage } from '../client';
import { accepted, codeFrom, startStack, temporalAddress, type TestStack } from './helpers/stack';
import { until } from './helpers/smpp';

let stack: TestStack;
let other: TestStack;
const phones = ['+33612399001', '+33612399002', '+33612399003'];

beforeAll(async () => {
  stack = await startStack();
  other = await startStack();
  for (const p of phones) accepted(await stack.otp.send(p, { profile: 'fast' }));
  accepted(await other.otp.send('+33612399004', { profile: 'fast' }));
  await stack.otp.verify(phones[0], codeFrom((await stack.waitForSms(phones[0]))[0].text));
  // Visibility is eventually consistent: wait until the verify and the receipts show.
  await until(
    async () => {
      const page = await stack.otp.recentSends({ pageSize: 10 });
      return (
        page.sends.length === 3 &&
        page.sends.filter((s) => s.status === 'verified').length === 1 &&
        page.sends.filter((s) => s.status === 'delivered').length === 2
      );
    },
    'the sessions to show in visibility',
    15_000,
  );
});
afterAll(async () => {
  await stack?.stop();
  await other?.stop();
});

test("lists the tenant's sessions with masked numbers and their state, nothing of another tenant", async () => {
  const { sends, nextPageToken } = await stack.otp.recentSends({ pageSize: 10 });
  expect(nextPageToken).toBeNull();
  expect(sends.map((s) => s.sessionId).sort()).toEqual(phones.map((p) => stack.otp.sessionId(p)).sort());
  const first = sends.find((s) => s.sessionId === stack.otp.sessionId(phones[0]))!;
  expect(first).toMatchObject({
    maskedPhone: '+33••••••001',
    status: 'verified',
    delivery: 'delivered',
    channel: 'sms',
    profile: 'fast',
    countryCode: '33',
    closedAt: null,
  });
  expect(Date.parse(first.startedAt)).toBeGreaterThan(Date.now() - 120_000);
  expect(
    sends
      .filter((s) => s.status === 'delivered')
      .map((s) => s.maskedPhone)
      .sort(),
  ).toEqual(['+33••••••002', '+33••••••003']);
  for (const p of phones) expect(JSON.stringify(sends)).not.toContain(p.slice(1));
});

test('pages with a token, and filters by status and profile', async () => {
  const seen: RecentSend[] = [];
  let page: RecentSendsPage = await stack.otp.recentSends({ pageSize: 2 });
  expect(page.sends).toHaveLength(2);
  seen.push(...page.sends);
  expect(page.nextPageToken).toEqual(expect.any(String));
  page = await stack.otp.recentSends({ pageSize: 2, pageToken: page.nextPageToken! });
  seen.push(...page.sends);
  expect(new Set(seen.map((s) => s.sessionId)).size).toBe(3);
  expect((await stack.otp.recentSends({ status: 'verified' })).sends.map((s) => s.maskedPhone)).toEqual(['+33••••••001']);
  expect((await stack.otp.recentSends({ profile: 'login' })).sends).toEqual([]);
});

test('bad filters are typed errors that name the problem', async () => {
  await expect(stack.otp.recentSends({ status: 'sent' })).rejects.toThrow(OtpRequestError);
  await expect(stack.otp.recentSends({ status: 'sent' })).rejects.toThrow(/status must be one of pending/);
  await expect(stack.otp.recentSends({ profile: "x' OR 1=1" })).rejects.toThrow(/not a profile name/);
  await expect(stack.otp.recentSends({ pageSize: 0 })).rejects.toThrow(/pageSize must be an integer from 1 to 100/);
  await expect(stack.otp.recentSends({ tenant: 'a b' })).rejects.toThrow(/tenant "a b" is invalid/);
});

test('the CLI prints a page: npm run otp -- recent', async () => {
  const env = { ...process.env, TEMPORAL_ADDRESS: temporalAddress(), OTP_TASK_QUEUE: stack.config.temporal.taskQueue, OTP_TENANT: stack.config.tenant };
  const { stdout } = await promisify(execFile)(process.execPath, [join(__dirname, '..', 'dist', 'scripts', 'otp.js'), 'recent', '--status', 'verified'], {
    env,
  });
  const page = JSON.parse(stdout) as RecentSendsPage;
  expect(page.sends.map((s) => s.maskedPhone)).toEqual(['+33••••••001']);
});
