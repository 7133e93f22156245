/**
 * docs/operations.md, "Resetting a session": a reset replays history up to a
 * workflow task and runs on from there, re-applying the signals and updates
 * that came after it. On the real dev server: a reset after the send replays
 * the send from its marker, and a reset before it re-runs the send update,
 * which the worker refuses as request_too_old. Either way, one SMS.
 */
import { randomUUID } from 'node:crypto';
import Long from 'long';
import { temporal } from '@temporalio/proto';
import { OTP_SEARCH_ATTRIBUTES } from '../contract';
import { accepted, codeFrom, startStack, type TestStack } from './helpers/stack';
import { settleFor, waitFor } from './helpers/wait';
import { DEFAULT_MAX_SEND_WAIT_MS } from '../activities/admission';

const { EventType } = temporal.api.enums.v1;
let stack: TestStack;
beforeAll(async () => {
  // The product's default wait (test stacks allow more): the guard a reset to before the send relies on.
  stack = await startStack({}, { OTP_MAX_SEND_WAIT_MS: String(DEFAULT_MAX_SEND_WAIT_MS) });
}, 60_000);
afterAll(async () => {
  await stack?.stop();
});

/** Sends a code and waits for its receipt; returns the session id and the code from the one SMS. */
async function deliveredSession(phone: string): Promise<{ id: string; code: string }> {
  accepted(await stack.otp.send(phone));
  await waitFor(
    async () => (await stack.otp.status(phone))?.code?.delivery,
    (delivery) => delivery === 'delivered',
    'the DELIVRD receipt',
    10_000,
  );
  const [sms] = await stack.waitForSms(phone);
  return { id: stack.otp.sessionId(phone), code: codeFrom(sms.text) };
}

/** Resets as the Web UI and `temporal workflow reset` do, to a WorkflowTaskCompleted event, re-applying signals and updates (the default). */
async function reset(id: string, pick: (completedTaskEventIds: number[], events: temporal.api.history.v1.IHistoryEvent[]) => number): Promise<string> {
  const handle = stack.otp.temporal.workflow.getHandle(id);
  const events = (await handle.fetchHistory()).events ?? [];
  const completed = events.filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED).map((e) => Number(e.eventId));
  const { runId } = await handle.describe();
  const res: temporal.api.workflowservice.v1.IResetWorkflowExecutionResponse = await stack.otp.temporal.workflowService.resetWorkflowExecution({
    namespace: stack.config.temporal.namespace,
    workflowExecution: { workflowId: id, runId },
    workflowTaskFinishEventId: Long.fromNumber(pick(completed, events)),
    reason: 'ops: test reset',
    requestId: randomUUID(),
  });
  const newRunId = res.runId ?? '';
  // The new run has run on once a workflow task completes after the reset point (its WorkflowTaskFailed).
  const handleNew = stack.otp.temporal.workflow.getHandle(id, newRunId);
  await waitFor(
    async () => {
      const now = (await handleNew.fetchHistory()).events ?? [];
      const resetAt = Number(now.find((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED)?.eventId ?? Infinity);
      return now.some((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED && Number(e.eventId) > resetAt);
    },
    (ranOn) => ranOn,
    'the new run to complete a workflow task after the reset point',
    10_000,
    100,
  );
  return newRunId;
}

test('reset to the last workflow task (the Web UI default for a stuck session): no second SMS, and the code sent still verifies', async () => {
  const phone = '+33612840001';
  const { id, code } = await deliveredSession(phone);
  const runId = await reset(id, (completed) => completed[completed.length - 1]);
  await settleFor(1500, 'negative check: give a second SMS from the new run time to show');
  expect(stack.sim.messages(phone)).toHaveLength(1);
  const d = await stack.otp.temporal.workflow.getHandle(id).describe();
  expect(d.runId).toBe(runId);
  // Search attributes come along with the new run.
  expect(d.typedSearchAttributes.get(OTP_SEARCH_ATTRIBUTES.status)).toBe('delivered');
  expect(await stack.otp.verify(phone, code)).toMatchObject({ valid: true, outcome: 'verified' });
  expect(stack.sim.messages(phone)).toHaveLength(1);
}, 60_000);

test('reset to before the send (the first workflow task): the re-applied send is refused as request_too_old, so no second SMS', async () => {
  const phone = '+33612840002';
  const { id } = await deliveredSession(phone);
  await settleFor(2000, 'the rule under test: past OTP_MAX_SEND_WAIT_MS (1.5 s), what makes a re-run send refuse itself');
  await reset(id, (completed, events) => {
    const marker = events.find((e) => e.eventType === EventType.EVENT_TYPE_MARKER_RECORDED);
    const before = completed.filter((n) => n < Number(marker?.eventId));
    expect(before.length).toBeGreaterThan(0);
    return before[0];
  });
  await settleFor(1500, 'negative check: give a second SMS from the re-applied send time to show');
  expect(stack.sim.messages(phone)).toHaveLength(1);
  const st = await stack.otp.status(phone);
  expect(st?.code).toBeUndefined();
  expect(st?.events.some((e) => e.type === 'refused' && e.detail.includes('request_too_old'))).toBe(true);
}, 60_000);
