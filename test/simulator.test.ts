/**
 * The SMSC simulator over real TCP, driven by our own ESME bind: credentials,
 * message ids, receipts (TLVs and text), encodings, concatenation, and each
 * scripted behaviour.
 */
import { SmppBind } from '../smpp/bind';
import { SmscRoute } from '../smpp/smsc';
import type { ParsedReceipt } from '../smpp/receipt';
import { SmscSimulator } from '../sim/smsc-simulator';
import { settleFor, until } from './helpers/wait';

const quietLog = { info: () => undefined, warn: () => undefined };
const SEND = { senderId: 'Acme', validitySeconds: 300 };
let sim: SmscSimulator;
let smsc: SmscRoute;
const receipts: ParsedReceipt[] = [];

beforeAll(async () => {
  sim = new SmscSimulator({ smppPort: 0, httpPort: 0, quiet: true, receiptDelayMs: 10 });
  await sim.start();
  smsc = new SmscRoute(
    { name: 'sim', host: '127.0.0.1', port: sim.smppPort, systemId: 'otp', password: 'secret', reconnectInitialMs: 50, submitDeadlineMs: 500 },
    quietLog,
  );
  smsc.onReceipt(async (r: ParsedReceipt) => {
    receipts.push(r);
  });
  smsc.start();
  await smsc.ready(5000);
});
afterAll(async () => {
  await smsc?.close();
  await sim?.stop();
});

function receiptFor(id: string, timeoutMs = 2000): Promise<ParsedReceipt> {
  return until(() => receipts.find((x) => x.messageId === id), `the receipt for ${id}`, timeoutMs);
}

test('a bind with the wrong password is refused', async () => {
  const warnings: string[] = [];
  const logger = { info: () => undefined, warn: (msg: string, meta?: Record<string, unknown>) => warnings.push(`${msg} ${JSON.stringify(meta)}`) };
  const bad = new SmppBind({ name: 'bad', host: '127.0.0.1', port: sim.smppPort, systemId: 'otp', password: 'wrong', logger, reconnectInitialMs: 10_000 });
  bad.start();
  await expect(bad.ready(500)).rejects.toThrow(/not ready after 500 ms/);
  expect(warnings.join('\n')).toMatch(/bind refused .*ESME_RINVPASWD/);
  await bad.close();
});

test('deliver: unique ids, the handset gets the text, the receipt carries TLVs and text', async () => {
  const a = await smsc.submitText('+33611111111', 'Acme: code 111111', SEND);
  const b = await smsc.submitText('+33611111111', 'Acme: code 222222', SEND);
  expect(a.messageIds[0]).not.toBe(b.messageIds[0]);
  const res = await fetch(`${sim.inboxUrl}/messages?to=%2B33611111111`);
  const inbox = (await res.json()) as { text: string; from: string; dataCoding: number; segments: number }[];
  expect(inbox.map((m) => m.text)).toEqual(['Acme: code 111111', 'Acme: code 222222']);
  expect(inbox[0]).toMatchObject({ from: 'Acme', dataCoding: 0, segments: 1 });
  expect(await receiptFor(a.messageIds[0])).toEqual({ messageId: a.messageIds[0], idSource: 'tlv', stat: 'DELIVRD', err: '000', outcome: 'delivered' });
});

test('UCS-2 text arrives intact with data_coding 8', async () => {
  await smsc.submitText('+79161234567', 'Ваш код: 123456', SEND);
  expect(sim.messages('+79161234567')[0]).toMatchObject({ text: 'Ваш код: 123456', dataCoding: 8, segments: 1 });
});

test('a long text is concatenated with UDH and reassembled on the handset', async () => {
  const text = `Acme: ${'long message '.repeat(20)}end`;
  const sent = await smsc.submitText('+33622222222', text, SEND);
  expect(sent.segments).toBe(2);
  expect(sent.messageIds).toHaveLength(2);
  expect(sim.messages('+33622222222')[0]).toMatchObject({ text, segments: 2 });
});

test.each([
  ['undeliverable', 'UNDELIV'],
  ['rejected', 'REJECTD'],
])('%s: nothing on the handset, a %s receipt', async (behaviour, stat) => {
  const to = behaviour === 'rejected' ? '+33633333331' : '+33633333332';
  sim.setBehaviour(to, behaviour as 'rejected' | 'undeliverable');
  const sent = await smsc.submitText(to, 'x', SEND);
  expect((await receiptFor(sent.messageIds[0])).stat).toBe(stat);
  expect(sim.messages(to)).toHaveLength(0);
});

test('no_receipt: the handset gets it, no receipt ever comes', async () => {
  sim.setBehaviour('+33644444444', 'no_receipt');
  const sent = await smsc.submitText('+33644444444', 'quiet', SEND);
  expect(sim.messages('+33644444444')).toHaveLength(1);
  await settleFor(200, 'negative check: give a receipt time to show');
  expect(receipts.find((r) => r.messageId === sent.messageIds[0])).toBeUndefined();
});

test('throttle: submit_sm is answered ESME_RTHROTTLED, a transient error', async () => {
  sim.setBehaviour('+33655555555', 'throttle');
  await expect(smsc.submitText('+33655555555', 'x', SEND)).rejects.toMatchObject({ name: 'SmppTransientError', commandStatus: 0x58 });
});

test('drop: the SMSC closes the socket; the bind reconnects by itself', async () => {
  sim.setBehaviour('+33666666666', 'drop');
  // Written but never answered: the SMSC may have it, so the failure says so.
  await expect(smsc.submitText('+33666666666', 'x', SEND)).rejects.toMatchObject({
    name: 'SmppUnconfirmedError',
    message: expect.stringMatching(/before the connection closed/),
  });
  await smsc.ready(5000);
  const sent = await smsc.submitText('+33611111112', 'after reconnect', SEND);
  expect(sent.messageIds).toHaveLength(1);
});

test('the phone inbox answers 400 without "to" and scripts behaviours over HTTP', async () => {
  expect((await fetch(`${sim.inboxUrl}/messages`)).status).toBe(400);
  const put = await fetch(`${sim.inboxUrl}/behaviours?to=%2B33677777777&mode=rejected`, { method: 'PUT' });
  expect(await put.json()).toEqual({ to: '+33677777777', mode: 'rejected' });
  expect((await fetch(`${sim.inboxUrl}/behaviours?to=%2B33677777777&mode=explode`, { method: 'PUT' })).status).toBe(400);
});
