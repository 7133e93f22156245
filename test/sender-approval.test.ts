/**
 * Sender approval (issue 12) on the real dev server, the SMSC simulator and a worker with
 * OTP_SENDER_APPROVAL=required: only a revision another identity approved sends; the trail is in
 * the approval workflow's query and history, and survives continue-as-new.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { OtpRequestError, SENDER_APPROVAL_WORKFLOW, senderApprovalWorkflowId, type SenderApprovalInput, type SenderRevision } from '../client';
import { AesGcmPayloadCodec } from '../codec/payload-codec';
import { ProfileStore } from '../policy/store';
import { startWorker, type RunningOtpWorker } from '../worker';
import { accepted, startStack, TEST_PROFILES, type TestStack } from './helpers/stack';

const PROFILES = { ...TEST_PROFILES, shop: { extends: 'fast', senderId: 'ShopOTP' } };
let stack: TestStack;
let worker: RunningOtpWorker;

beforeAll(async () => {
  stack = await startStack({}, { OTP_SENDER_APPROVAL: 'required', OTP_PROFILES: JSON.stringify(PROFILES) });
  worker = stack.worker;
});
afterAll(async () => {
  await worker?.shutdown();
  await stack?.stop();
});

/** What the worker's cache holds after an approval change: refreshed now, as its timer would within OTP_SENDER_APPROVAL_SYNC_MS. */
const refreshed = () => worker.approvals!.sync();
const submitsTo = (phone: string) => stack.sim.submits.filter((s) => s.to === phone).length;

async function refusal(fn: () => Promise<unknown>): Promise<OtpRequestError> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof OtpRequestError) return err;
    throw err;
  }
  throw new Error('expected an OtpRequestError');
}

/** Update requests and answers in the approval workflow's history, decrypted with the payload keys. */
async function historyTrail(workflowId: string, runId?: string): Promise<{ accepted: { name: string; by: string }[]; completed: SenderRevision[] }> {
  const codec = new AesGcmPayloadCodec(stack.config.keys.payload);
  const decode = async (p: unknown): Promise<unknown> => {
    const [plain] = await codec.decode([p as never]);
    return JSON.parse(Buffer.from(plain.data!).toString());
  };
  const history = await stack.otp.temporal.workflow.getHandle(workflowId, runId).fetchHistory();
  const out = { accepted: [] as { name: string; by: string }[], completed: [] as SenderRevision[] };
  for (const e of history.events ?? []) {
    const acc = e.workflowExecutionUpdateAcceptedEventAttributes;
    if (acc)
      out.accepted.push({ name: acc.acceptedRequest!.input!.name!, by: ((await decode(acc.acceptedRequest!.input!.args!.payloads![0])) as { by: string }).by });
    const done = e.workflowExecutionUpdateCompletedEventAttributes;
    if (done?.outcome?.success) out.completed.push((await decode(done.outcome.success.payloads![0])) as SenderRevision);
  }
  return out;
}

describe('one tenant, one worker requiring approval', () => {
  const phone = '+33612710001';
  let loginHash = '';

  test('a revision nobody approved is refused with a typed reason, and nothing reaches the SMSC', async () => {
    const r = await stack.otp.send(phone, { profile: 'login' });
    expect(r).toMatchObject({ status: 'blocked', reason: 'sender_not_approved' });
    expect(r.profile).toMatch(/^login@[0-9a-f]{12}$/);
    expect(submitsTo(phone)).toBe(0);
    expect((await stack.otp.status(phone))?.events.map((e) => e.detail).join()).toContain('sender_not_approved');
  });

  test('a proposal records the workers’ revision; approving your own is refused and leaves no trace in history', async () => {
    const proposed = await stack.otp.proposeRevision('login', { by: 'alice@example.com', note: 'launch' });
    expect(proposed).toMatchObject({
      profile: 'login',
      state: 'proposed',
      proposedBy: 'alice@example.com',
      previous: null,
      senderId: 'OTPDemo',
      brand: 'Acme',
    });
    expect(proposed.contentHash).toMatch(/^[0-9a-f]{64}$/);
    loginHash = proposed.contentHash;

    const self = await refusal(() => stack.otp.approveRevision('login', loginHash, { by: 'Alice@Example.com' }));
    expect(self.type).toBe('SelfApproval');
    expect((await refusal(() => stack.otp.rejectRevision('login', loginHash, { by: 'alice@example.com' }))).type).toBe('SelfApproval');
    const { accepted: updates } = await historyTrail(senderApprovalWorkflowId(stack.config.tenant));
    expect(updates).toEqual([{ name: 'proposeRevision', by: 'alice@example.com' }]);

    // Still only proposed: not sent.
    await refreshed();
    expect(await stack.otp.send(phone)).toMatchObject({ status: 'blocked', reason: 'sender_not_approved' });
    expect(submitsTo(phone)).toBe(0);
  });

  test('approved by another identity, the revision sends; the trail shows who, when, the previous revision and the hash', async () => {
    const approved = await stack.otp.approveRevision('login', loginHash.slice(0, 12), { by: 'bob@example.com', note: 'carrier registered' });
    expect(approved).toMatchObject({
      state: 'approved',
      proposedBy: 'alice@example.com',
      decidedBy: 'bob@example.com',
      contentHash: loginHash,
      previous: null,
    });
    expect(Date.parse(approved.decidedAt!)).toBeGreaterThanOrEqual(Date.parse(approved.proposedAt));
    await refreshed();
    accepted(await stack.otp.send(phone));
    const [sms] = await stack.waitForSms(phone);
    expect(sms.from).toBe('OTPDemo');

    const list = await stack.otp.senderRevisions({ profile: 'login' });
    expect(list).toEqual([approved]);
    const { accepted: updates, completed } = await historyTrail(senderApprovalWorkflowId(stack.config.tenant));
    expect(updates).toEqual([
      { name: 'proposeRevision', by: 'alice@example.com' },
      { name: 'approveRevision', by: 'bob@example.com' },
    ]);
    expect(completed.map((r) => [r.state, r.contentHash, r.proposedBy, r.decidedBy ?? null])).toEqual([
      ['proposed', loginHash, 'alice@example.com', null],
      ['approved', loginHash, 'alice@example.com', 'bob@example.com'],
    ]);
  });

  test('a rejected revision is refused, and nothing is sent', async () => {
    const shopPhone = '+33612710002';
    const proposed = await stack.otp.proposeRevision('shop', { by: 'alice@example.com' });
    expect(proposed.senderId).toBe('ShopOTP');
    expect((await stack.otp.rejectRevision('shop', proposed.contentHash, { by: 'bob@example.com', note: 'ShopOTP not registered' })).state).toBe('rejected');
    await refreshed();
    expect(await stack.otp.send(shopPhone, { profile: 'shop' })).toMatchObject({ status: 'blocked', reason: 'sender_rejected' });
    expect(submitsTo(shopPhone)).toBe(0);
    // A rejected revision cannot then be approved: it must be proposed again.
    expect((await refusal(() => stack.otp.approveRevision('shop', proposed.contentHash, { by: 'carol@example.com' }))).type).toBe('InvalidState');
  });

  test('a changed sender is a new revision: refused until approved, its trail names the previous one', async () => {
    // Redeploy the worker with the login profile sending as another sender.
    await worker.shutdown();
    const changed = { ...PROFILES, login: { senderId: 'NewSender' } };
    worker = await startWorker(
      { ...stack.config, profiles: new ProfileStore(changed) },
      { workflowBundle: { codePath: process.env.OTP_TEST_BUNDLE! }, workerOptions: { shutdownGraceTime: '1 second' } },
    );
    await worker.smsc.ready(10_000);
    const phone2 = '+33612710003';
    expect(await stack.otp.send(phone2)).toMatchObject({ status: 'blocked', reason: 'sender_not_approved' });
    expect(submitsTo(phone2)).toBe(0);

    const proposed = await stack.otp.proposeRevision('login', { by: 'carol@example.com' });
    expect(proposed).toMatchObject({ senderId: 'NewSender', previous: loginHash, state: 'proposed' });
    expect(proposed.contentHash).not.toBe(loginHash);
    await stack.otp.approveRevision('login', proposed.contentHash, { by: 'bob@example.com' });
    await refreshed();
    accepted(await stack.otp.send(phone2));
    expect((await stack.waitForSms(phone2))[0].from).toBe('NewSender');
  });
});

test('the trail survives continue-as-new: carried to the next run, the earlier run’s history kept', async () => {
  const tenant = `can${randomUUID().slice(0, 8)}`;
  const workflowId = senderApprovalWorkflowId(tenant);
  // Two changes per run, so the approval below moves the trail to a second run.
  const input: SenderApprovalInput = { tenant, changesPerRun: 2 };
  const first = await stack.otp.temporal.workflow.start(SENDER_APPROVAL_WORKFLOW, { workflowId, taskQueue: stack.config.temporal.taskQueue, args: [input] });
  const proposed = await stack.otp.proposeRevision('fast', { tenant, by: 'alice' });
  await stack.otp.approveRevision('fast', proposed.contentHash, { tenant, by: 'bob' });
  await stack.otp.proposeRevision('shop', { tenant, by: 'alice' });

  const trail = await stack.otp.senderRevisions({ tenant });
  expect(trail.map((r) => [r.profile, r.state, r.proposedBy, r.decidedBy ?? null])).toEqual([
    ['fast', 'approved', 'alice', 'bob'],
    ['shop', 'proposed', 'alice', null],
  ]);
  const { runId } = await stack.otp.temporal.workflow.getHandle(workflowId).describe();
  expect(runId).not.toBe(first.firstExecutionRunId);
  expect((await historyTrail(workflowId, first.firstExecutionRunId)).accepted).toEqual([
    { name: 'proposeRevision', by: 'alice' },
    { name: 'approveRevision', by: 'bob' },
  ]);
  // Sends of this tenant read the carried trail.
  const phone = '+33612710004';
  accepted(await stack.otp.send(phone, { tenant, profile: 'fast' }));
  expect((await stack.otp.send('+33612710005', { tenant, profile: 'shop' })).status).toBe('blocked');
});

test('the CLI proposes, refuses a self-approval with the typed error on stderr, approves and lists', async () => {
  const tenant = `cli${randomUUID().slice(0, 8)}`;
  const env = { ...process.env, TEMPORAL_ADDRESS: stack.config.temporal.address, OTP_TASK_QUEUE: stack.config.temporal.taskQueue, OTP_TENANT: tenant };
  const cli = (...args: string[]) =>
    new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      execFile(process.execPath, [join(__dirname, '..', 'dist', 'scripts', 'otp.js'), 'profile', ...args], { env }, (error, out, err) =>
        resolve({ code: error ? (error.code as number) : 0, out, err }),
      );
    });
  const proposed = await cli('propose', 'fast', '--by', 'alice@example.com');
  expect(proposed.code).toBe(0);
  const hash = (JSON.parse(proposed.out) as SenderRevision).contentHash;
  const self = await cli('approve', 'fast', hash.slice(0, 10), '--by', 'alice@example.com');
  expect(self.code).toBe(1);
  expect(JSON.parse(self.err)).toMatchObject({ error: 'OtpRequestError', type: 'SelfApproval', message: expect.stringContaining('cannot approve it') });
  expect((await cli('approve', 'fast', hash.slice(0, 10), '--by', 'bob@example.com')).code).toBe(0);
  const list = JSON.parse((await cli('list', 'fast')).out) as SenderRevision[];
  expect(list.map((r) => [r.state, r.proposedBy, r.decidedBy])).toEqual([['approved', 'alice@example.com', 'bob@example.com']]);
});
