/**
 * The session workflow alone, on the real time-skipping server with mocked
 * activities: what its main loop decides (retries, receipts found before a
 * retry, overloaded refusals) and what it costs in history events.
 */
import { randomUUID } from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { WithStartWorkflowOperation } from '@temporalio/client';
import {
  OTP_SESSION_WORKFLOW,
  SESSION_VERSION,
  deliveryReceiptSignal,
  sessionStartSearchAttributes,
  sendUpdate,
  statusQuery,
  verifyUpdate,
  type SendOtpRequest,
} from '../contract';
import type { OtpActivities, RetryCodeInput, RetryCodeResult, SendCodeInput, SendCodeResult } from '../activities/types';
import { PRESETS, sessionRules } from '../policy/profile';
import { OtpMetrics } from '../lib/metrics';
import { SESSION_EVENT_BUDGET, createTimeSkippingEnv, quietRuntime } from './helpers/stack';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  quietRuntime();
  env = await createTimeSkippingEnv();
}, 60_000);
afterAll(async () => {
  await env?.teardown();
});

const rules = sessionRules({ ...PRESETS.login, name: 'login', revision: 'test' });
const DIGEST = 'digest-of-the-code-0123456789';
const GOOD = 'sealed-good-code-0000000000';

interface Mocks {
  sends: SendCodeInput[];
  retries: RetryCodeInput[];
  sendResult?: (i: SendCodeInput) => SendCodeResult;
  retryResult?: (i: RetryCodeInput) => RetryCodeResult;
}

function activities(m: Mocks): OtpActivities {
  let n = 0;
  const unused = async (): Promise<never> => {
    throw new Error('not used by v2 sessions');
  };
  return {
    async sendCode(i) {
      m.sends.push(i);
      if (m.sendResult) return m.sendResult(i);
      return {
        status: 'ok',
        rules,
        render: { locale: 'en' } as never,
        country: 'FR',
        shadowFlags: [],
        maskedPhone: '+33••••••678',
        quota: null,
        digest: DIGEST,
        keyId: 'k1',
        segments: 1,
        encoding: 'GSM7',
        kind: 'sms',
        redeliver: false,
        route: 'smsc',
        messageIds: [`m${++n}`],
      };
    },
    async retryCode(i) {
      m.retries.push(i);
      if (m.retryResult) return m.retryResult(i);
      if (i.claimOnly) return { receipts: [] };
      return { dispatched: { route: 'smsc', codeDigest: DIGEST, keyId: 'k1', messageIds: [`r${++n}`], segments: 1, encoding: 'GSM7' } };
    },
    async deliverFallback() {
      return { channel: 'email', id: 'x' };
    },
    async deliverCallback() {
      return { status: 204 };
    },
    prepareSend: unused,
    acquireSendQuota: unused,
    dispatchCode: unused,
    describeCatalog: unused,
    describeProfileRevision: unused,
    applyOptOut: unused,
    postMobileOriginated: unused,
  };
}

async function withSession<T>(
  m: Mocks,
  fn: (h: { send: (r?: Partial<SendOtpRequest>) => Promise<unknown>; id: string; tq: string }) => Promise<T>,
): Promise<T> {
  const tq = `wf-${randomUUID()}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: tq,
    workflowBundle: { codePath: process.env.OTP_TEST_BUNDLE! },
    activities: activities(m),
    sinks: new OtpMetrics().sinks(),
  });
  const id = `otp-t-${randomUUID()}`;
  const send = (r: Partial<SendOtpRequest> = {}) =>
    env.client.workflow.executeUpdateWithStart(sendUpdate, {
      args: [{ phone: '+33612345678', ...r }],
      startWorkflowOperation: new WithStartWorkflowOperation(OTP_SESSION_WORKFLOW, {
        workflowId: id,
        taskQueue: tq,
        workflowIdConflictPolicy: 'USE_EXISTING',
        args: [{ tenant: 't', maskedPhone: '+33••••••678', v: SESSION_VERSION }],
        typedSearchAttributes: sessionStartSearchAttributes('t', '+33••••••678'),
      }),
    });
  return worker.runUntil(fn({ send, id, tq }));
}

test('no receipt: retries claim the unanswered messages, re-send at +20 s and +60 s, then stop', async () => {
  const m: Mocks = { sends: [], retries: [] };
  await withSession(m, async ({ send, id }) => {
    expect(await send()).toMatchObject({ status: 'sent', codeSeq: 1 });
    await env.sleep('21 seconds');
    await env.sleep('40 seconds');
    await env.sleep('10 minutes');
    // Each retry first claims (looks for receipts, sends nothing), then sends; the last one links at once.
    expect(m.retries.map((r) => [r.claimOnly ?? false, r.unanswered.map((u) => u.messageId), r.linkNow ?? false])).toEqual([
      [true, ['m1'], false],
      [false, [], false],
      [true, ['m1', 'r2'], false],
      [false, [], true],
    ]);
    const st = await env.client.workflow.getHandle(id).query(statusQuery);
    expect(st.events.filter((e) => e.type === 'retry')).toHaveLength(2);
  });
});

test('a final receipt found before the retry decides: nothing is re-sent', async () => {
  const m: Mocks = {
    sends: [],
    retries: [],
    retryResult: (i) => ({
      receipts: i.unanswered.map((u) => ({ messageId: u.messageId, stat: 'DELIVRD', outcome: 'delivered' as const, err: '000', receivedAt: '' })),
    }),
  };
  await withSession(m, async ({ send, id }) => {
    await send();
    await env.sleep('25 seconds');
    expect(m.retries).toHaveLength(1);
    const st = await env.client.workflow.getHandle(id).query(statusQuery);
    expect(st.code?.delivery).toBe('delivered');
    expect(st.events.some((e) => e.type === 'receipt' && e.detail.includes('found before a retry'))).toBe(true);
    await env.sleep('2 minutes');
    expect(m.retries).toHaveLength(1);
  });
});

test(`a receipt in time means no retry at all, and a send + receipt + verify session stays within ${SESSION_EVENT_BUDGET} events`, async () => {
  const m: Mocks = { sends: [], retries: [] };
  await withSession(m, async ({ send, id }) => {
    await send();
    const handle = env.client.workflow.getHandle(id);
    await handle.signal(deliveryReceiptSignal, { messageId: 'm1', stat: 'DELIVRD', outcome: 'delivered', err: '000', receivedAt: '', codeSeq: 1 });
    // No codec here: the test plays the worker's codec and hands the session the opened code.
    expect(
      await handle.executeUpdate(verifyUpdate, {
        args: [
          {
            sealedCode: GOOD,
            opened: { sealedFor: id, use: 'verify', sealedAtMs: await env.currentTimeMs(), sealId: 's1', digests: { k1: DIGEST }, fingerprint: 'f' },
          },
        ],
      }),
    ).toMatchObject({ valid: true, outcome: 'verified' });
    expect((await handle.describe()).historyLength).toBeLessThanOrEqual(SESSION_EVENT_BUDGET);
    await env.sleep('5 minutes');
    expect(m.retries).toHaveLength(0);
  });
});

test('a first send refused as overloaded leaves nothing behind: the session ends, and the next send starts afresh', async () => {
  const m: Mocks = { sends: [], retries: [], sendResult: () => ({ status: 'overloaded', reason: 'worker_busy', retryAfterSeconds: 1 }) };
  await withSession(m, async ({ send, id }) => {
    expect(await send({ idempotencyKey: 'k1' })).toMatchObject({ status: 'overloaded', reason: 'worker_busy' });
    const first = env.client.workflow.getHandle(id);
    await first.result();
    m.sendResult = undefined;
    // The same idempotency key gets a real try: an overloaded answer is never kept.
    expect(await send({ idempotencyKey: 'k1' })).toMatchObject({ status: 'sent', codeSeq: 1 });
  });
});
