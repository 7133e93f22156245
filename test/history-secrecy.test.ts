/**
 * No plaintext code (and no plaintext phone number) in workflow history.
 * Fetches the raw histories of sessions that sent, resent, failed, locked and
 * verified, plus their receipt mailboxes, and searches every byte.
 */
import { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { AesGcmPayloadCodec } from '../codec/payload-codec';
import { collectPayloads, expectAbsent, rawHistory } from './helpers/history';
import { startStack, codeFrom, TEST_PROFILES, type TestStack } from './helpers/stack';
import { waitFor } from './helpers/wait';

let stack: TestStack;
beforeAll(async () => {
  // OTP_RECEIPT_LINK_AFTER_MS=0: every message also gets its durable mailbox, so their histories are checked too.
  stack = await startStack(
    {},
    { OTP_RECEIPT_LINK_AFTER_MS: '0', OTP_PROFILES: JSON.stringify({ ...TEST_PROFILES, trigger: { extends: 'fast', allowCallerCode: true } }) },
  );
});
afterAll(async () => {
  await stack?.stop();
});

test('codes and phone numbers never appear in any fetched history', async () => {
  const verifiedPhone = '+33612345001';
  const failedPhone = '+33612345002';
  const lockedPhone = '+33612345003';
  const callerPhone = '+33612345004';
  const throttledPhone = '+33612345005';
  stack.sim.setBehaviour(failedPhone, 'undeliverable');
  stack.sim.setBehaviour(throttledPhone, 'refuse');

  // sent, resent, verified
  await stack.otp.send(verifiedPhone, { profile: 'fast' });
  await stack.waitForSms(verifiedPhone, 1);
  await stack.otp.send(verifiedPhone, { profile: 'fast' });
  const verifiedMsgs = await stack.waitForSms(verifiedPhone, 2);
  const codes = verifiedMsgs.map((m) => codeFrom(m.text));
  expect((await stack.otp.verify(verifiedPhone, codes[1])).outcome).toBe('verified');

  // failed delivery, then a re-delivery of the same code
  await stack.otp.send(failedPhone, { profile: 'fast' });
  await waitFor(
    () => stack.otp.status(failedPhone),
    (st) => st?.code?.delivery === 'failed',
    'the UNDELIV receipt',
  );
  await stack.otp.send(failedPhone, { profile: 'fast' });
  // a caller-supplied code
  const callerCode = '739184';
  await stack.otp.send(callerPhone, { profile: 'trigger', code: callerCode });
  expect((await stack.otp.verify(callerPhone, callerCode)).valid).toBe(true);
  // a dispatch that fails: its failure message must be encrypted too
  await expect(stack.otp.send(throttledPhone)).rejects.toThrow(/ESME_RINVDSTADR/);
  // locked
  await stack.otp.send(lockedPhone, { profile: 'fast-lock1' });
  const lockedCode = codeFrom((await stack.waitForSms(lockedPhone))[0].text);
  await stack.otp.verify(lockedPhone, lockedCode === '999999' ? '888888' : '999999');
  expect((await stack.otp.verify(lockedPhone, lockedCode)).outcome).toBe('locked');
  // Every SMS the SMSC took has its receipt recorded by its session (through its mailbox): the mailboxes have full histories.
  for (const p of [verifiedPhone, failedPhone, lockedPhone, callerPhone]) {
    const submitted = stack.sim.submits.filter((x) => x.to === p && x.status === 0).length;
    await waitFor(
      async () => (await stack.otp.status(p))?.events.filter((e) => e.type === 'receipt').length ?? 0,
      (receipts) => receipts >= submitted,
      `${submitted} receipts recorded`,
    );
  }

  const phones = [verifiedPhone, failedPhone, lockedPhone, callerPhone, throttledPhone];
  const sessions = phones.map((p) => stack.otp.sessionId(p));
  const mailboxIds: string[] = [];
  for await (const wf of stack.otp.temporal.workflow.list({ query: `TaskQueue = '${stack.config.temporal.taskQueue}'` })) {
    if (wf.workflowId.startsWith('dlr-') || wf.workflowId.startsWith('otp-velocity:')) mailboxIds.push(wf.workflowId);
  }
  expect(mailboxIds.length).toBeGreaterThanOrEqual(4);

  let bytesChecked = 0;
  for (const id of [...sessions, ...mailboxIds]) {
    const bytes = await rawHistory(stack.otp.temporal, id);
    bytesChecked += bytes.length;
    for (const code of [...codes, lockedCode, callerCode]) expectAbsent(bytes, code, `code of ${id}`);
    for (const phone of phones) {
      expectAbsent(bytes, phone, 'phone number');
      expectAbsent(bytes, phone.slice(1), 'phone number without +');
    }
    // Failure messages and stack traces are encoded (encodeCommonAttributes) and so encrypted.
    expectAbsent(bytes, 'ESME_RINVDSTADR', 'SMSC failure text');
    expectAbsent(bytes, 'dispatch failed', 'failure message');
  }
  expect(bytesChecked).toBeGreaterThan(10_000);

  // The refused session did record its failure (the send update failed), so the search above had something to miss.
  const throttledHistory = await stack.otp.temporal.workflow.getHandle(stack.otp.sessionId(throttledPhone)).fetchHistory();
  expect(throttledHistory.events?.some((e) => e.workflowExecutionUpdateCompletedEventAttributes?.outcome?.failure)).toBe(true);

  // Stronger: even decrypted with the payload keys (what every client holds), no history holds a code:
  // derived codes are kept as digests, and entered or caller codes travel sealed for the workers.
  const codec = new AesGcmPayloadCodec(stack.config.keys.payload);
  for (const id of sessions.slice(0, 4)) {
    const history = await stack.otp.temporal.workflow.getHandle(id).fetchHistory();
    const payloads = collectPayloads(history);
    expect(payloads.length).toBeGreaterThan(3);
    const decoded = await codec.decode(payloads);
    const text = decoded.map((p) => Buffer.from(p.data ?? []).toString()).join('\n');
    expect(text).toContain('"digest"');
    for (const code of [...codes, lockedCode, callerCode]) expect(text).not.toContain(code);
  }

  // The search is not vacuous: through a client without the codec, a planted code is found.
  const plain = new Client({ connection: stack.otp.temporal.connection, namespace: stack.config.temporal.namespace });
  const planted = await plain.workflow.start('otpSession', {
    workflowId: `planted-${Date.now()}`,
    taskQueue: 'nobody-polls-this-queue',
    args: [{ tenant: 'x', maskedPhone: codes[0] }],
  });
  const plantedHistory = await planted.fetchHistory();
  await planted.terminate();
  const plantedBytes = Buffer.from(temporal.api.history.v1.History.encode(temporal.api.history.v1.History.fromObject(plantedHistory)).finish());
  expect(() => expectAbsent(plantedBytes, codes[0], 'planted code')).toThrow(/planted code found/);
});
