/**
 * Interoperability with an SMSC that is neither node-smpp nor ours: Debian's
 * Net::SMPP (libnet-smpp-perl, installed by scripts/install-smsc-interop.sh),
 * driven by the thin glue in test/interop/netsmpp-smsc.pl. Net::SMPP decodes
 * what we send and encodes what we receive, so a mistake in our PDUs or in
 * our reading of its PDUs shows up here and not against our own simulator.
 * Covers bind, submit_sm (GSM-7, UCS-2, UDH multipart), hex and decimal ids,
 * text and TLV receipts, enquire_link and unbind both ways, and a full send
 * through the worker whose receipt marks the session delivered.
 */
import type { ParsedReceipt } from '../smpp/receipt';
import { SmscRoute, type RouteConfig } from '../smpp/smsc';
import { NetSmppSmsc, type SmscEvent } from './helpers/net-smpp-smsc';
import { accepted, codeFrom, startStack } from './helpers/stack';
import { quiet, until } from './helpers/smpp';

const AUTH = { systemId: 'otp', password: 'secret' };
const SEND = { senderId: 'Acme', validitySeconds: 300 };
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined);
});

async function smsc(): Promise<NetSmppSmsc> {
  const s = new NetSmppSmsc(AUTH);
  await s.start();
  cleanup.push(() => s.stop());
  return s;
}

function route(s: NetSmppSmsc, extra: Partial<RouteConfig> = {}): SmscRoute {
  const r = new SmscRoute({ name: 'netsmpp', host: '127.0.0.1', port: s.port, ...AUTH, reconnectInitialMs: 50, submitDeadlineMs: 3000, ...extra }, quiet);
  r.start();
  cleanup.push(() => r.close());
  return r;
}

function collect(r: SmscRoute): ParsedReceipt[] {
  const got: ParsedReceipt[] = [];
  r.onReceipt(async (x) => void got.push(x));
  return got;
}

/** Bound route plus the connection number the SMSC gave its one bind. */
async function bound(s: NetSmppSmsc, extra: Partial<RouteConfig> = {}): Promise<{ r: SmscRoute; conn: number; receipts: ParsedReceipt[] }> {
  const r = route(s, extra);
  const receipts = collect(r);
  await r.allReady();
  const bind = await s.waitFor((e) => e.event.startsWith('bind_') && e.accepted === true, 'bind');
  return { r, conn: bind.conn!, receipts };
}

/** The submit_sm PDUs Net::SMPP got for `to`; its events come over a pipe and may trail the submit_sm_resp. */
async function submits(s: NetSmppSmsc, to: string, count = 1): Promise<SmscEvent[]> {
  const mine = () => s.all('submit_sm').filter((e) => e.destination_addr === to);
  await s.waitFor(() => mine().length >= count, `${count} submit_sm to ${to}`);
  return mine();
}
const bytes = (e: SmscEvent): Buffer => Buffer.from(String(e.short_message_hex), 'hex');
const dec = (hex: string): string => BigInt(`0x${hex}`).toString(10);
const hex = (decimal: string): string => BigInt(decimal).toString(16).toUpperCase();

/** A receipt text as SMSCs write it (SMPP 3.4 appendix B); `date` has 10 or 12 digits. */
function receiptText(id: string, stat: string, date = '2601011200', err = '000'): string {
  return `id:${id} sub:001 dlvrd:${stat === 'DELIVRD' ? '001' : '000'} submit date:${date} done date:${date} stat:${stat} err:${err} text:Acme code 1234`;
}

function receiptFields(
  to: string,
  text: string,
): { source_addr: string; destination_addr: string; esm_class: number; data_coding: number; short_message: string } {
  // A receipt travels back from the handset: source is the subscriber, destination our sender id.
  return { source_addr: to.replace(/^\+/, ''), destination_addr: 'Acme', esm_class: 0x04, data_coding: 0, short_message: text };
}

describe('bind', () => {
  test('a transceiver bind is accepted by Net::SMPP with our system_id and password', async () => {
    const s = await smsc();
    await bound(s, { systemType: 'OTP' });
    const bind = s.all('bind_transceiver');
    expect(bind).toHaveLength(1);
    expect(bind[0]).toMatchObject({ system_id: 'otp', password: 'secret', system_type: 'OTP', accepted: true });
  });

  // node-smpp 0.5.1 defaults to 0x50 (SMPP 5.0); binds set interfaceVersion (default 0x34).
  test('our bind announces interface_version 0x34 (SMPP 3.4), as Net::SMPP reads it', async () => {
    const s = await smsc();
    await bound(s);
    expect(s.all('bind_transceiver')[0].interface_version).toBe(0x34);
  });

  test('transmitter+receiver: submits on bind_transmitter, receipts on bind_receiver', async () => {
    const s = await smsc();
    const r = route(s, { bindMode: 'transmitter+receiver', messageIds: { submit: 'hex', receipt: 'decimal' } });
    const receipts = collect(r);
    await r.allReady();
    const tx = await s.waitFor((e) => e.event === 'bind_transmitter', 'bind_transmitter');
    const rx = await s.waitFor((e) => e.event === 'bind_receiver', 'bind_receiver');
    expect([tx.accepted, rx.accepted]).toEqual([true, true]);
    const sent = await r.submitText('+33611120001', 'Acme code 111111', SEND);
    expect((await submits(s, '33611120001'))[0].conn).toBe(tx.conn);
    const resp = await s.deliver(rx.conn!, receiptFields('+33611120001', receiptText(dec(sent.messageIds[0]), 'DELIVRD')));
    expect(resp.status).toBe(0);
    expect(r.receiptKey(await until(() => receipts[0], 'receipt'))).toBe(r.submitKey(sent.messageIds[0]));
  });

  test('a wrong password: Net::SMPP refuses the bind and the route never comes up', async () => {
    const s = await smsc();
    const r = route(s, { password: 'wrong', reconnectInitialMs: 2000 });
    await expect(r.ready(700)).rejects.toThrow(/no bind to route "netsmpp" came up/);
    expect(await s.waitFor((e) => e.event === 'bind_transceiver', 'bind')).toMatchObject({ password: 'wrong', accepted: false });
  });
});

describe('submit_sm as Net::SMPP decodes it', () => {
  test('GSM-7: data_coding 0, GSM 03.38 septets one per octet (escape for €), TON/NPI, receipt requested, relative validity', async () => {
    const s = await smsc();
    const { r } = await bound(s);
    const sent = await r.submitText('+33611120002', 'Acme code 123456 @£€_', SEND);
    expect(sent).toMatchObject({ encoding: 'GSM7', segments: 1 });
    const [pdu] = await submits(s, '33611120002');
    expect(pdu).toMatchObject({
      data_coding: 0,
      esm_class: 0,
      registered_delivery: 1,
      source_addr: 'Acme',
      source_addr_ton: 5,
      source_addr_npi: 0,
      dest_addr_ton: 1,
      dest_addr_npi: 1,
    });
    expect(pdu.validity_period).toBe('000000000500000R');
    // @ = 0x00, £ = 0x01, € = ESC 0x65, _ = 0x11 in the default alphabet.
    expect(bytes(pdu)).toEqual(Buffer.concat([Buffer.from('Acme code 123456 ', 'latin1'), Buffer.from([0x00, 0x01, 0x1b, 0x65, 0x11])]));
    expect(sent.messageIds).toEqual([pdu.message_id]);
  });

  test('UCS-2: data_coding 8 and UTF-16BE octets', async () => {
    const s = await smsc();
    const { r } = await bound(s);
    const text = 'Код Acme: 654321 ✓';
    expect(await r.submitText('+33611120003', text, SEND)).toMatchObject({ encoding: 'UCS2', segments: 1 });
    const [pdu] = await submits(s, '33611120003');
    expect(pdu.data_coding).toBe(8);
    expect(bytes(pdu)).toEqual(Buffer.from(text, 'utf16le').swap16());
  });

  test('multipart: UDH 05 00 03 ref total seq, UDHI set, one reference, segments that join to the text', async () => {
    const s = await smsc();
    const { r } = await bound(s);
    const text = `Acme ${'0123456789'.repeat(20)}`; // 205 GSM-7 characters: 153 + 52
    const sent = await r.submitText('+33611120004', text, SEND);
    expect(sent.segments).toBe(2);
    const parts = await submits(s, '33611120004', 2);
    expect(parts.map((p) => p.esm_class)).toEqual([0x40, 0x40]);
    const udh = parts.map((p) => bytes(p).subarray(0, 6));
    expect(udh[0][3]).toBe(udh[1][3]);
    expect(udh.map((u) => [...u.subarray(0, 3), u[4], u[5]])).toEqual([
      [5, 0, 3, 2, 1],
      [5, 0, 3, 2, 2],
    ]);
    expect(parts.map((p) => bytes(p).subarray(6).toString('latin1')).join('')).toBe(text);
    expect(sent.messageIds).toEqual(parts.map((p) => p.message_id));
  });
});

describe('message ids and receipts', () => {
  test('hex submit ids ("0A1B2C") and a text-only receipt naming the id in decimal', async () => {
    const s = await smsc();
    const { r, conn, receipts } = await bound(s, { messageIds: { submit: 'hex', receipt: 'decimal' } });
    const [id] = (await r.submitText('+33611120005', 'Acme code 222222', SEND)).messageIds;
    expect(id).toMatch(/^[0-9A-F]{6}$/);
    const resp = await s.deliver(conn, receiptFields('+33611120005', receiptText(dec(id), 'DELIVRD')));
    expect(resp.status).toBe(0);
    const got = await until(() => receipts[0], 'receipt');
    expect(got).toMatchObject({ idSource: 'text', messageId: dec(id), stat: 'DELIVRD', err: '000', outcome: 'delivered' });
    expect(r.receiptKey(got)).toBe(r.submitKey(id));
  });

  test('decimal submit ids ("123456789") and a text-only receipt naming the id in hex, 12-digit dates', async () => {
    const s = await smsc();
    await s.idFormat('decimal');
    const { r, conn, receipts } = await bound(s, { messageIds: { submit: 'decimal', receipt: 'hex' } });
    const [id] = (await r.submitText('+33611120006', 'Acme code 333333', SEND)).messageIds;
    expect(id).toMatch(/^\d{9}$/);
    expect((await s.deliver(conn, receiptFields('+33611120006', receiptText(hex(id), 'UNDELIV', '260101120000', '001')))).status).toBe(0);
    const got = await until(() => receipts[0], 'receipt');
    expect(got).toMatchObject({ idSource: 'text', messageId: hex(id), stat: 'UNDELIV', err: '001', outcome: 'failed' });
    expect(r.receiptKey(got)).toBe(r.submitKey(id));
  });

  test('TLV receipt: receipted_message_id (submit form) and message_state win over the text', async () => {
    const s = await smsc();
    const { r, conn, receipts } = await bound(s, { messageIds: { submit: 'hex', receipt: 'decimal' } });
    const [id] = (await r.submitText('+33611120007', 'Acme code 444444', SEND)).messageIds;
    // Text says ENROUTE, the TLV says DELIVRD (2): the TLV is the one to believe.
    await s.deliver(conn, receiptFields('+33611120007', receiptText(dec(id), 'ENROUTE')), { receipted_message_id: id, message_state: 2 });
    const got = await until(() => receipts[0], 'receipt');
    expect(got).toMatchObject({ idSource: 'tlv', messageId: id, stat: 'DELIVRD', outcome: 'delivered' });
    expect(r.receiptKey(got)).toBe(r.submitKey(id));
  });

  test('TLV-only receipt: empty short_message, receipted_message_id and message_state UNDELIV (5)', async () => {
    const s = await smsc();
    const { r, conn, receipts } = await bound(s, { messageIds: { submit: 'hex', receipt: 'decimal' } });
    const [id] = (await r.submitText('+33611120008', 'Acme code 555555', SEND)).messageIds;
    expect((await s.deliver(conn, receiptFields('+33611120008', ''), { receipted_message_id: id, message_state: 5 })).status).toBe(0);
    const got = await until(() => receipts[0], 'receipt');
    expect(got).toMatchObject({ idSource: 'tlv', messageId: id, stat: 'UNDELIV', outcome: 'failed' });
    expect(r.receiptKey(got)).toBe(r.submitKey(id));
  });

  // node-smpp 0.5.1 reads a TLV C-string up to the next NUL; smpp/pdu-guard.ts bounds it by the TLV length,
  // so a receipted_message_id sent without its NUL no longer swallows the next TLV's tag.
  test('TLV receipt whose receipted_message_id has no NUL, followed by message_state', async () => {
    const s = await smsc();
    const { r, conn, receipts } = await bound(s, { messageIds: { submit: 'hex', receipt: 'decimal' } });
    const [id] = (await r.submitText('+33611120012', 'Acme code 777777', SEND)).messageIds;
    await s.deliver(conn, receiptFields('+33611120012', ''), { receipted_message_id: id, message_state: 2, no_nul: true });
    const got = await until(() => receipts[0], 'receipt');
    expect(got).toMatchObject({ idSource: 'tlv', messageId: id, stat: 'DELIVRD' });
  });

  test('a mobile-originated deliver_sm (not a receipt) is acknowledged and not taken for one', async () => {
    const s = await smsc();
    const { conn, receipts } = await bound(s);
    const resp = await s.deliver(conn, { source_addr: '33611120009', destination_addr: 'Acme', esm_class: 0, data_coding: 0, short_message: 'STOP' });
    expect(resp.status).toBe(0);
    expect(receipts).toHaveLength(0);
  });
});

describe('link management', () => {
  test('enquire_link both ways: Net::SMPP answers ours, we answer its', async () => {
    const s = await smsc();
    const { conn } = await bound(s, { enquireLinkMs: 200 });
    await s.waitFor((e) => e.event === 'enquire_link' && e.conn === conn, 'our enquire_link');
    const seq = await s.command('enquire_link', conn);
    const resp = await s.waitFor((e) => e.event === 'enquire_link_resp' && e.conn === conn && e.seq === seq, 'enquire_link_resp');
    expect(resp.status).toBe(0);
  });

  test('an unbind from the SMSC gets unbind_resp, and the bind comes back on a new connection', async () => {
    const s = await smsc();
    const { r, conn } = await bound(s);
    const seq = await s.command('unbind', conn);
    const resp = await s.waitFor((e) => e.event === 'unbind_resp' && e.conn === conn && e.seq === seq, 'unbind_resp');
    expect(resp.status).toBe(0);
    const again = await s.waitFor((e) => e.event === 'bind_transceiver' && e.conn !== conn && e.accepted === true, 'second bind');
    await r.ready(5000);
    await r.submitText('+33611120010', 'Acme code 666666', SEND);
    expect((await submits(s, '33611120010'))[0].conn).toBe(again.conn);
    expect(r.binds[0].stats.reconnects).toBeGreaterThanOrEqual(1);
  });

  test('our close sends unbind, Net::SMPP answers unbind_resp, and the bind does not come back', async () => {
    const s = await smsc();
    const { r, conn } = await bound(s);
    await r.close();
    expect(r.binds[0].state).toBe('closed');
    await s.waitFor((e) => e.event === 'unbind' && e.conn === conn, 'our unbind');
    await s.waitFor((e) => e.event === 'closed' && e.conn === conn, 'connection closed');
    expect(s.all('bind_transceiver')).toHaveLength(1);
  });
});

test('full stack: the worker sends over Net::SMPP, a decimal text receipt marks the session delivered, the code verifies', async () => {
  const s = await smsc();
  const routes = [{ name: 'netsmpp', host: '127.0.0.1', port: s.port, ...AUTH, messageIds: { submit: 'hex', receipt: 'decimal' } }];
  const stack = await startStack({}, { SMSC_ROUTES: JSON.stringify(routes) });
  cleanup.push(() => stack.stop());
  const phone = '+33611120011';
  accepted(await stack.otp.send(phone, { profile: 'fast' }));
  const pdu = await s.waitFor((e) => e.event === 'submit_sm' && e.destination_addr === '33611120011', 'the OTP submit_sm');
  expect(pdu).toMatchObject({ data_coding: 0, registered_delivery: 1 });
  expect(stack.sim.messages(phone)).toHaveLength(0); // the simulator the stack also starts got nothing
  const resp = await s.deliver(pdu.conn!, receiptFields(phone, receiptText(dec(String(pdu.message_id)), 'DELIVRD')));
  expect(resp.status).toBe(0); // acknowledged only once the worker recorded it
  const st = await until(
    async () => {
      const x = await stack.otp.status(phone);
      return x?.code?.delivery === 'delivered' ? x : undefined;
    },
    'session delivered',
    20_000,
  );
  expect(st.code).toMatchObject({ delivery: 'delivered', deliveryStat: 'DELIVRD' });
  // The code as Net::SMPP decoded it from our submit_sm (GSM digits are ASCII digits) must verify.
  expect(await stack.otp.verify(phone, codeFrom(bytes(pdu).toString('latin1')))).toMatchObject({ valid: true, outcome: 'verified' });
});
