/**
 * The STOP list as the workers keep it (activities/suppression-list.ts), on the real dev server:
 * a STOP or START applied by another worker reaches this worker's sends within its sync period
 * plus visibility lag, and a send asks Temporal itself when the copy is stale.
 * test/unit/suppression-list.test.ts covers the rules against a scripted visibility.
 */
import { OPT_OUT_WORKFLOW, optOutSignal } from '../contract';
import { optOutWorkflowId } from '../contract/keys';
import { startStack, type TestStack } from './helpers/stack';
import { until } from './helpers/smpp';
import { settleFor } from './helpers/wait';

const SYNC_MS = 200;
let stack: TestStack;

beforeAll(async () => {
  stack = await startStack({}, { OTP_SUPPRESSION_SYNC_MS: String(SYNC_MS) });
});
afterAll(async () => {
  await stack?.stop();
});

/** What another worker does on a STOP or START: the same calls as the applyOptOut activity. */
async function elsewhere(phone: string, optedOut: boolean): Promise<void> {
  const change = { optedOut, at: new Date().toISOString() };
  const workflowId = optOutWorkflowId(stack.config.keys.hash[0], phone);
  if (optedOut)
    await stack.otp.temporal.workflow.signalWithStart(OPT_OUT_WORKFLOW, {
      workflowId,
      taskQueue: stack.config.temporal.taskQueue,
      args: [change],
      signal: optOutSignal,
      signalArgs: [change],
    });
  else await stack.otp.temporal.workflow.getHandle(workflowId).signal(optOutSignal, change);
}

test("a STOP taken by another worker refuses this worker's sends within its sync period; a START lets them through again", async () => {
  const phone = '+33612377001';
  expect((await stack.otp.send(phone, { profile: 'fast' })).status).toBe('sent');
  await elsewhere(phone, true);
  const stopAt = Date.now();
  const id = optOutWorkflowId(stack.config.keys.hash[0], phone);
  // Once a read shows the entry, sends are refused with no SMS.
  await until(() => stack.worker.suppression.lookup([id]), 'the STOP to reach the worker', 10_000);
  const stopMs = Date.now() - stopAt;
  expect(await stack.otp.send(phone, { profile: 'fast' })).toMatchObject({ status: 'blocked', reason: 'opted_out' });
  expect(stack.sim.messages(phone)).toHaveLength(1);

  await elsewhere(phone, false);
  const startAt = Date.now();
  await until(() => stack.worker.suppression.lookup([id]) === false, 'the START to reach the worker', 10_000);
  expect((await stack.otp.send(phone, { profile: 'fast' })).status).toBe('sent');
  console.log(`suppression list (sync ${SYNC_MS} ms): a STOP from another worker applied after ${stopMs} ms, a START after ${Date.now() - startAt} ms`);
  expect(stack.sim.messages(phone)).toHaveLength(2);
  expect(stack.worker.suppression.stats()).toMatchObject({ failedReads: 0 });
});

test('a copy that has stopped reading answers nothing past 5 s, and the send asks Temporal: a STOP applies at once (fail closed)', async () => {
  const phone = '+33612377002';
  const { suppression } = stack.worker;
  suppression.close();
  try {
    await settleFor(5200, 'the rule under test: past the 5 s a copy that stopped reading may still answer');
    const before = suppression.stats().unanswered;
    await elsewhere(phone, true);
    // No read since the STOP: only a describe can know, and it does.
    expect(await stack.otp.send(phone, { profile: 'fast' })).toMatchObject({ status: 'blocked', reason: 'opted_out' });
    expect(stack.sim.messages(phone)).toHaveLength(0);
    expect(suppression.stats().unanswered).toBeGreaterThan(before);
  } finally {
    suppression.start();
  }
});
