/**
 * A PDU reader for our ESME sessions that never stalls. smpp 0.5.1's
 * `_extractPDUs` emits 'error' on any parse failure and keeps `_busy` set, so
 * the session never reads again while the bind still looks bound; it also
 * reads TLV C-strings up to the next NUL, ignoring their length.
 *
 * Choice: the parser is resilient, not the session disposable. A PDU that
 * can be framed (16 <= command_length <= MAX_FRAME_BYTES) is always consumed;
 * if it cannot be used it is answered with an error status (so the SMSC
 * re-sends it) and reading goes on. Only when framing is lost (a
 * command_length no PDU can have) is the session torn down, because the next
 * byte boundary is unknown. Tearing down on every bad PDU would loop: the
 * SMSC re-sends the same PDU after every reconnect.
 *
 * Before the library decodes a PDU, its TLVs are checked against their
 * declared lengths and rewritten canonically (see sanitizeTlvs), so the
 * library's decoder only ever sees TLVs it reads correctly. The library's
 * codecs are not patched: the check runs on the raw bytes of our sessions only.
 */
import * as smpp from 'smpp';
import { SMPP_STATUS } from './errors';

/** Largest PDU we frame: a 64 KiB message_payload plus mandatory fields. Longer means the length is garbage. */
export const MAX_FRAME_BYTES = 70_000;
/** What the library can decode (PDU.maxLength); a longer frame is consumed and refused. */
export const LIBRARY_MAX_PDU = smpp.PDU.maxLength;
/** Requests that have no response PDU, so nothing is ever answered to them. */
const NO_RESPONSE = new Set(['alert_notification', 'outbind']);

/** What the guard did with a PDU it could not take as it came. */
export type PduGuardEvent =
  /** Answered with an error status (generic_nack or the command's response). */
  | { kind: 'nacked'; command: string; status: number; reason: string }
  /** Read and not used: a response nobody waits for, or whose body was unreadable; an unreadable outbind or alert_notification (they have no response). */
  | { kind: 'dropped'; command: string; reason: string }
  /** The PDU was used without one TLV whose length did not fit its type. */
  | { kind: 'tlv_ignored'; command: string; tag: string; reason: string }
  /** The byte stream cannot be framed; the session is destroyed right after. */
  | { kind: 'framing_lost'; reason: string }
  /** A listener threw while handling a PDU; reading goes on. */
  | { kind: 'listener_error'; command: string; error: Error };

interface LibType {
  read(buffer: Buffer, offset: number, length?: number): unknown;
  size(value?: unknown): number;
}
interface LibTlvDef {
  tag: string;
  type: LibType;
}
interface LibCommandDef {
  command: string;
  params?: Record<string, { type: LibType }>;
}
/** The parts of smpp 0.5.1's module we read (exported, but untyped). */
interface LibDefs {
  commandsById: Record<number, LibCommandDef | undefined>;
  tlvsById: Record<number, LibTlvDef | undefined>;
  types: { int8: LibType; int16: LibType; int32: LibType; cstring: LibType; buffer: LibType; tlv: { cstring: LibType } };
}
/** smpp 0.5.1 Session internals the reader replaces or uses. */
interface SessionInternals {
  paused: boolean;
  _callbacks: Record<number, ((pdu: smpp.PDU) => void) | undefined>;
  _extractPDUs: () => void;
}

const lib = smpp as unknown as LibDefs;
const FIXED_SIZE = new Map<LibType, number>([
  [lib.types.int8, 1],
  [lib.types.int16, 2],
  [lib.types.int32, 4],
]);

export type DecodeResult =
  | { ok: true; pdu: smpp.PDU; ignoredTlvs: { tag: string; reason: string }[] }
  /** Not usable: answer `reply` (a request) or, for a response, hand on `headerOnly`; neither for a request without response PDU. */
  | { ok: false; command: string; status: number; reason: string; reply?: smpp.PDU; headerOnly?: smpp.PDU };

class BodyError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function commandName(commandId: number): string {
  return lib.commandsById[commandId]?.command ?? `0x${commandId.toString(16).padStart(8, '0')}`;
}

/** The offset where TLVs start, walking the mandatory fields as the library does; throws BodyError when a length overruns. */
function mandatoryEnd(buf: Buffer, def: LibCommandDef): number {
  let offset = 16;
  for (const { type } of Object.values(def.params ?? {})) {
    if (offset >= buf.length) break;
    if (type === lib.types.buffer && buf[offset] > buf.length - offset - 1)
      throw new BodyError(SMPP_STATUS.ESME_RINVMSGLEN, 'sm_length is longer than the PDU');
    let value: unknown;
    try {
      value = type.read(buf, offset);
    } catch {
      throw new BodyError(SMPP_STATUS.ESME_RINVCMDLEN, 'mandatory fields are longer than the PDU');
    }
    offset += type.size(value);
  }
  return offset;
}

/**
 * Checks every TLV against the PDU and its type, and rewrites them so the
 * library reads them right: a C-string TLV holds exactly its declared bytes
 * (one trailing NUL stripped, then NUL-terminated); an integer TLV whose
 * length is not its size is left out (as Kannel does). A TLV running past the
 * end of the PDU makes the PDU invalid (ESME_RINVTLVLEN).
 */
function sanitizeTlvs(buf: Buffer, start: number, ignored: { tag: string; reason: string }[]): Buffer {
  const out: Buffer[] = [];
  let offset = start;
  // Fewer than 4 trailing bytes cannot hold a TLV; the library skips them too.
  while (offset + 4 <= buf.length) {
    const id = buf.readUInt16BE(offset);
    const length = buf.readUInt16BE(offset + 2);
    const end = offset + 4 + length;
    const def = lib.tlvsById[id];
    const tag = def?.tag ?? `0x${id.toString(16).padStart(4, '0')}`;
    if (end > buf.length) throw new BodyError(SMPP_STATUS.ESME_RINVTLVLEN, `TLV ${tag} declares ${length} bytes, the PDU holds ${buf.length - offset - 4}`);
    let value = buf.subarray(offset + 4, end);
    const fixed = def ? FIXED_SIZE.get(def.type) : undefined;
    if (fixed !== undefined && length !== fixed) {
      ignored.push({ tag, reason: `length ${length}, expected ${fixed}` });
      offset = end;
      continue;
    }
    if (def?.type === lib.types.tlv.cstring) {
      if (value.length && value[value.length - 1] === 0) value = value.subarray(0, -1);
      const nul = value.indexOf(0);
      value = Buffer.concat([nul === -1 ? value : value.subarray(0, nul), Buffer.alloc(1)]);
    }
    const head = Buffer.alloc(4);
    head.writeUInt16BE(id, 0);
    head.writeUInt16BE(value.length, 2);
    out.push(head, value);
    offset = end;
  }
  return Buffer.concat(out);
}

function headerOnly(buf: Buffer): smpp.PDU {
  const head = Buffer.from(buf.subarray(0, 16));
  head.writeUInt32BE(16, 0);
  return new smpp.PDU(head);
}

/**
 * Decodes one framed PDU (command_length already checked). Pure: unit-testable without a socket.
 * Never throws: it runs in the socket's 'readable' handler, where a throw would crash the worker.
 */
export function decodeFrame(buf: Buffer): DecodeResult {
  try {
    return decodeFramed(buf);
  } catch (err) {
    const isResponse = (buf.readUInt32BE(4) & 0x80000000) !== 0;
    const reason = `undecodable: ${(err as Error).message}`;
    const command = commandName(buf.readUInt32BE(4));
    if (isResponse || NO_RESPONSE.has(command)) return { ok: false, command, status: SMPP_STATUS.ESME_RSYSERR, reason };
    return {
      ok: false,
      command,
      status: SMPP_STATUS.ESME_RSYSERR,
      reason,
      reply: new smpp.PDU('generic_nack', { sequence_number: buf.readUInt32BE(12), command_status: SMPP_STATUS.ESME_RSYSERR }),
    };
  }
}

function decodeFramed(buf: Buffer): DecodeResult {
  const commandId = buf.readUInt32BE(4);
  const sequence = buf.readUInt32BE(12);
  const command = commandName(commandId);
  const isResponse = (commandId & 0x80000000) !== 0;
  const def = lib.commandsById[commandId];
  const refuse = (status: number, reason: string, own: boolean): DecodeResult => {
    if (isResponse) return { ok: false, command, status, reason, headerOnly: def ? headerOnly(buf) : undefined };
    // outbind and alert_notification have no response PDU (there is no outbind_resp): only dropped.
    if (NO_RESPONSE.has(command)) return { ok: false, command, status, reason };
    // The command's own response when we know it; generic_nack for a bad length or an unknown command.
    const reply =
      own && def
        ? new smpp.PDU(`${def.command}_resp`, { sequence_number: sequence, command_status: status })
        : new smpp.PDU('generic_nack', { sequence_number: sequence, command_status: status });
    return { ok: false, command, status, reason, reply };
  };
  if (!def) return refuse(SMPP_STATUS.ESME_RINVCMDID, 'unknown command_id', false);
  if (buf.length > LIBRARY_MAX_PDU) return refuse(SMPP_STATUS.ESME_RINVCMDLEN, `PDU of ${buf.length} bytes is over ${LIBRARY_MAX_PDU}`, false);
  const ignoredTlvs: { tag: string; reason: string }[] = [];
  let clean: Buffer;
  try {
    const tlvStart = mandatoryEnd(buf, def);
    const tlvs = tlvStart < buf.length ? sanitizeTlvs(buf, tlvStart, ignoredTlvs) : Buffer.alloc(0);
    clean = Buffer.concat([buf.subarray(0, Math.min(tlvStart, buf.length)), tlvs]);
    clean.writeUInt32BE(clean.length, 0);
  } catch (err) {
    if (!(err instanceof BodyError)) throw err;
    return refuse(err.status, err.message, err.status !== SMPP_STATUS.ESME_RINVCMDLEN);
  }
  try {
    return { ok: true, pdu: new smpp.PDU(clean), ignoredTlvs };
  } catch (err) {
    return refuse(SMPP_STATUS.ESME_RSYSERR, `undecodable: ${(err as Error).message}`, true);
  }
}

/**
 * Replaces the session's reader with one that frames by command_length,
 * answers what it cannot use, and reports through `report`. Call right after
 * smpp.connect(), before any data arrives.
 */
export function guardSession(session: smpp.Session, report: (event: PduGuardEvent) => void): void {
  const internals = session as unknown as SessionInternals;
  const socket = session.socket;
  let busy = false;
  let length: number | null = null;
  let lost = false;

  const dispatch = (pdu: smpp.PDU) => {
    try {
      if (!pdu.isResponse() && !NO_RESPONSE.has(pdu.command) && session.listenerCount(pdu.command) === 0) {
        // A request nobody handles (e.g. query_sm sent to an ESME) still gets an answer.
        session.send(new smpp.PDU('generic_nack', { sequence_number: pdu.sequence_number, command_status: SMPP_STATUS.ESME_RINVCMDID }));
        report({ kind: 'nacked', command: pdu.command, status: SMPP_STATUS.ESME_RINVCMDID, reason: 'command not supported by this ESME' });
        return;
      }
      session.emit('pdu', pdu);
      session.emit(pdu.command, pdu);
      if (!pdu.isResponse()) return;
      const callback = internals._callbacks[pdu.sequence_number];
      if (!callback) return report({ kind: 'dropped', command: pdu.command, reason: 'response nobody waits for' });
      delete internals._callbacks[pdu.sequence_number];
      callback(pdu);
    } catch (error) {
      report({ kind: 'listener_error', command: pdu.command, error: error as Error });
    }
  };

  const loseFraming = (reason: string) => {
    lost = true;
    report({ kind: 'framing_lost', reason });
    session.destroy();
  };

  const read = () => {
    if (busy || lost) return;
    busy = true;
    try {
      while (!internals.paused && !lost) {
        if (length === null) {
          const head = socket.read(4) as Buffer | null;
          if (!head || head.length < 4) break; // shorter only when the stream has ended
          const n = head.readUInt32BE(0);
          if (n < 16 || n > MAX_FRAME_BYTES) return loseFraming(`command_length ${n} is outside 16..${MAX_FRAME_BYTES}`);
          length = n;
        }
        const body = socket.read(length - 4) as Buffer | null;
        if (!body || body.length < length - 4) break;
        const frame = Buffer.concat([Buffer.alloc(4), body]);
        frame.writeUInt32BE(length, 0);
        length = null;
        const result = decodeFrame(frame);
        if (result.ok) {
          for (const t of result.ignoredTlvs) report({ kind: 'tlv_ignored', command: result.pdu.command, ...t });
          dispatch(result.pdu);
        } else if (result.reply) {
          session.send(result.reply);
          report({ kind: 'nacked', command: result.command, status: result.status, reason: result.reason });
        } else {
          report({ kind: 'dropped', command: result.command, reason: result.reason });
          // The header still says how the request ended (e.g. ESME_ROK for a submit whose body is unreadable).
          if (result.headerOnly) dispatch(result.headerOnly);
        }
      }
    } finally {
      busy = false;
    }
  };

  socket.removeAllListeners('readable');
  socket.on('readable', read);
  internals._extractPDUs = read; // Session.resume() calls it
}

/** Per-bind counters of PDUs we could not take as they came (GET /status shows them per bind). */
export interface PduCounters {
  /** PDUs answered with an error status: malformed, too long, unknown or unsupported command. */
  nacked: number;
  /** PDUs read and not used: responses nobody waits for, or with an unreadable body. */
  dropped: number;
  /** TLVs left out of a PDU that was used (length not fitting their type). */
  tlvsIgnored: number;
  /** Sessions torn down because the byte stream could not be framed. */
  parseTeardowns: number;
  /** submit_sm_resp ESME_ROK without message_id: counted as sent, receipts cannot be linked. */
  acceptedWithoutId: number;
  /** Receipts answered ESME_RX_T_APPN because the handler missed receiptAckDeadlineMs. */
  receiptsDeferred: number;
}

export function newPduCounters(): PduCounters {
  return { nacked: 0, dropped: 0, tlvsIgnored: 0, parseTeardowns: 0, acceptedWithoutId: 0, receiptsDeferred: 0 };
}

/** Counts a guard event; returns the log line for it (command names and statuses only, never PDU contents). */
export function countPduEvent(counters: PduCounters, e: PduGuardEvent): { msg: string; meta: Record<string, unknown> } {
  switch (e.kind) {
    case 'nacked':
      counters.nacked++;
      return { msg: 'PDU refused', meta: { command: e.command, status: `0x${e.status.toString(16)}`, reason: e.reason } };
    case 'dropped':
      counters.dropped++;
      return { msg: 'PDU dropped', meta: { command: e.command, reason: e.reason } };
    case 'tlv_ignored':
      counters.tlvsIgnored++;
      return { msg: 'TLV ignored', meta: { command: e.command, tag: e.tag, reason: e.reason } };
    case 'framing_lost':
      counters.parseTeardowns++;
      return { msg: 'SMPP framing lost; tearing the session down', meta: { reason: e.reason } };
    case 'listener_error':
      return { msg: 'PDU handler failed', meta: { command: e.command, error: e.error.message } };
  }
}
