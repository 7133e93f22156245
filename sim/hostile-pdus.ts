/**
 * The simulator's hostile mode: what real SMSCs send that the `smpp` library
 * mishandles, scripted per destination (a message's receipt, its
 * submit_sm_resp) and per bind (by system_id: the interface_version it must
 * announce, how long the SMSC waits for deliver_sm_resp, receipts on it).
 * PDUs are built as raw bytes so they can be broken on purpose.
 */
import * as smpp from 'smpp';
import { SMPP_STATUS } from '../smpp/errors';

/** How a receipt PDU is broken. */
export type HostileForm =
  /** Valid; the other HostileReceipt fields still apply. */
  | 'well_formed'
  /** The last TLV (message_state) has length 0. */
  | 'zero_length_last_tlv'
  /** Over the library's 16 KiB limit (a vendor TLV of padding). */
  | 'oversize'
  /** receipted_message_id without its NUL, another TLV right after it. */
  | 'tlv_without_nul'
  /** receipted_message_id without NUL declares more bytes than the PDU holds. */
  | 'tlv_length_overrun';

export const HOSTILE_FORMS: readonly HostileForm[] = ['well_formed', 'zero_length_last_tlv', 'oversize', 'tlv_without_nul', 'tlv_length_overrun'];

export interface HostileReceipt {
  /** @default 'well_formed' */
  form?: HostileForm;
  /** Send the receipt as data_sm (TLVs, text in message_payload). @default false */
  asDataSm?: boolean;
  /** @default 0x04 (SMSC delivery receipt) */
  esmClass?: number;
  /** Stat word in the text instead of the standard one, e.g. "DELIVERED". */
  stat?: string;
  /** message_state TLV; null leaves it out. @default the standard state, or none when `stat` is given */
  messageState?: number | null;
  /** Receipt attempts sent this way; re-sends after that are standard. @default 1 */
  attempts?: number;
}

export interface HostileBind {
  /** Refuse (ESME_RBINDFAIL) a bind announcing another interface_version, e.g. 0x34. @default null: any */
  requireInterfaceVersion?: number | null;
  /** How long the SMSC waits for a deliver_sm_resp before it counts the receipt as unanswered and re-sends it. @default null: forever */
  receiptResponseTimeoutMs?: number | null;
  /** Receipts sent on this account's binds (a destination's script wins). */
  receipt?: HostileReceipt;
}

export interface HostileDestination {
  receipt?: HostileReceipt;
  /** 'ok_without_message_id': submit_sm_resp ESME_ROK with an empty message_id. */
  submitResponse?: 'ok_without_message_id';
}

/** What the receipt says, before it is encoded. */
export interface ReceiptFields {
  /** The id as submit_sm_resp gave it (receipted_message_id). */
  submitId: string;
  text: string;
  /** The standard stat word (DELIVRD, …) and its message_state. */
  stat: string;
  messageState: number | undefined;
  /** Put receipted_message_id / message_state in a standard receipt. */
  tlvs: boolean;
  sourceAddr: string;
  destinationAddr: string;
}

/** A bind the SMSC saw, with the interface_version it announced. */
export interface BindSeen {
  systemId: string;
  interfaceVersion: number;
  refused: boolean;
}

/** command_status the ESME answered, or 'timeout' when it did not answer within receiptResponseTimeoutMs. */
export type ReceiptAnswer = number | 'timeout';

const TAG = { receipted_message_id: 0x001e, message_state: 0x0427, message_payload: 0x0424, vendorPadding: 0x1400 } as const;
const DELIVER_SM = 0x00000005;
const DATA_SM = 0x00000103;
/** Raw PDUs use their own sequence numbers, clear of the library's (which count up from 1). */
const RAW_SEQUENCE_BASE = 0x40000000;

function tlv(tag: number, value: Buffer, declaredLength = value.length): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt16BE(tag, 0);
  head.writeUInt16BE(declaredLength, 2);
  return Buffer.concat([head, value]);
}

function cstring(s: string): Buffer {
  return Buffer.concat([Buffer.from(s, 'latin1'), Buffer.alloc(1)]);
}

/** A PDU from its header fields and body; command_length is computed. */
export function rawPdu(commandId: number, sequence: number, body: Buffer, commandStatus = 0): Buffer {
  const head = Buffer.alloc(16);
  head.writeUInt32BE(16 + body.length, 0);
  head.writeUInt32BE(commandId >>> 0, 4);
  head.writeUInt32BE(commandStatus >>> 0, 8);
  head.writeUInt32BE(sequence >>> 0, 12);
  return Buffer.concat([head, body]);
}

/** The receipt as bytes: mandatory part from the library's encoder, TLVs by hand (so they can lie). */
export function encodeReceipt(f: ReceiptFields, h: HostileReceipt, sequence: number): Buffer {
  const form = h.form ?? 'well_formed';
  const esmClass = h.esmClass ?? 0x04;
  const text = h.stat ? f.text.replace(/stat:\S+/, `stat:${h.stat}`) : f.text;
  const state = h.messageState !== undefined ? h.messageState : h.stat ? null : (f.messageState ?? null);
  const addr = { source_addr_ton: 1, source_addr_npi: 1, source_addr: f.sourceAddr, destination_addr: f.destinationAddr, esm_class: esmClass, data_coding: 0 };
  const commandId = h.asDataSm ? DATA_SM : DELIVER_SM;
  const base = h.asDataSm ? new smpp.PDU('data_sm', addr).toBuffer() : new smpp.PDU('deliver_sm', { ...addr, short_message: { message: text } }).toBuffer();
  const mandatory = base.subarray(16);
  const id = Buffer.from(f.submitId, 'latin1');
  const stateTlv = (len = 1) => tlv(TAG.message_state, len ? Buffer.from([state ?? 2]) : Buffer.alloc(0), len);
  const tlvs: Buffer[] = [];
  if (h.asDataSm) tlvs.push(tlv(TAG.message_payload, Buffer.from(text, 'latin1')));
  const standard = f.tlvs || form !== 'well_formed' || h.asDataSm;
  switch (form) {
    case 'well_formed':
      if (standard) tlvs.push(tlv(TAG.receipted_message_id, cstring(f.submitId)));
      if (standard && state !== null) tlvs.push(stateTlv());
      break;
    case 'zero_length_last_tlv':
      tlvs.push(tlv(TAG.receipted_message_id, cstring(f.submitId)), stateTlv(0));
      break;
    case 'oversize':
      tlvs.push(tlv(TAG.vendorPadding, Buffer.alloc(17_000, 0x41)), tlv(TAG.receipted_message_id, cstring(f.submitId)));
      if (state !== null) tlvs.push(stateTlv());
      break;
    case 'tlv_without_nul':
      tlvs.push(tlv(TAG.receipted_message_id, id), stateTlv());
      break;
    case 'tlv_length_overrun':
      tlvs.push(tlv(TAG.receipted_message_id, id, id.length + 16), stateTlv());
      break;
  }
  return rawPdu(commandId, sequence, Buffer.concat([mandatory, ...tlvs]));
}

/** The hostile script of one simulator, and what it observed. */
export class HostileScript {
  private readonly destinations = new Map<string, HostileDestination>();
  private readonly binds = new Map<string, HostileBind>();
  private readonly used = new Map<HostileReceipt, number>();
  private readonly waiting = new WeakMap<smpp.Session, Map<number, (pdu: smpp.PDU) => void>>();
  private sequence = RAW_SEQUENCE_BASE;
  /** Every bind_* the SMSC answered, in order. */
  readonly bindsSeen: BindSeen[] = [];
  /** Answers to PDUs sent with sendRaw / sendUnknownCommand, in order. */
  readonly rawAnswers: { commandId: number; commandStatus: number; sequence: number }[] = [];

  /** Scripts one destination (E.164); undefined clears it. */
  forDestination(to: string, script: HostileDestination | undefined): void {
    if (script) this.destinations.set(to, script);
    else this.destinations.delete(to);
  }

  /** Scripts every bind of one account (system_id); undefined clears it. */
  forBind(systemId: string, script: HostileBind | undefined): void {
    if (script) this.binds.set(systemId, script);
    else this.binds.delete(systemId);
  }

  /** Records the bind; returns the status to refuse it with, or undefined to go on. */
  checkBind(pdu: smpp.PDU): number | undefined {
    const systemId = pdu.system_id ?? '';
    const interfaceVersion = typeof pdu.interface_version === 'number' ? pdu.interface_version : -1;
    const required = this.binds.get(systemId)?.requireInterfaceVersion;
    const refused = required !== undefined && required !== null && interfaceVersion !== required;
    this.bindsSeen.push({ systemId, interfaceVersion, refused });
    return refused ? SMPP_STATUS.ESME_RBINDFAIL : undefined;
  }

  /** The message_id for a submit_sm_resp. */
  submitMessageId(to: string, messageId: string): string {
    return this.destinations.get(to)?.submitResponse === 'ok_without_message_id' ? '' : messageId;
  }

  /**
   * Sends a receipt on `session` (standard, or as scripted for its destination
   * or account) and reports the ESME's command_status, or 'timeout'.
   */
  deliverReceipt(session: smpp.Session, systemId: string, to: string, fields: ReceiptFields, done: (answer: ReceiptAnswer) => void): void {
    const bind = this.binds.get(systemId);
    const script = this.destinations.get(to)?.receipt ?? bind?.receipt;
    const hostile = script && (this.used.get(script) ?? 0) < (script.attempts ?? 1) ? script : undefined;
    if (hostile) this.used.set(hostile, (this.used.get(hostile) ?? 0) + 1);
    let finished = false;
    const finish = (answer: ReceiptAnswer) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      done(answer);
    };
    const timeoutMs = bind?.receiptResponseTimeoutMs;
    const timer = timeoutMs ? setTimeout(() => finish('timeout'), timeoutMs) : undefined;
    timer?.unref();
    if (!hostile) {
      session.deliver_sm(
        {
          source_addr: fields.sourceAddr,
          source_addr_ton: 1,
          source_addr_npi: 1,
          destination_addr: fields.destinationAddr,
          esm_class: 0x04,
          data_coding: 0,
          short_message: { message: fields.text },
          ...(fields.tlvs ? { receipted_message_id: fields.submitId, message_state: fields.messageState } : {}),
        },
        (resp) => finish(resp.command_status),
      );
      return;
    }
    const seq = ++this.sequence;
    this.awaitAnswer(session, seq, (resp) => finish(resp.command_status));
    session.socket.write(encodeReceipt(fields, hostile, seq));
  }

  /** Writes raw bytes on a session; an answer to `sequence` lands in rawAnswers. */
  sendRaw(session: smpp.Session, bytes: Buffer, sequence: number): void {
    this.awaitAnswer(session, sequence, (resp) => this.rawAnswers.push({ commandId: resp.command_id, commandStatus: resp.command_status, sequence }));
    session.socket.write(bytes);
  }

  /** Sends a request with a command_id SMPP does not define; resolves with the answer, or undefined after timeoutMs. */
  sendUnknownCommand(session: smpp.Session, timeoutMs: number, commandId = 0x00000222): Promise<{ commandId: number; commandStatus: number } | undefined> {
    const seq = ++this.sequence;
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(undefined), timeoutMs);
      this.awaitAnswer(session, seq, (resp) => {
        clearTimeout(timer);
        resolve({ commandId: resp.command_id, commandStatus: resp.command_status });
      });
      session.socket.write(rawPdu(commandId, seq, Buffer.alloc(0)));
    });
  }

  nextSequence(): number {
    return ++this.sequence;
  }

  private awaitAnswer(session: smpp.Session, seq: number, cb: (pdu: smpp.PDU) => void): void {
    let pending = this.waiting.get(session);
    if (!pending) {
      const map = new Map<number, (pdu: smpp.PDU) => void>();
      this.waiting.set(session, map);
      session.on('pdu', (pdu: smpp.PDU) => {
        const hit = pdu.isResponse() ? map.get(pdu.sequence_number) : undefined;
        if (!hit) return;
        map.delete(pdu.sequence_number);
        hit(pdu);
      });
      pending = map;
    }
    pending.set(seq, cb);
  }
}
