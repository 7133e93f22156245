/**
 * Issue 15: the simulator's carrier mix over real SMPP and its HTTP API. A silent message is
 * accepted (a message id) and then neither delivered nor receipted; an undeliverable one gets an
 * UNDELIV receipt and never reaches the handset; the handset side records which accepted
 * messages it never got. No Temporal: the simulator and one ESME route.
 */
import type { ParsedReceipt } from '../smpp/receipt';
import { parseCarrierMix } from '../sim/carrier-mix';
import { SEND, smppKit, until } from './helpers/smpp';
import { settleFor } from './helpers/wait';

const kit = smppKit();

async function routeWithReceipts(mix: string | null) {
  const sim = await kit.sim({ carrierMix: mix === null ? null : parseCarrierMix(mix) });
  const route = kit.route(sim);
  const receipts: ParsedReceipt[] = [];
  route.onReceipt(async (r) => {
    receipts.push(r);
  });
  await route.ready(5000);
  return { sim, route, receipts };
}

test('silent=1: the submit is accepted, the handset never gets it, no receipt comes', async () => {
  const { sim, route, receipts } = await routeWithReceipts('silent=1,delay=20ms');
  const to = '+33613000001';
  const sent = await route.submitText(to, 'Acme: code 123456', SEND);
  expect(sent.messageIds).toHaveLength(1);
  expect(sim.submits).toEqual([expect.objectContaining({ to, status: 0, id: sent.messageIds[0], behaviour: 'silent' })]);
  expect(sim.withheld(to)).toEqual([expect.objectContaining({ to, messageId: sent.messageIds[0], behaviour: 'silent' })]);
  // A delivered control message sent after it gets its receipt: receipts flow on this route, none comes for the silent one.
  sim.setBehaviour('+33613000002', 'deliver');
  const control = await route.submitText('+33613000002', 'Acme: code 654321', SEND);
  await until(() => receipts.find((r) => r.messageId === control.messageIds[0]), 'the control receipt');
  await settleFor(200, 'negative check: give a receipt for the silent message time to show');
  expect(sim.messages(to)).toEqual([]);
  expect(receipts.filter((r) => r.messageId === sent.messageIds[0])).toEqual([]);
  expect(sim.receiptsSent.filter((r) => r.to === to)).toEqual([]);
  const overHttp = (await (await fetch(`${sim.inboxUrl}/withheld?to=${encodeURIComponent(to)}`)).json()) as unknown[];
  expect(overHttp).toEqual([expect.objectContaining({ messageId: sent.messageIds[0], behaviour: 'silent' })]);
});

test('undeliv=1: an UNDELIV receipt after the drawn delay, nothing on the handset', async () => {
  const { sim, route, receipts } = await routeWithReceipts('undeliv=1,delay=20-60ms');
  const to = '+33613000003';
  const sent = await route.submitText(to, 'Acme: code 111111', SEND);
  const receipt = await until(() => receipts.find((r) => r.messageId === sent.messageIds[0]), 'the UNDELIV receipt');
  expect(receipt).toMatchObject({ stat: 'UNDELIV', outcome: 'failed' });
  expect(sim.messages(to)).toEqual([]);
  expect(sim.withheld(to)).toEqual([expect.objectContaining({ behaviour: 'undeliverable' })]);
  expect(sim.carrierDraws).toEqual({ deliver: 0, undeliverable: 1, silent: 0 });
});

test('delivered under a mix: the handset gets it with its DELIVRD receipt; a scripted destination ignores the mix', async () => {
  const { sim, route, receipts } = await routeWithReceipts('undeliv=0,silent=0,delay=30ms');
  const to = '+33613000004';
  const sent = await route.submitText(to, 'Acme: code 222222', SEND);
  expect((await until(() => receipts.find((r) => r.messageId === sent.messageIds[0]), 'the DELIVRD receipt')).stat).toBe('DELIVRD');
  expect((await until(() => sim.messages(to)[0], 'the SMS on the handset')).text).toBe('Acme: code 222222');
  sim.setBehaviour('+33613000005', 'rejected');
  const scripted = await route.submitText('+33613000005', 'x', SEND);
  expect((await until(() => receipts.find((r) => r.messageId === scripted.messageIds[0]), 'the REJECTD receipt')).stat).toBe('REJECTD');
  expect(sim.carrierDraws).toEqual({ deliver: 1, undeliverable: 0, silent: 0 });
});

test('the mix is set, shown and cleared over HTTP; a bad one is a 400 naming the part', async () => {
  const { sim, route, receipts } = await routeWithReceipts(null);
  const url = `${sim.inboxUrl}/carrier-mix`;
  const bad = await fetch(url, { method: 'PUT', body: 'undeliv=0.1,bounce=0.2' });
  expect(bad.status).toBe(400);
  expect(((await bad.json()) as { error: string }).error).toMatch(/unknown part "bounce=0.2"/);
  const put = await fetch(url, { method: 'PUT', body: 'undeliv=1,delay=10ms,seed=9' });
  expect(await put.json()).toEqual({ mix: 'undeliv=1,silent=0,delay=10ms,seed=9', drawn: { deliver: 0, undeliverable: 0, silent: 0 } });
  const sent = await route.submitText('+33613000006', 'x', SEND);
  expect((await until(() => receipts.find((r) => r.messageId === sent.messageIds[0]), 'the UNDELIV receipt')).stat).toBe('UNDELIV');
  expect(await (await fetch(url)).json()).toMatchObject({ drawn: { undeliverable: 1 } });
  expect(await (await fetch(url, { method: 'DELETE' })).json()).toMatchObject({ mix: null });
  const after = await route.submitText('+33613000007', 'y', SEND);
  expect((await until(() => receipts.find((r) => r.messageId === after.messageIds[0]), 'the DELIVRD receipt')).stat).toBe('DELIVRD');
});
