/**
 * Expiry needs minutes of timers, so it runs on the real time-skipping test
 * server (temporal-test-server from PyPI): ten minutes pass in milliseconds.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { OtpClient } from '../client';
import { accepted, codeFrom, startTimeSkippingStack, type TestStack } from './helpers/stack';
import { waitFor } from './helpers/wait';

let env: TestWorkflowEnvironment;
let sim: TestStack['sim'];
let otp: OtpClient;
let stack: Awaited<ReturnType<typeof startTimeSkippingStack>>;

beforeAll(async () => {
  stack = await startTimeSkippingStack();
  ({ env, sim, otp } = stack);
});

afterAll(async () => {
  await stack?.stop();
});

/**
 * Waits in real time for the receipt to mark the code delivered. Tests skip time only after it:
 * a receipt landing mid-skip cancels the receipt timer the skip just fired, and the time-skipping
 * server strands a run whose task cancels a timer that fired while the task was out
 * ("invalid history builder state for action"; sdk-java#3088).
 */
async function delivered(phone: string): Promise<void> {
  await waitFor(
    async () => (await otp.status(phone))?.code?.delivery,
    (delivery) => delivery === 'delivered',
    'the receipt',
    5000,
    20,
  );
}

test('a code stops verifying once its TTL has passed', async () => {
  const phone = '+33612349001';
  const sent = accepted(await otp.send(phone));
  const code = codeFrom(sim.messages(phone)[0].text);
  await delivered(phone);
  const before = await env.currentTimeMs();
  await env.sleep('6 minutes');
  expect((await env.currentTimeMs()) - before).toBeGreaterThanOrEqual(6 * 60 * 1000);
  expect(Date.parse(sent.expiresAt)).toBeLessThan(await env.currentTimeMs());
  const result = await otp.verify(phone, code);
  expect(result).toMatchObject({ valid: false, outcome: 'expired' });
});

test('a code verified just before its TTL still works', async () => {
  const phone = '+33612349002';
  await otp.send(phone);
  const code = codeFrom(sim.messages(phone)[0].text);
  await delivered(phone);
  await env.sleep('4 minutes');
  expect(await otp.verify(phone, code)).toMatchObject({ valid: true, outcome: 'verified' });
});

test('a session stays 24 h after its last send, then closes; verify then answers not_found', async () => {
  const phone = '+33612349003';
  await otp.send(phone, { profile: 'fast-ttl60' });
  const code = codeFrom(sim.messages(phone)[0].text);
  await delivered(phone);
  await env.sleep('2 hours');
  expect(await otp.verify(phone, code)).toMatchObject({ valid: false, outcome: 'expired' });
  await env.sleep('23 hours');
  expect(await otp.verify(phone, code)).toMatchObject({ valid: false, outcome: 'not_found' });
});

test('an idempotency key holds for 24 hours: the same answer and no second SMS', async () => {
  const phone = '+33612349004';
  const first = accepted(await otp.send(phone, { idempotencyKey: 'signup-77' }));
  await delivered(phone); // else time skipping outruns the receipt and the staggered retries fire
  await env.sleep('23 hours');
  expect(await otp.send(phone, { idempotencyKey: 'signup-77' })).toEqual(first);
  expect(sim.messages(phone)).toHaveLength(1);
});

test('continue-as-new keeps the session: codes, idempotency keys and the resend window survive it', async () => {
  const phone = '+33612349005';
  // Many wrong verifies (each one a history event pair) push the session past its history budget.
  const first = accepted(await otp.send(phone, { profile: 'fast', idempotencyKey: 'can-1' }));
  const code = codeFrom(sim.messages(phone)[0].text);
  const wrong = code === '000000' ? '111111' : '000000';
  const handle = otp.temporal.workflow.getHandle(first.sessionId);
  const runBefore = (await handle.describe()).runId;
  for (let i = 0; i < 1100; i++) await otp.verify(phone, wrong, { idempotencyKey: `v-${i}` }).catch(() => undefined);
  await env.sleep('1 second');
  const runAfter = (await otp.temporal.workflow.getHandle(first.sessionId).describe()).runId;
  expect(runAfter).not.toBe(runBefore);
  expect(await otp.send(phone, { profile: 'fast', idempotencyKey: 'can-1' })).toEqual(first);
  const status = await otp.status(phone);
  expect(status?.code).toMatchObject({ seq: 1, state: 'locked' });
}, 120_000);
