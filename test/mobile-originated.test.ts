/**
 * Mobile-originated messages (issue: MO to a signed webhook; STOP / START and
 * the suppression list). The simulator sends deliver_sm / data_sm from a
 * handset; a node:http receiver on a free port plays the n8n webhook.
 */
import { MO_WORKFLOW, WEBHOOK_EVENT_ID_HEADER, WEBHOOK_SIGNATURE_HEADER, WEBHOOK_TIMESTAMP_HEADER, type MobileOriginatedEvent } from '../contract';
import { optOutWorkflowId, verifyWebhookSignature } from '../contract/keys';
import { expectAbsent, rawHistory } from './helpers/history';
import { startStack, TEST_PROFILES, type TestStack } from './helpers/stack';
import { settleFor, until } from './helpers/wait';
import { startHttpReceiver, type HttpReceiver, type ReceivedRequest } from './helpers/http-receiver';

let stack: TestStack;
let receiver: HttpReceiver;
let up = true;
const hits = (): ReceivedRequest[] => receiver.requests;
const accepted = (): MobileOriginatedEvent[] =>
  hits()
    .filter((h) => h.answered === 200)
    .map((h) => JSON.parse(h.raw) as MobileOriginatedEvent);

beforeAll(async () => {
  receiver = await startHttpReceiver(() => (up ? 200 : 503));
  stack = await startStack(
    {},
    {
      OTP_MO_WEBHOOK_URL: `${receiver.base}/mo`,
      OTP_PROFILES: JSON.stringify({
        ...TEST_PROFILES,
        'fast-nostop': { extends: 'fast', respectOptOut: false },
        'fast-retry5': { extends: 'fast', retrySchedule: [5], receiptTimeoutSeconds: 5 },
      }),
    },
  );
  await Promise.all(stack.worker.smsc.routes[0].binds.map((b) => b.ready(5000)));
});
afterAll(async () => {
  await stack?.stop();
  await receiver?.close();
});

const moIds: string[] = [];

test('an MO reaches the webhook signed, and the deliver_sm is answered only after the hand-off', async () => {
  const phone = '+33612345601';
  const answer = await stack.sim.sendMobileOriginated({ from: phone, to: '38000', text: 'Hello there, need help' });
  expect(answer.status).toBe(0);
  const event = await until(() => accepted().find((e) => e.from === phone), 'the MO POST', 10000);
  expect(event).toMatchObject({ kind: 'mo', from: phone, to: '38000', text: 'Hello there, need help', route: stack.config.routes[0].name });
  expect(event.keyword).toBeUndefined();
  expect(event.eventId.startsWith('otp-mo:')).toBe(true);
  const hit = hits().find((h) => h.answered === 200 && (JSON.parse(h.raw) as MobileOriginatedEvent).eventId === event.eventId)!;
  expect(hit.headers[WEBHOOK_EVENT_ID_HEADER]).toBe(event.eventId);
  expect(
    verifyWebhookSignature(stack.config.keys.callback, {
      timestamp: String(hit.headers[WEBHOOK_TIMESTAMP_HEADER]),
      signature: String(hit.headers[WEBHOOK_SIGNATURE_HEADER]),
      body: hit.raw,
    }),
  ).toBe(true);
  expect(
    verifyWebhookSignature('another-key-0000000000', {
      timestamp: String(hit.headers[WEBHOOK_TIMESTAMP_HEADER]),
      signature: String(hit.headers[WEBHOOK_SIGNATURE_HEADER]),
      body: hit.raw,
    }),
  ).toBe(false);
  // The workflow existed before the SMSC got its deliver_sm_resp.
  const d = await stack.otp.temporal.workflow.getHandle(event.eventId).describe();
  expect(d.type).toBe(MO_WORKFLOW);
  expect(d.startTime.getTime()).toBeLessThanOrEqual(answer.answeredAt);
  moIds.push(event.eventId);

  // data_sm is an MO too.
  const viaData = await stack.sim.sendMobileOriginated({ from: phone, to: '38000', text: 'via data_sm', pdu: 'data_sm' });
  expect(viaData.status).toBe(0);
  moIds.push((await until(() => accepted().find((e) => e.text === 'via data_sm'), 'the data_sm MO', 10000)).eventId);
  expect(stack.worker.mo.handedOver).toBeGreaterThanOrEqual(2);
});

test('STOP refuses the next send as blocked/opted_out with no SMS; START lets sends through again', async () => {
  const phone = '+33612345602';
  const first = await stack.otp.send(phone, { profile: 'fast' });
  expect(first.status).toBe('sent');
  await stack.waitForSms(phone, 1);

  expect((await stack.sim.sendMobileOriginated({ from: phone, to: '38000', text: '  stop. ' })).status).toBe(0);
  const stop = await until(() => accepted().find((e) => e.from === phone && e.keyword === 'STOP'), 'the STOP POST', 10000);
  expect(stop.optOut).toBe('stop');
  moIds.push(stop.eventId);
  const optOutId = optOutWorkflowId(stack.config.keys.hash[0], phone);
  expect((await stack.otp.temporal.workflow.getHandle(optOutId).describe()).status.name).toBe('RUNNING');

  const refused = await stack.otp.send(phone, { profile: 'fast' });
  expect(refused).toMatchObject({ status: 'blocked', reason: 'opted_out' });
  await settleFor(300, 'negative check: give an SMS for the refused send time to show');
  expect(stack.sim.messages(phone)).toHaveLength(1);

  // A profile that does not respect STOP still sends (markets where codes are exempt).
  expect((await stack.otp.send(phone, { profile: 'fast-nostop' })).status).toBe('sent');
  await stack.waitForSms(phone, 2);

  expect((await stack.sim.sendMobileOriginated({ from: phone, to: '38000', text: 'Start' })).status).toBe(0);
  const start = await until(() => accepted().find((e) => e.from === phone && e.keyword === 'START'), 'the START POST', 10000);
  moIds.push(start.eventId);
  await until(
    async () => ((await stack.otp.temporal.workflow.getHandle(optOutId).describe()).status.name === 'COMPLETED' ? true : undefined),
    'the opt-out to end',
    10000,
  );
  const again = await stack.otp.send(phone, { profile: 'fast' });
  expect(again.status).toBe('sent');
  await stack.waitForSms(phone, 3);

  // No full number in any id, nor in plain text in any history of this number.
  const ids = [...moIds, optOutId, again.sessionId!];
  for (const id of ids) {
    expect(id).not.toContain(phone.slice(1));
    expect(id).not.toContain(phone.slice(3));
    const bytes = await rawHistory(stack.otp.temporal, id);
    for (const secret of [phone, phone.slice(1), 'Hello there, need help', 'via data_sm']) expectAbsent(bytes, secret, `${secret} (${id})`);
  }
});

test('a STOP after a send stops its staggered retry', async () => {
  const phone = '+33612345604';
  stack.sim.setBehaviour(phone, 'no_receipt');
  expect((await stack.otp.send(phone, { profile: 'fast-retry5' })).status).toBe('sent');
  await stack.waitForSms(phone, 1);
  expect((await stack.sim.sendMobileOriginated({ from: phone, to: '38000', text: 'QUIT' })).status).toBe(0);
  await until(
    async () => {
      try {
        return (
          (await stack.otp.temporal.workflow.getHandle(optOutWorkflowId(stack.config.keys.hash[0], phone)).describe()).status.name === 'RUNNING' || undefined
        );
      } catch {
        return undefined;
      }
    },
    'the opt-out',
    10000,
  );
  await settleFor(6500, 'negative check: past the retry, due 5 s after the first submit; none comes');
  expect(stack.sim.messages(phone)).toHaveLength(1);
}, 20000);

test('with the webhook down, the MO is delivered once it comes back', async () => {
  up = false;
  const phone = '+33612345603';
  expect((await stack.sim.sendMobileOriginated({ from: phone, to: '38000', text: 'while you were down' })).status).toBe(0);
  await until(
    () => hits().some((h) => h.answered === 503 && (JSON.parse(h.raw) as MobileOriginatedEvent).from === phone) || undefined,
    'a refused POST',
    10000,
  );
  await settleFor(1500, 'negative check: while the webhook is down, give an accepted POST time to show');
  expect(accepted().some((e) => e.from === phone)).toBe(false);
  up = true;
  const event = await until(() => accepted().find((e) => e.from === phone), 'the retried MO POST', 15000);
  expect(event.text).toBe('while you were down');
  expect(hits().filter((h) => (JSON.parse(h.raw) as MobileOriginatedEvent).from === phone).length).toBeGreaterThanOrEqual(2);
});
