/**
 * Records workflow histories for the replay tests (test/replay.test.ts).
 * Starts its own dev server, simulator and worker, runs the named scenarios,
 * and writes test/histories/<name>.history.pb. Record only a scenario you add
 * (or a new workflow version): the files of earlier versions stay as they are,
 * because today's code must keep replaying them. Without names it lists them.
 *
 *   npm run build && node dist/scripts/record-histories.js <name>…
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';
import { startLocalStack, type LocalStack } from '../dev/local-stack';
import { SENDER_APPROVAL_WORKFLOW, senderApprovalWorkflowId, type SenderApprovalInput } from '../contract';
import { PROJECT_ROOT } from '../dev/temporal-server';

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Each scenario runs on the shared stack and returns the workflow id (and run, if not the latest) whose history is saved under its name. */
const SCENARIOS: Record<string, (stack: LocalStack) => Promise<string | { workflowId: string; runId: string }>> = {
  // Sender approval: propose, a refused self-approval (not in history), approve, propose, reject; the fourth change continues as new.
  'sender-approval': async ({ otp, config }) => {
    const input: SenderApprovalInput = { tenant: 'default', changesPerRun: 4 };
    const first = await otp.temporal.workflow.start(SENDER_APPROVAL_WORKFLOW, {
      workflowId: senderApprovalWorkflowId('default'),
      taskQueue: config.temporal.taskQueue,
      args: [input],
    });
    const login = await otp.proposeRevision('login', { by: 'alice@example.com', note: 'recorded' });
    await otp.approveRevision('login', login.contentHash, { by: 'alice@example.com' }).catch(() => undefined);
    await otp.approveRevision('login', login.contentHash, { by: 'bob@example.com' });
    const fast = await otp.proposeRevision('lockout-fast', { by: 'alice@example.com' });
    await otp.rejectRevision('lockout-fast', fast.contentHash, { by: 'bob@example.com', note: 'recorded' });
    await otp.senderRevisions();
    return { workflowId: first.workflowId, runId: first.firstExecutionRunId };
  },
  // v3 (sealed codes, session lockout, purpose binding), recorded before search attributes (recorded again now, they would hold its marker).
  // Send, receipt, a wrong code, the right code under an idempotency key, its replay, then a wrong code under it.
  'session-v3-verified-idempotent': async ({ otp, sim }) => {
    const p = '+33612000011';
    const s = await otp.send(p);
    if (s.status !== 'sent') throw new Error(`send refused: ${s.reason}`);
    await pause(300);
    await otp.verify(p, wrong(sim, p));
    await otp.verify(p, codeOf(sim, p), { idempotencyKey: 'v-1' });
    await otp.verify(p, codeOf(sim, p), { idempotencyKey: 'v-1' });
    await otp.verify(p, wrong(sim, p), { idempotencyKey: 'v-1' });
    return otp.sessionId(p);
  },
  // The lockout across resends: a code locks, a resend, one more wrong code locks the session, a send is refused.
  'session-v3-lockout': async ({ otp, sim }) => {
    const p = '+33612000012';
    await otp.send(p, { profile: 'lockout-fast' });
    await pause(300);
    await otp.verify(p, wrong(sim, p));
    await otp.verify(p, wrong(sim, p));
    await otp.send(p, { profile: 'lockout-fast' });
    await pause(300);
    await otp.verify(p, '00000000');
    await otp.send(p, { profile: 'lockout-fast' });
    return otp.sessionId(p);
  },
  // A transaction code: a login verify is refused (purpose), then the right context verifies.
  'session-v3-transaction': async ({ otp, sim }) => {
    const p = '+33612000013';
    await otp.send(p, { profile: 'transaction', context: 'Pay €500 to Alice' });
    await pause(300);
    await otp.verify(p, codeOf(sim, p));
    await otp.verify(p, codeOf(sim, p), { purpose: 'transaction', context: 'Pay €500 to Alice' });
    return otp.sessionId(p);
  },
  // No receipt: the staggered retry at +20 s claims (finds nothing), is charged to the tenant and re-sends.
  'session-v3-retried': async ({ otp, sim }) => {
    const p = '+33612000014';
    sim.setBehaviour(p, 'no_receipt');
    await otp.send(p);
    await pause(21_500);
    await otp.verify(p, codeOf(sim, p));
    return otp.sessionId(p);
  },
  // Search attributes (issue 12), recorded by a v3 client: the patch marker, then an upsert per change: sent (pending), delivered, a wrong code (no change), verified.
  'session-search-attributes': (stack) => sendWrongThenRight(stack, '+33612000015'),
  // v4: the same steps, the upserts without the patch marker.
  'session-v4-verified': (stack) => sendWrongThenRight(stack, '+33612000017'),
  // v5 (the client's version since): indexed at start; no upsert after the send, one after the receipt, one after the verify.
  'session-v5-verified': (stack) => sendWrongThenRight(stack, '+33612000018'),
  // v5 without a receipt: the send writes nothing, the retry at +20 s writes the pending code's details, then the verify.
  'session-v5-retried': async ({ otp, sim }) => {
    const p = '+33612000019';
    sim.setBehaviour(p, 'no_receipt');
    await otp.send(p);
    await pause(21_500);
    await otp.verify(p, codeOf(sim, p));
    return otp.sessionId(p);
  },
  // v6: UNDELIV with an email fallback pending: the same code by email at once, no staggered SMS retry; the emailed code verifies.
  'session-v6-escalated': async ({ otp, sim }) => {
    const p = '+33612000020';
    sim.setBehaviour(p, 'undeliverable');
    await otp.send(p, { profile: 'mailed', email: 'user@example.com' });
    for (let i = 0; i < 100 && !sim.mailTo('user@example.com').length; i++) await pause(100);
    await otp.verify(p, /code is (\d+)/.exec(sim.mailTo('user@example.com')[0].text)![1]);
    return otp.sessionId(p);
  },
  // v7: the chain. The SMSC refuses the number at submit: the send is accepted (smsRefused), the email step starts at once; its code verifies.
  'session-v7-chain-refused': async ({ otp, sim }) => {
    const p = '+33612000021';
    sim.setBehaviour(p, 'refuse');
    await otp.send(p, { profile: 'chained', email: 'chain@example.com' });
    for (let i = 0; i < 100 && !sim.mailTo('chain@example.com').length; i++) await pause(100);
    await otp.verify(p, /code is (\d+)/.exec(sim.mailTo('chain@example.com')[0].text)![1]);
    return otp.sessionId(p);
  },
  // v7, the common path under a chain: send, DELIVRD receipt, verify; no step after the SMS.
  'session-v7-verified': async ({ otp, sim }) => {
    const p = '+33612000022';
    await otp.send(p, { profile: 'chained', email: 'chain2@example.com' });
    await pause(500);
    await otp.verify(p, codeOf(sim, p));
    return otp.sessionId(p);
  },
  // A code the SMSC rejects for good: status failed.
  'session-search-attributes-failed': async ({ otp, sim }) => {
    const p = '+33612000016';
    sim.setBehaviour(p, 'rejected');
    await otp.send(p);
    await pause(500);
    return otp.sessionId(p);
  },
};

/** Send, receipt, a wrong code, the right code. */
async function sendWrongThenRight({ otp, sim }: LocalStack, p: string): Promise<string> {
  const s = await otp.send(p);
  if (s.status !== 'sent') throw new Error(`send refused: ${s.reason}`);
  await pause(300);
  await otp.verify(p, wrong(sim, p));
  await otp.verify(p, codeOf(sim, p));
  return otp.sessionId(p);
}

function codeOf(sim: LocalStack['sim'], phone: string, i = 0): string {
  return /code is (\d+)/.exec(sim.messages(phone)[i].text)![1];
}
function wrong(sim: LocalStack['sim'], phone: string): string {
  return codeOf(sim, phone) === '000000' ? '111111' : '000000';
}

async function main(): Promise<void> {
  const names = process.argv.slice(2);
  const unknown = names.filter((n) => !(n in SCENARIOS));
  if (!names.length || unknown.length) {
    console.error(
      `${unknown.length ? `unknown scenario(s): ${unknown.join(', ')}\n` : ''}usage: record-histories <name>…  (names: ${Object.keys(SCENARIOS).join(', ')})`,
    );
    process.exit(2);
  }
  // Dev keys on purpose: the replay test must be able to decode these histories.
  const stack = await startLocalStack({
    // Every message also linked in its mailbox, so a mailbox history exists to record.
    env: {
      OTP_TASK_QUEUE: 'otp-record',
      OTP_RECEIPT_LINK_AFTER_MS: '0',
      OTP_PROFILES: JSON.stringify({
        'lockout-fast': { resendCooldownSeconds: 0, maxAttempts: 2, maxFailures: 3 },
        mailed: { fallbackChannels: ['email'], fallbackEmailDomains: ['example.com'] },
        chained: { fallbackEmailDomains: ['example.com'], chain: [{ channel: 'sms', deadlineSeconds: 20 }, { channel: 'email' }] },
      }),
    },
  });
  const out = join(PROJECT_ROOT, 'test', 'histories');
  try {
    for (const name of names) {
      const recorded = await SCENARIOS[name](stack);
      const { workflowId, runId } = typeof recorded === 'string' ? { workflowId: recorded, runId: undefined } : recorded;
      const history = await stack.otp.temporal.workflow.getHandle(workflowId, runId).fetchHistory();
      // Binary protobuf: exact, and what `History.decode` reads back in the replay test.
      writeFileSync(join(out, `${name}.history.pb`), temporal.api.history.v1.History.encode(temporal.api.history.v1.History.fromObject(history)).finish());
      console.log(`recorded ${name} (${history.events?.length} events)`);
    }
  } finally {
    await stack.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
