/**
 * Records workflow histories for the replay tests (test/replay.test.ts).
 * Starts its own dev server, simulator and worker, runs fixed scenarios, and
 * writes test/histories/<name>.history.pb. Re-record only when adding a scenario
 * or a workflow version (the files of v0.1 stay: new code must replay them).
 *
 *   npm run build && node dist/scripts/record-histories.js [session-v3] [sender-approval]
 *
 * Naming groups records only those (a new scenario without re-recording the others).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';
import { startLocalStack } from '../lib/local-stack';
import { SENDER_APPROVAL_WORKFLOW, senderApprovalWorkflowId, type SenderApprovalInput } from '../contract';
import { PROJECT_ROOT } from '../lib/temporal-server';

const only = process.argv.slice(2);
const want = (group: string) => only.length === 0 || only.includes(group);

async function main(): Promise<void> {
  // Dev keys on purpose: the replay test must be able to decode these histories.
  const stack = await startLocalStack({
    // Every message also linked in its mailbox, so a mailbox history exists to record.
    env: { OTP_TASK_QUEUE: 'otp-record', OTP_RECEIPT_LINK_AFTER_MS: '0', OTP_PROFILES: JSON.stringify({ 'lockout-fast': { resendCooldownSeconds: 0, maxAttempts: 2, maxFailures: 3 } }) },
  });
  const { sim, otp } = stack;
  const out = join(PROJECT_ROOT, 'test', 'histories');
  const codeOf = (phone: string, i = 0) => /code is (\d+)/.exec(sim.messages(phone)[i].text)![1];
  const save = async (name: string, workflowId: string, runId?: string) => {
    const history = await otp.temporal.workflow.getHandle(workflowId, runId).fetchHistory();
    // Binary protobuf: exact, and what `History.decode` reads back in the replay test.
    writeFileSync(join(out, `${name}.history.pb`), temporal.api.history.v1.History.encode(temporal.api.history.v1.History.fromObject(history)).finish());
    console.log(`recorded ${name} (${history.events?.length} events)`);
  };
  try {
    if (want('sender-approval')) {
      // Sender approval: propose, a refused self-approval (not in history), approve, propose, reject; the fourth change continues as new.
      const input: SenderApprovalInput = { tenant: 'default', changesPerRun: 4 };
      const first = await otp.temporal.workflow.start(SENDER_APPROVAL_WORKFLOW, { workflowId: senderApprovalWorkflowId('default'), taskQueue: stack.config.temporal.taskQueue, args: [input] });
      const login = await otp.proposeRevision('login', { by: 'alice@example.com', note: 'recorded' });
      await otp.approveRevision('login', login.contentHash, { by: 'alice@example.com' }).catch(() => undefined);
      await otp.approveRevision('login', login.contentHash, { by: 'bob@example.com' });
      const fast = await otp.proposeRevision('lockout-fast', { by: 'alice@example.com' });
      await otp.rejectRevision('lockout-fast', fast.contentHash, { by: 'bob@example.com', note: 'recorded' });
      await otp.senderRevisions();
      await save('sender-approval', first.workflowId, first.firstExecutionRunId);
    }
    if (!want('session-v3')) return;
    // v3 (sealed codes, session lockout, purpose binding). The v0.1 and v2 files stay as recorded.
    // 1. send, receipt, a wrong code, the right code under an idempotency key, its replay, then a wrong code under it.
    const p1 = '+33612000011';
    const s1 = await otp.send(p1);
    if (s1.status !== 'sent') throw new Error(`send refused: ${s1.reason}`);
    await new Promise((r) => setTimeout(r, 300));
    const wrong = (p: string) => (codeOf(p) === '000000' ? '111111' : '000000');
    await otp.verify(p1, wrong(p1));
    await otp.verify(p1, codeOf(p1), { idempotencyKey: 'v-1' });
    await otp.verify(p1, codeOf(p1), { idempotencyKey: 'v-1' });
    await otp.verify(p1, wrong(p1), { idempotencyKey: 'v-1' });
    // 2. the lockout across resends: a code locks, a resend, one more wrong code locks the session, a send is refused.
    const p2 = '+33612000012';
    await otp.send(p2, { profile: 'lockout-fast' });
    await new Promise((r) => setTimeout(r, 300));
    await otp.verify(p2, wrong(p2));
    await otp.verify(p2, wrong(p2));
    await otp.send(p2, { profile: 'lockout-fast' });
    await new Promise((r) => setTimeout(r, 300));
    await otp.verify(p2, '00000000');
    await otp.send(p2, { profile: 'lockout-fast' });
    // 3. a transaction code: a login verify is refused (purpose), then the right context verifies.
    const p3 = '+33612000013';
    await otp.send(p3, { profile: 'transaction', context: 'Pay €500 to Alice' });
    await new Promise((r) => setTimeout(r, 300));
    await otp.verify(p3, codeOf(p3));
    await otp.verify(p3, codeOf(p3), { purpose: 'transaction', context: 'Pay €500 to Alice' });
    // 4. no receipt: the staggered retry at +20 s claims (finds nothing), is charged to the tenant and re-sends.
    const p4 = '+33612000014';
    sim.setBehaviour(p4, 'no_receipt');
    await otp.send(p4);
    await new Promise((r) => setTimeout(r, 21_500));
    await otp.verify(p4, codeOf(p4));
    await save('session-v3-verified-idempotent', s1.sessionId!);
    await save('session-v3-lockout', otp.sessionId(p2));
    await save('session-v3-transaction', otp.sessionId(p3));
    await save('session-v3-retried', otp.sessionId(p4));
  } finally {
    await stack.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
