/**
 * The ESME engine against the simulator's hostile mode (sim/hostile-pdus.ts):
 * malformed PDUs, TLVs that lie, receipts in other forms, unknown commands,
 * the interface_version we announce, a carrier that waits less for
 * deliver_sm_resp than our receipt handler takes, and submit_sm_resp without id.
 */
import { SmppBind } from '../smpp/bind';
import { SMPP_STATUS } from '../smpp/errors';
import { isUnlinkedMessageId } from '../smpp/ids';
import type { ParsedReceipt } from '../smpp/receipt';
import { SmscRoute } from '../smpp/smsc';
import { rawPdu } from '../sim/hostile-pdus';
import { SmscSimulator } from '../sim/smsc-simulator';
import { quiet, SEND, smppKit, until } from './helpers/smpp';

const { cleanup, sim, route } = smppKit({ name: 'h', responseTimeoutMs: 1000, submitDeadlineMs: 3000 });

function collect(r: SmscRoute): ParsedReceipt[] {
  const got: ParsedReceipt[] = [];
  r.onReceipt(async (x) => void got.push(x));
  return got;
}

/** The ESME's answers to the receipts of one message, in order (-1: none in time). */
function answers(s: SmscSimulator, submitId: string): (number | undefined)[] {
  return s.receiptsSent.filter((x) => x.submitId === submitId).map((x) => x.status);
}

describe('finding 1: a malformed PDU never stalls a bind', () => {
  test('a deliver_sm whose last TLV has length 0 is read (TLV ignored), answered, and the bind keeps reading', async () => {
    const s = await sim();
    s.hostile.forDestination('+33612000001', { receipt: { form: 'zero_length_last_tlv' } });
    const r = route(s);
    const receipts = collect(r);
    await r.ready();
    const [id] = (await r.submitText('+33612000001', 'x', SEND)).messageIds;
    await until(() => answers(s, id)[0] !== undefined, 'the receipt answered');
    expect(answers(s, id)[0]).toBe(SMPP_STATUS.ESME_ROK);
    expect(receipts.find((x) => x.messageId === id)).toMatchObject({ stat: 'DELIVRD', outcome: 'delivered' });
    // Still reading: the next submit is answered, and sent once.
    await r.submitText('+33612000002', 'y', SEND);
    expect(s.submits.filter((x) => x.to === '+33612000002')).toHaveLength(1);
    expect(r.binds[0].describe()).toMatchObject({ state: 'bound', pdu: expect.objectContaining({ tlvsIgnored: 1 }) });
  });

  test('a PDU over 16 KiB is answered generic_nack ESME_RINVCMDLEN and counted; the re-sent receipt is filed; nothing is sent twice', async () => {
    const s = await sim();
    s.hostile.forDestination('+33612000003', { receipt: { form: 'oversize' } });
    const r = route(s);
    const receipts = collect(r);
    await r.ready();
    const [id] = (await r.submitText('+33612000003', 'x', SEND)).messageIds;
    await until(() => answers(s, id)[1] !== undefined, 'the re-sent receipt answered');
    expect(answers(s, id)).toEqual([SMPP_STATUS.ESME_RINVCMDLEN, SMPP_STATUS.ESME_ROK]);
    expect(receipts.map((x) => x.messageId)).toEqual([id]);
    await r.submitText('+33612000004', 'y', SEND);
    expect(s.submits.filter((x) => x.to === '+33612000004')).toHaveLength(1);
    expect(r.binds[0].describe().pdu).toMatchObject({ nacked: 1, parseTeardowns: 0 });
  });

  test('lost framing (command_length 8) marks the bind down, tears the session down, counts it, and the bind comes back', async () => {
    const s = await sim();
    const r = route(s);
    await r.ready();
    const bind = r.binds[0];
    const session = s.boundSession('otp')!;
    const seq = s.hostile.nextSequence();
    const garbage = rawPdu(0x00000005, seq, Buffer.alloc(0));
    garbage.writeUInt32BE(8, 0);
    s.hostile.sendRaw(session, garbage, seq);
    await until(() => !bind.canSubmit, 'the bind marked down');
    expect(bind.describe().pdu).toMatchObject({ parseTeardowns: 1 });
    // The next submit waits for the new session and is sent once.
    await r.submitText('+33612000005', 'after', SEND);
    expect(s.submits.filter((x) => x.to === '+33612000005')).toHaveLength(1);
    expect(bind.stats.reconnects).toBeGreaterThanOrEqual(1);
  });
});

describe('finding 2: interface_version', () => {
  test('binds announce SMPP 3.4 (0x34): an SMSC that accepts only 3.4 binds us', async () => {
    const s = await sim();
    s.hostile.forBind('otp', { requireInterfaceVersion: 0x34 });
    const r = route(s, { bindMode: 'transmitter+receiver' });
    await r.allReady(3000);
    expect(s.hostile.bindsSeen.map((b) => [b.interfaceVersion, b.refused])).toEqual([
      [0x34, false],
      [0x34, false],
    ]);
    // The check bites: a bind announcing 5.0 is refused.
    const v5 = new SmppBind({
      name: 'v5',
      host: '127.0.0.1',
      port: s.smppPort,
      systemId: 'otp',
      password: 'secret',
      interfaceVersion: 0x50,
      logger: quiet,
      reconnectInitialMs: 10_000,
    });
    v5.start();
    cleanup.push(() => v5.close());
    expect(await until(() => s.hostile.bindsSeen.find((b) => b.refused), 'the 5.0 bind refused')).toEqual({
      systemId: 'otp',
      interfaceVersion: 0x50,
      refused: true,
    });
    expect(v5.state).not.toBe('bound');
  });
});

describe('finding 3: TLVs are read by their length', () => {
  test('a receipted_message_id without NUL is filed under its own id, not glued to the next TLV', async () => {
    const s = await sim();
    s.hostile.forDestination('+33612000006', { receipt: { form: 'tlv_without_nul' } });
    const r = route(s);
    const receipts = collect(r);
    await r.ready();
    const [id] = (await r.submitText('+33612000006', 'x', SEND)).messageIds;
    await until(() => answers(s, id)[0] !== undefined, 'the receipt answered');
    expect(receipts.map((x) => x.messageId)).toEqual([id]);
    expect(answers(s, id)).toEqual([SMPP_STATUS.ESME_ROK]);
  });

  test('a TLV longer than the PDU is answered ESME_RINVTLVLEN (never ROK), so the SMSC re-sends; nothing is mis-filed', async () => {
    const s = await sim();
    s.hostile.forDestination('+33612000007', { receipt: { form: 'tlv_length_overrun' } });
    const r = route(s);
    const receipts = collect(r);
    await r.ready();
    const [id] = (await r.submitText('+33612000007', 'x', SEND)).messageIds;
    await until(() => answers(s, id)[1] !== undefined, 'the re-sent receipt answered');
    expect(receipts.map((x) => x.messageId)).toEqual([id]);
    expect(answers(s, id)).toEqual([SMPP_STATUS.ESME_RINVTLVLEN, SMPP_STATUS.ESME_ROK]);
    expect(r.binds[0].describe().pdu).toMatchObject({ nacked: 1 });
  });
});

describe('finding 4: receipts in other forms, unknown commands', () => {
  test('a receipt as data_sm is read and answered with data_sm_resp', async () => {
    const s = await sim();
    s.hostile.forDestination('+33612000008', { receipt: { asDataSm: true } });
    const r = route(s);
    const receipts = collect(r);
    await r.ready();
    const [id] = (await r.submitText('+33612000008', 'x', SEND)).messageIds;
    await until(() => answers(s, id)[0] !== undefined, 'the data_sm answered');
    expect(answers(s, id)).toEqual([SMPP_STATUS.ESME_ROK]);
    expect(receipts.find((x) => x.messageId === id)).toMatchObject({ outcome: 'delivered' });
  });

  test.each([
    ['0x08', 0x08],
    ['0x20', 0x20],
  ])('esm_class %s (SME ack / intermediate notification) is read as a receipt, as Kannel does', async (_, esmClass) => {
    const s = await sim();
    s.hostile.forDestination('+33612000009', { receipt: { esmClass } });
    const r = route(s);
    const receipts = collect(r);
    await r.ready();
    const [id] = (await r.submitText('+33612000009', 'x', SEND)).messageIds;
    await until(() => receipts.find((x) => x.messageId === id), 'the receipt');
  });

  test.each([
    ['DELIVERED', 'DELIVRD', 'delivered'],
    ['UNDELIVERABLE', 'UNDELIV', 'failed'],
    ['REJECTED', 'REJECTD', 'failed'],
  ])('the long stat word %s (no message_state TLV) reads as %s, %s', async (word, stat, outcome) => {
    const s = await sim();
    s.hostile.forDestination('+33612000010', { receipt: { stat: word } });
    const r = route(s);
    const receipts = collect(r);
    await r.ready();
    const [id] = (await r.submitText('+33612000010', 'x', SEND)).messageIds;
    expect(await until(() => receipts.find((x) => x.messageId === id), 'the receipt')).toMatchObject({ stat, outcome });
  });

  test('an unknown command is answered generic_nack ESME_RINVCMDID, and counted', async () => {
    const s = await sim();
    const r = route(s);
    await r.ready();
    const answer = await s.hostile.sendUnknownCommand(s.boundSession('otp')!, 1500);
    expect(answer).toEqual({ commandId: 0x80000000, commandStatus: SMPP_STATUS.ESME_RINVCMDID });
    expect(r.binds[0].describe().pdu).toMatchObject({ nacked: 1 });
  });
});

describe('finding 5: deadlines and ids', () => {
  test('a receipt handler slower than the carrier waits: deliver_sm is answered ESME_RX_T_APPN in time, and the re-sent receipt is acknowledged', async () => {
    const s = await sim();
    s.hostile.forBind('otp', { receiptResponseTimeoutMs: 1500 }); // the carrier gives up after 1.5 s
    const r = route(s, { receiptAckDeadlineMs: 200 });
    let release!: () => void;
    const stuck = new Promise<void>((resolve) => (release = resolve));
    let calls = 0;
    r.onReceipt(async () => {
      if (++calls === 1) await stuck; // the first attempt takes longer than the carrier waits
    });
    cleanup.push(async () => release());
    await r.ready();
    const [id] = (await r.submitText('+33612000011', 'x', SEND)).messageIds;
    await until(() => answers(s, id)[1] !== undefined, 'the re-sent receipt answered', 5000);
    expect(answers(s, id)).toEqual([SMPP_STATUS.ESME_RX_T_APPN, SMPP_STATUS.ESME_ROK]);
    expect(r.binds[0].describe().pdu).toMatchObject({ receiptsDeferred: 1 });
  });

  test('submit_sm_resp ESME_ROK without message_id: accepted (the code is out), never re-sent, counted', async () => {
    const s = await sim();
    s.hostile.forDestination('+33612000012', { submitResponse: 'ok_without_message_id' });
    const r = route(s);
    await r.ready();
    const sent = await r.submitText('+33612000012', 'x', SEND);
    expect(sent.messageIds).toHaveLength(1);
    expect(isUnlinkedMessageId(sent.messageIds[0])).toBe(true);
    expect(s.submits.filter((x) => x.to === '+33612000012')).toHaveLength(1);
    expect(r.binds[0].describe().pdu).toMatchObject({ acceptedWithoutId: 1 });
  });
});
