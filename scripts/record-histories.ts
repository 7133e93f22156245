/**
 * Records workflow histories for the replay tests (test/replay.test.ts).
 * Starts its own dev server, simulator and worker, runs fixed scenarios, and
 * writes test/histories/<name>.history.pb. Re-record only when adding a scenario
 * or a workflow version (the files of v0.1 stay: new code must replay them).
 *
 *   npm run build && node dist/scripts/record-histories.js
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';
import { velocityShardId } from '../client';
import { shardOf } from '../policy/velocity';
import { startLocalStack } from '../lib/local-stack';
import { PROJECT_ROOT } from '../lib/temporal-server';

async function main(): Promise<void> {
  // Dev keys on purpose: the replay test must be able to decode these histories.
  const stack = await startLocalStack({
    // Every message also linked in its mailbox, so a mailbox history exists to record.
    env: { OTP_TASK_QUEUE: 'otp-record', OTP_RECEIPT_LINK_AFTER_MS: '0', OTP_PROFILES: JSON.stringify({ 'lock1-fast': { resendCooldownSeconds: 0, maxAttempts: 1 } }) },
  });
  const { sim, otp, config } = stack;
  const out = join(PROJECT_ROOT, 'test', 'histories');
  const codeOf = (phone: string, i = 0) => /code is (\d+)/.exec(sim.messages(phone)[i].text)![1];
  const save = async (name: string, workflowId: string) => {
    const history = await otp.temporal.workflow.getHandle(workflowId).fetchHistory();
    // Binary protobuf: exact, and what `History.decode` reads back in the replay test.
    writeFileSync(join(out, `${name}.history.pb`), temporal.api.history.v1.History.encode(temporal.api.history.v1.History.fromObject(history)).finish());
    console.log(`recorded ${name} (${history.events?.length} events)`);
  };
  try {
    // 1. send, receipt, a wrong code, the right code, then a repeat verify; the session lingers and completes.
    const p1 = '+33612000001';
    const s1 = await otp.send(p1);
    if (s1.status !== 'sent') throw new Error(`send refused: ${s1.reason}`);
    await new Promise((r) => setTimeout(r, 300));
    await otp.verify(p1, codeOf(p1) === '000000' ? '111111' : '000000');
    await otp.verify(p1, codeOf(p1));
    await otp.verify(p1, codeOf(p1));
    // 2. two sends (the second replaces the first), an undeliverable receipt, a lock.
    const p2 = '+33612000002';
    sim.setBehaviour(p2, 'undeliverable');
    await otp.send(p2, { profile: 'lock1-fast' });
    await new Promise((r) => setTimeout(r, 300)); // the receipt marks delivery failed: the next send re-delivers the same code
    await otp.send(p2, { profile: 'lock1-fast' });
    await new Promise((r) => setTimeout(r, 300));
    await otp.verify(p2, '00000000');
    // 3. no receipt: the staggered retry at +20 s claims (finds nothing), re-sends the same code, then a verify.
    const p3 = '+33612000003';
    sim.setBehaviour(p3, 'no_receipt');
    await otp.send(p3);
    await new Promise((r) => setTimeout(r, 21_500));
    await otp.verify(p3, codeOf(p3));
    await new Promise((r) => setTimeout(r, 1000)); // the velocity report lands
    await save('session-v2-verified', s1.sessionId!);
    await save('session-v2-resent-failed-locked', otp.sessionId(p2));
    await save('session-v2-retried', otp.sessionId(p3));
    await save('receipt-mailbox-v2', `dlr-${config.smsc.name}-${s1.messageId}`);
    await save('velocity-shard', velocityShardId(config.tenant, shardOf('tenant', config.velocity.shards)));
  } finally {
    await stack.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
