import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import * as smpp from 'smpp';
import { SMPP_STATUS } from '../../smpp/errors';
import { decodeFrame, LIBRARY_MAX_PDU } from '../../smpp/pdu-guard';
import { parseRoutes } from '../../config/routes-config';
import { encodeReceipt, rawPdu, type HostileForm, type ReceiptFields } from '../../sim/hostile-pdus';

const FIELDS: ReceiptFields = {
  submitId: 'PY100003',
  text: 'id:PY100003 sub:001 dlvrd:001 submit date:2601010000 done date:2601010000 stat:DELIVRD err:000 text:',
  stat: 'DELIVRD',
  messageState: 2,
  tlvs: true,
  sourceAddr: '33600000000',
  destinationAddr: 'Acme',
};

function tlv(tag: number, value: Buffer, declared = value.length): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt16BE(tag, 0);
  h.writeUInt16BE(declared, 2);
  return Buffer.concat([h, value]);
}

function decoded(form: HostileForm): smpp.PDU {
  const r = decodeFrame(encodeReceipt(FIELDS, { form }, 7));
  if (!r.ok) throw new Error(`not decoded: ${r.reason}`);
  return r.pdu;
}

describe('decodeFrame', () => {
  test('the guard relies on smpp 0.5.1 internals (Session._callbacks, paused, _extractPDUs): re-check them before upgrading', () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, '../../node_modules/smpp/package.json'), 'utf8')) as { version: string };
    expect(pkg.version).toBe('0.5.1');
  });

  test('a well-formed receipt decodes as the library would', () => {
    const pdu = decoded('well_formed');
    expect(pdu).toMatchObject({ command: 'deliver_sm', sequence_number: 7, esm_class: 4, receipted_message_id: 'PY100003', message_state: 2 });
  });

  test('a last TLV of length 0 is left out, the rest is used', () => {
    const r = decodeFrame(encodeReceipt(FIELDS, { form: 'zero_length_last_tlv' }, 1));
    expect(r).toMatchObject({ ok: true, ignoredTlvs: [{ tag: 'message_state', reason: 'length 0, expected 1' }] });
    expect(r.ok && r.pdu.message_state).toBeUndefined();
    expect(r.ok && r.pdu.receipted_message_id).toBe('PY100003');
  });

  test('a C-string TLV without NUL is read by its length, not into the next TLV', () => {
    expect(decoded('tlv_without_nul')).toMatchObject({ receipted_message_id: 'PY100003', message_state: 2 });
  });

  test("a TLV longer than the PDU: the command's response with ESME_RINVTLVLEN", () => {
    const r = decodeFrame(encodeReceipt(FIELDS, { form: 'tlv_length_overrun' }, 9));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.reply).toMatchObject({ command: 'deliver_sm_resp', command_status: SMPP_STATUS.ESME_RINVTLVLEN, sequence_number: 9 });
  });

  test(`over ${LIBRARY_MAX_PDU} bytes: generic_nack ESME_RINVCMDLEN`, () => {
    const r = decodeFrame(encodeReceipt(FIELDS, { form: 'oversize' }, 3));
    expect(r).toMatchObject({ ok: false, reply: { command: 'generic_nack', command_status: SMPP_STATUS.ESME_RINVCMDLEN, sequence_number: 3 } });
  });

  test('sm_length longer than the PDU: ESME_RINVMSGLEN, never a truncated receipt text', () => {
    const good = encodeReceipt(FIELDS, { form: 'well_formed' }, 4);
    const cut = Buffer.from(good.subarray(0, 16 + 40)); // inside short_message
    cut.writeUInt32BE(cut.length, 0);
    expect(decodeFrame(cut)).toMatchObject({ ok: false, reply: { command: 'deliver_sm_resp', command_status: SMPP_STATUS.ESME_RINVMSGLEN } });
  });

  test('one trailing NUL inside the declared length is stripped; text after an inner NUL is not kept', () => {
    const base = new smpp.PDU('deliver_sm', { esm_class: 4, short_message: { message: 'x' } }).toBuffer().subarray(16);
    const withNul = rawPdu(5, 1, Buffer.concat([base, tlv(0x1e, Buffer.from('AB\0', 'latin1'))]));
    const inner = rawPdu(5, 1, Buffer.concat([base, tlv(0x1e, Buffer.from('AB\0CD', 'latin1'))]));
    expect(decodeFrame(withNul)).toMatchObject({ ok: true, pdu: { receipted_message_id: 'AB' } });
    expect(decodeFrame(inner)).toMatchObject({ ok: true, pdu: { receipted_message_id: 'AB' } });
  });

  test('data_sm receipts decode with their message_payload', () => {
    const r = decodeFrame(encodeReceipt(FIELDS, { asDataSm: true }, 5));
    expect(r.ok && r.pdu.command).toBe('data_sm');
    expect(r.ok && r.pdu.receipted_message_id).toBe('PY100003');
    expect(r.ok && (r.pdu.message_payload as { message: string }).message).toContain('stat:DELIVRD');
  });

  test('an unknown request is answered generic_nack ESME_RINVCMDID; an unknown response is only dropped', () => {
    expect(decodeFrame(rawPdu(0x222, 8, Buffer.alloc(0)))).toMatchObject({
      ok: false,
      reply: { command: 'generic_nack', command_status: SMPP_STATUS.ESME_RINVCMDID, sequence_number: 8 },
    });
    const resp = decodeFrame(rawPdu(0x80000222, 8, Buffer.alloc(0)));
    expect(resp).toMatchObject({ ok: false });
    expect(!resp.ok && (resp.reply ?? resp.headerOnly)).toBeUndefined();
  });

  test('a response whose body is unreadable hands on its header (status and sequence), without message_id', () => {
    const r = decodeFrame(rawPdu(0x80000004, 12, Buffer.concat([Buffer.from('abc\0', 'latin1'), tlv(0x1e, Buffer.from('x'), 50)])));
    expect(r).toMatchObject({ ok: false, headerOnly: { command: 'submit_sm_resp', command_status: 0, sequence_number: 12 } });
    expect(!r.ok && r.headerOnly?.message_id).toBeFalsy();
  });

  // Found by test/unit/fuzz-pdu-boundary.test.ts: refusing an unreadable outbind built 'outbind_resp',
  // which SMPP does not define, so decodeFrame threw inside the socket's 'readable' handler.
  test('an unreadable outbind or alert_notification is dropped: they have no response PDU', () => {
    const overrun = tlv(0x0422, Buffer.alloc(2), 0x50); // a TLV longer than the PDU
    for (const [id, body] of [
      [0x0b, Buffer.from([0, 0, 0, 0, 0, 1])], // the fuzzer's counterexample
      [0x0b, Buffer.concat([Buffer.from('A\0B\0', 'latin1'), overrun])],
      [0x102, Buffer.concat([Buffer.from([1, 1, 0x31, 0, 1, 1, 0x32, 0]), overrun])],
    ] as const) {
      const r = decodeFrame(rawPdu(id, 1, body));
      expect(r).toMatchObject({ ok: false });
      expect(!r.ok && (r.reply ?? r.headerOnly)).toBeUndefined();
    }
  });

  test('never throws, whatever the body (framed PDUs of any command)', () => {
    const ids = [0x5, 0x103, 0x80000004, 0x80000009, 0x15, 0x6, 0x222];
    fc.assert(
      fc.property(fc.constantFrom(...ids), fc.uint8Array({ maxLength: 300 }), (id, body) => {
        const r = decodeFrame(rawPdu(id, 1, Buffer.from(body)));
        expect(typeof r.ok).toBe('boolean');
      }),
      { numRuns: 2000 },
    );
  });
});

describe('route settings', () => {
  test('interfaceVersion and receiptAckDeadlineMs are route settings, range-checked', () => {
    const base = { name: 'r', host: 'h', port: 2775, systemId: 'otp' };
    expect(parseRoutes(JSON.stringify([{ ...base, interfaceVersion: 0x34, receiptAckDeadlineMs: 1500 }]), 't')[0]).toMatchObject({
      interfaceVersion: 0x34,
      receiptAckDeadlineMs: 1500,
    });
    expect(() => parseRoutes(JSON.stringify([{ ...base, interfaceVersion: 0x99 }]), 't')).toThrow(/interfaceVersion must be an integer from 51 to 80/);
  });
});
