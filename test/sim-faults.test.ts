/**
 * The simulator's SMSC-wide faults (sim/faults.ts) as a chaos run drives them:
 * over HTTP (POST /faults), against our own ESME bind on real TCP.
 */
import type { ParsedReceipt } from '../smpp/receipt';
import { SMPP_STATUS } from '../smpp/errors';
import { SEND, smppKit, until } from './helpers/smpp';
import { settleFor } from './helpers/wait';

const kit = smppKit();

async function fault(url: string, body: unknown): Promise<Response> {
  return fetch(`${url}/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

test('POST /faults refuses an unknown kind or a bad number', async () => {
  const sim = await kit.sim();
  expect((await fault(sim.inboxUrl, { kind: 'meteor' })).status).toBe(400);
  expect((await fault(sim.inboxUrl, { kind: 'slow', ms: -1 })).status).toBe(400);
  expect((await fault(sim.inboxUrl, { kind: 'slow', ms: 10 })).status).toBe(200);
  expect(await (await fetch(`${sim.inboxUrl}/faults`)).json()).toMatchObject({ applied: { slow: 1 } });
});

test('throttle and generic_nack windows answer every submit, then end', async () => {
  const sim = await kit.sim();
  const route = kit.route(sim, { submitDeadlineMs: 3000 });
  await route.ready(5000);
  expect((await fault(sim.inboxUrl, { kind: 'throttle', ms: 300 })).status).toBe(200);
  // The route backs off on ESME_RTHROTTLED and gets through once the window ends.
  const sent = await route.submitText('+33611000001', 'Acme: code 111111', SEND);
  expect(sent.messageIds).toHaveLength(1);
  expect(sim.submits.filter((s) => s.to === '+33611000001').map((s) => s.status)).toContain(SMPP_STATUS.ESME_RTHROTTLED);

  expect((await fault(sim.inboxUrl, { kind: 'nack', ms: 200 })).status).toBe(200);
  await route.submitText('+33611000002', 'Acme: code 222222', SEND).catch(() => undefined);
  expect(sim.submits.filter((s) => s.to === '+33611000002').map((s) => s.status)).toContain(-2);
  await settleFor(250, 'the rule under test: past the 200 ms nack window');
  await route.ready(5000);
  const after = await route.submitText('+33611000003', 'Acme: code 333333', SEND);
  expect(after.messageIds).toHaveLength(1);
});

test('drop holds the answers of a window in flight, delivers the messages, then drops every connection', async () => {
  const sim = await kit.sim();
  const route = kit.route(sim, { submitDeadlineMs: 5000 });
  await route.ready(5000);
  const before = sim.sessionCount;
  expect((await fault(sim.inboxUrl, { kind: 'drop', ms: 300 })).status).toBe(200);
  const pending = route.submitText('+33611000004', 'Acme: code 444444', SEND).then(
    () => 'answered',
    () => 'failed',
  );
  await until(() => sim.messages('+33611000004').length > 0, 'the SMS in the inbox');
  // The answer is held: the submit is in flight when the connection goes.
  expect(sim.faults.heldResponses).toBe(1);
  await until(() => sim.faults.heldResponses === 0, 'the drop');
  await pending;
  await until(() => sim.sessionCount >= before, 'the bind again', 5000);
});

test('receipt-delay holds receipts of messages accepted in its window; unknown receipts are answered', async () => {
  const sim = await kit.sim();
  const route = kit.route(sim);
  const receipts: ParsedReceipt[] = [];
  route.onReceipt(async (r) => {
    receipts.push(r);
  });
  await route.ready(5000);
  expect((await fault(sim.inboxUrl, { kind: 'receipt-delay', ms: 500, delayMs: 800 })).status).toBe(200);
  const t0 = Date.now();
  const sent = await route.submitText('+33611000005', 'Acme: code 555555', SEND);
  const receipt = await until(() => receipts.find((r) => r.messageId === sent.messageIds[0]), 'the late receipt', 5000);
  expect(receipt.outcome).toBe('delivered');
  expect(Date.now() - t0).toBeGreaterThanOrEqual(800);

  expect((await fault(sim.inboxUrl, { kind: 'unknown-receipts', count: 2 })).status).toBe(200);
  await until(() => receipts.filter((r) => r.messageId === 'ffffffffffff').length === 2, 'two receipts for an id nobody submitted', 5000);
});
