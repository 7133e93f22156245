/**
 * The send path under the hot-path design (issue 8), on the real dev server
 * and the simulator: history events per session across every workflow it
 * touches, receipts paired without a mailbox workflow, typed `overloaded`
 * refusals from the worker's admission control and the client's bound.
 */
import { randomUUID } from 'node:crypto';
import { WithStartWorkflowOperation } from '@temporalio/client';
import { OTP_SESSION_WORKFLOW, sendUpdate, velocityShardId, velocitySnapshotQuery, type SendOtpResult } from '../client';
import { shardOf } from '../policy/velocity';
import { SESSION_WORKFLOW_TASK_TIMEOUT_MS } from '../contract';
import { SESSION_EVENT_BUDGET, accepted, codeFrom, startStack, type TestStack } from './helpers/stack';
import { waitFor } from './helpers/wait';

let stack: TestStack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

/** Every workflow on the stack's task queue, with its history length. */
async function workflowsOf(s: TestStack): Promise<{ type: string; id: string; events: number }[]> {
  const out: { type: string; id: string; events: number }[] = [];
  for await (const wf of s.otp.temporal.workflow.list({ query: `TaskQueue = '${s.config.temporal.taskQueue}'` })) {
    const d = await s.otp.temporal.workflow.getHandle(wf.workflowId, wf.runId).describe();
    out.push({ type: wf.type, id: wf.workflowId, events: d.historyLength });
  }
  return out;
}

test(`send + receipt + verify costs at most ${SESSION_EVENT_BUDGET} history events per session (+1 for the velocity shards), over every workflow it touches`, async () => {
  stack = await startStack();
  const s = stack;
  const phones = Array.from({ length: 10 }, (_, i) => `+3361270000${i}`);
  await Promise.all(phones.map((p) => s.otp.send(p).then(accepted)));
  for (const p of phones)
    await waitFor(
      () => s.otp.status(p),
      (st) => st?.code?.delivery === 'delivered',
      `delivery to ${p}`,
    );
  for (const p of phones) {
    const [sms] = await s.waitForSms(p);
    expect(await s.otp.verify(p, codeFrom(sms.text))).toMatchObject({ valid: true });
  }
  // The velocity report of these sends lands (every send counts under the tenant-rate key), then everything on the task queue is counted.
  const shard = s.otp.temporal.workflow.getHandle(velocityShardId(s.config.tenant, shardOf('tenant', s.config.velocity.shards)));
  await waitFor(
    () => shard.query(velocitySnapshotQuery, ['tenant']).catch(() => undefined),
    (snapshot) => snapshot?.counts.tenant === phones.length,
    'the velocity report of the sends',
    20_000,
    200,
  );
  // Started with the sessions' own task timeout: a task caught by a worker crash is retried after 4 s, not 10 s.
  const described = await s.otp.temporal.workflow.getHandle(s.otp.sessionId(phones[0])).describe();
  const taskTimeout = described.raw.executionConfig?.defaultWorkflowTaskTimeout;
  expect(Number(taskTimeout?.seconds ?? 0) * 1000 + (taskTimeout?.nanos ?? 0) / 1e6).toBe(SESSION_WORKFLOW_TASK_TIMEOUT_MS);
  const ids = new Set(phones.map((p) => s.otp.sessionId(p)));
  const all = await waitFor(
    () => workflowsOf(s),
    (w) => w.filter((x) => ids.has(x.id)).length === phones.length,
    'visibility to list the sessions',
  );
  const total = all.reduce((n, w) => n + w.events, 0);
  // Receipts came back to the worker that submitted: no mailbox workflow at all.
  expect(all.filter((w) => w.type === 'deliveryReceiptMailbox')).toEqual([]);
  expect(s.worker.links.stats.direct).toBeGreaterThanOrEqual(phones.length);
  expect(all.filter((w) => w.type === 'otpVelocityShard').length).toBeGreaterThanOrEqual(1);
  const perSession = total / phones.length;
  console.log(`history events per session: ${perSession} (${all.map((w) => `${w.type}:${w.events}`).join(', ')})`);
  // The velocity shards' reports, shared by the sessions, add under one event each.
  expect(perSession).toBeLessThanOrEqual(SESSION_EVENT_BUDGET + 1);
  for (const w of all.filter((x) => x.type === OTP_SESSION_WORKFLOW)) expect(w.events).toBeLessThanOrEqual(SESSION_EVENT_BUDGET);
}, 90_000);

test('a worker past its bound refuses a send at once as overloaded, and sends nothing for it', async () => {
  stack = await startStack({ behaviours: { '+33612710001': 'slow' }, slowResponseMs: 2500 }, { OTP_MAX_SENDS_IN_FLIGHT: '1' });
  const s = stack;
  const slow = s.otp.send('+33612710001');
  await waitFor(
    async () => s.worker.admission.current,
    (n) => n === 1,
    'the slow send to hold the only slot',
  );
  const t0 = Date.now();
  const refused = await s.otp.send('+33612710002');
  expect(Date.now() - t0).toBeLessThan(2000);
  expect(refused).toMatchObject({ status: 'overloaded', reason: 'worker_busy', retryAfterSeconds: 1 });
  expect(s.sim.messages('+33612710002')).toHaveLength(0);
  accepted(await slow);
  // The refusal left nothing behind: the same number sends at once afterwards.
  accepted(await s.otp.send('+33612710002'));

  // On a session already open, a busy answer is not kept under the caller's idempotency key:
  // retrying with the same key (as n8n's Retry On Fail does) gets a real try.
  const open = '+33612710003';
  accepted(await s.otp.send(open, { profile: 'fast' }));
  const slowAgain = s.otp.send('+33612710001', { profile: 'fast' });
  await waitFor(
    async () => s.worker.admission.current,
    (n) => n === 1,
    'the slow send to hold the only slot again',
  );
  expect(await s.otp.send(open, { profile: 'fast', idempotencyKey: 'retry-me' })).toMatchObject({ status: 'overloaded', reason: 'worker_busy' });
  accepted(await slowAgain);
  expect(await s.otp.send(open, { profile: 'fast', idempotencyKey: 'retry-me' })).toMatchObject({ status: 'sent', codeSeq: 2 });
  expect(await s.otp.send(open, { profile: 'fast', idempotencyKey: 'retry-me' })).toMatchObject({ status: 'sent', codeSeq: 2 });
}, 60_000);

test('a send whose request waited longer than OTP_MAX_SEND_WAIT_MS is refused, not sent late; an idempotent retry gets a real try', async () => {
  stack = await startStack({}, { OTP_MAX_SEND_WAIT_MS: '1000' });
  const s = stack;
  const phone = '+33612720001';
  const key = randomUUID();
  const stale = async (requestedAt: string): Promise<SendOtpResult> => {
    return s.otp.temporal.workflow.executeUpdateWithStart(sendUpdate, {
      args: [{ phone, idempotencyKey: key, requestedAt }],
      updateId: `${key}-${requestedAt}`,
      startWorkflowOperation: new WithStartWorkflowOperation(OTP_SESSION_WORKFLOW, {
        workflowId: s.otp.sessionId(phone),
        taskQueue: s.config.temporal.taskQueue,
        workflowIdConflictPolicy: 'USE_EXISTING',
        args: [{ tenant: s.config.tenant, maskedPhone: '+33••••••001', v: 2 }],
      }),
    });
  };
  expect(await stale(new Date(Date.now() - 5000).toISOString())).toMatchObject({ status: 'overloaded', reason: 'request_too_old' });
  expect(s.sim.messages(phone)).toHaveLength(0);
  expect(await stale(new Date().toISOString())).toMatchObject({ status: 'sent' });
  expect(s.sim.messages(phone)).toHaveLength(1);
}, 60_000);

test('the client refuses past its own bound without calling Temporal', async () => {
  stack = await startStack({}, { OTP_CLIENT_MAX_SENDS_IN_FLIGHT: '2' });
  const s = stack;
  const results = await Promise.all(['+33612730001', '+33612730002', '+33612730003'].map((p) => s.otp.send(p)));
  expect(results.map((r) => r.status).sort()).toEqual(['overloaded', 'sent', 'sent']);
  const refused = results.find((r) => r.status === 'overloaded');
  expect(refused).toMatchObject({ reason: 'client_busy', retryAfterSeconds: 1 });
});
