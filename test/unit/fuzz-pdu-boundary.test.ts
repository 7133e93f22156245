/**
 * Property-based fuzzing of the PDU boundary over a real loopback TCP socket
 * (issue 13): the simulator writes garbage (random bytes, valid headers with
 * garbage bodies, truncated PDUs, lying or huge command_length) on a bound
 * session, then well-formed enquire_links, as an SMSC sends them. The bind
 * must never stall: an enquire_link is answered within a bound, or the session
 * is torn down and the bind binds again; either way the next submit_sm gets
 * its answer.
 */
import fc from 'fast-check';
import * as smpp from 'smpp';
import { SmppBind, type SubmitParams } from '../../smpp/bind';
import { decodeFrame, MAX_FRAME_BYTES } from '../../smpp/pdu-guard';
import { rawPdu } from '../../sim/hostile-pdus';
import { SmscSimulator } from '../../sim/smsc-simulator';
import { quiet, until } from '../helpers/smpp';
import { fuzz } from '../helpers/fuzz';

const RESPONSE_TIMEOUT_MS = 250;
const ENQUIRE_LINK_MS = 250;
/** A stuck reader is found by our keep-alive: one period plus its response timeout, with room for a loaded machine. */
const ANSWER_OR_TEARDOWN_MS = ENQUIRE_LINK_MS + RESPONSE_TIMEOUT_MS + 1500;
const REBIND_MS = 3000;
const WAIT_ACK_MS = 400;
/** A destination the simulator answers late, so garbage written after the submit lands before its response. */
const DELAYED_TO = '33612000009';

const SUBMIT: SubmitParams = {
  source_addr: 'Acme',
  source_addr_ton: 5,
  source_addr_npi: 0,
  destination_addr: '33612000001',
  dest_addr_ton: 1,
  dest_addr_npi: 1,
  data_coding: 0,
  registered_delivery: 0,
  short_message: { message: 'fuzz' },
};

/** Command ids SMPP defines (requests and responses, unbind and outbind included) and some it does not. */
const COMMAND_IDS = [
  0x1, 0x2, 0x3, 0x4, 0x5, 0x6, 0x7, 0x8, 0x9, 0xb, 0x15, 0x21, 0x102, 0x103, 0x111, 0x80000000, 0x80000004, 0x80000005, 0x80000009, 0x80000015, 0x80000103,
  0x222, 0x80000222, 0xffffffff,
];
/** Garbage sequence numbers stay above ours, so garbage never answers the probe's own submit. */
const garbageSeq = fc.integer({ min: 0x40000000, max: 0x7fffffff });

function withLength(buf: Buffer, length: number): Buffer {
  const copy = Buffer.from(buf);
  copy.writeUInt32BE(length >>> 0, 0);
  return copy;
}

const wellFormedReceipt = garbageSeq.map((seq) =>
  new smpp.PDU('deliver_sm', {
    sequence_number: seq,
    esm_class: 4,
    source_addr: '33612000001',
    destination_addr: 'Acme',
    short_message: { message: 'id:1 stat:DELIVRD err:000' },
    receipted_message_id: '1',
    message_state: 2,
  }).toBuffer(),
);

/** One piece of garbage, as a named shape so a counterexample reads. */
const garbageArb: fc.Arbitrary<{ kind: string; bytes: Buffer }> = fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 64 }).map((b) => ({ kind: 'random bytes', bytes: Buffer.from(b) })),
  fc
    .tuple(fc.constantFrom(...COMMAND_IDS), garbageSeq, fc.integer({ min: 0, max: 0xff }), fc.uint8Array({ maxLength: 120 }))
    .map(([id, seq, status, body]) => ({ kind: `header 0x${id.toString(16)}, garbage body`, bytes: rawPdu(id, seq, Buffer.from(body), status) })),
  fc.tuple(wellFormedReceipt, fc.nat()).map(([pdu, cut]) => ({ kind: 'truncated PDU', bytes: pdu.subarray(0, 1 + (cut % (pdu.length - 1))) })),
  fc
    .tuple(wellFormedReceipt, fc.integer({ min: 1, max: 4000 }))
    .map(([pdu, more]) => ({ kind: 'command_length longer than the PDU', bytes: withLength(pdu, pdu.length + more) })),
  fc
    .tuple(wellFormedReceipt, fc.oneof(fc.integer({ min: 0, max: 15 }), fc.integer({ min: MAX_FRAME_BYTES + 1, max: 0xffffffff })))
    .map(([pdu, length]) => ({ kind: `command_length ${length}`, bytes: withLength(pdu, length) })),
  wellFormedReceipt.map((pdu) => ({ kind: 'well-formed receipt', bytes: pdu })),
);

/** Resolves true when `session` answers an enquire_link within `ms`, false when it did not or closed. */
function enquire(session: smpp.Session, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (answered: boolean) => {
      clearTimeout(timer);
      session.socket.off('close', onClose);
      resolve(answered);
    };
    const onClose = () => done(false);
    const timer = setTimeout(() => done(false), ms);
    session.socket.once('close', onClose);
    session.enquire_link({}, (resp) => done(resp.command_status === 0));
  });
}

/**
 * Sends enquire_link every `everyMs`, as an SMSC does, until one is answered (true) or the
 * session closes or `ms` pass (false). One probe alone can be swallowed whole by a garbage
 * PDU whose command_length covers it: the reader is still in step, and the next is answered.
 */
async function enquireUntilAnswered(session: smpp.Session, ms: number, everyMs = 150): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end && !session.socket.destroyed) {
    if (await enquire(session, Math.min(everyMs, end - Date.now()))) return true;
  }
  return false;
}

describe('the PDU boundary over loopback TCP', () => {
  let sim: SmscSimulator;
  let bind: SmppBind;

  beforeAll(async () => {
    sim = new SmscSimulator({ smppPort: 0, httpPort: 0, quiet: true, holdReceipts: true });
    await sim.start();
    // A small window and wait-ack, so a response lost to garbage shows as a stall within the run.
    bind = new SmppBind({
      name: 'fuzz',
      host: '127.0.0.1',
      port: sim.smppPort,
      systemId: 'otp',
      password: 'secret',
      logger: quiet,
      window: 2,
      waitAckMs: WAIT_ACK_MS,
      responseTimeoutMs: RESPONSE_TIMEOUT_MS,
      enquireLinkMs: ENQUIRE_LINK_MS,
      reconnectInitialMs: 10,
      reconnectMaxMs: 100,
      bindStableMs: 50,
      receiptAckDeadlineMs: 100,
    });
    sim.timing.setDestination(`+${DELAYED_TO}`, { responseDelayMs: 60 }); // its answer comes after the garbage
    bind.onReceipt(async () => undefined);
    bind.start();
    await bind.ready(5000);
  });

  afterAll(async () => {
    await bind?.close();
    await sim?.stop();
  });

  test('garbage never stalls a bind: the enquire_links after it are answered or the bind re-binds, and the next submit is answered (numRuns 30)', async () => {
    const seen = { answered: 0, rebound: 0 };
    await fc.assert(
      fc.asyncProperty(fc.array(garbageArb, { minLength: 1, maxLength: 3 }), async (garbage) => {
        const session = await until(() => bind.state === 'bound' && sim.boundSession('otp'), 'bound before the garbage', REBIND_MS);
        const teardowns = bind.pdu.parseTeardowns;
        session.socket.write(Buffer.concat(garbage.map((g) => g.bytes)));
        if (await enquireUntilAnswered(session, ANSWER_OR_TEARDOWN_MS)) {
          seen.answered++;
        } else {
          // Not answered: the session must be gone (lost framing, or our keep-alive found it stuck) and the bind back.
          await until(() => session.socket.destroyed || session.socket.closed, 'the stuck session torn down', ANSWER_OR_TEARDOWN_MS);
          await until(() => bind.state === 'bound' && sim.boundSession('otp') !== session && sim.boundSession('otp'), 'the bind bound again', REBIND_MS);
          seen.rebound++;
        }
        expect(bind.pdu.parseTeardowns).toBeGreaterThanOrEqual(teardowns);
        const id = await bind.submit(SUBMIT, 'otp', Date.now() + REBIND_MS);
        expect(id.length).toBeGreaterThan(0);
      }),
      { ...fuzz(30, 1701), endOnFailure: true },
    );
    // Both ways out were taken, so the property covers both.
    expect(seen.answered).toBeGreaterThan(0);
    expect(seen.rebound).toBeGreaterThan(0);
  }, 60_000);

  test('a garbage PDU swallowing our submit_sm_resp (exactly, or a few bytes off) never stalls the window: a submit is answered within a bound (numRuns 10)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3 }),
        fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: -4, max: 4 }) }),
        fc.boolean(),
        async (swallow, off, withEnquire) => {
          await until(() => bind.state === 'bound' && sim.boundSession('otp'), 'bound', REBIND_MS);
          const id = await bind.submit(SUBMIT, 'otp', Date.now() + REBIND_MS);
          const respLength = 16 + id.length + 1;
          for (let i = 0; i < swallow; i++) {
            const session = sim.boundSession('otp');
            if (!session || bind.state !== 'bound') break;
            const pending = bind.submit({ ...SUBMIT, destination_addr: DELAYED_TO }).catch(() => undefined);
            await new Promise((r) => setTimeout(r, 20));
            const lie = rawPdu(0x5, 0x40000000 + i, Buffer.alloc(0));
            // The lie covers what comes next on the wire: an SMSC enquire_link (when sent) and our submit_sm_resp.
            lie.writeUInt32BE(Math.max(16, 16 + (withEnquire ? 16 : 0) + respLength + off), 0);
            session.socket.write(lie);
            if (withEnquire) void enquire(session, 100);
            await pending;
          }
          // Bound: wait-ack, then a re-bind; a submit must get through (the bind itself refuses while it re-binds).
          const end = Date.now() + RESPONSE_TIMEOUT_MS + WAIT_ACK_MS + ANSWER_OR_TEARDOWN_MS + REBIND_MS;
          for (;;) {
            // Raced with a timer: a submit stuck waiting for a window slot must fail the property, not hang it.
            const ok = await Promise.race([
              bind.submit(SUBMIT, 'otp', Date.now() + 500).then(
                () => true,
                () => false,
              ),
              new Promise<boolean>((r) => setTimeout(() => r(false), 1000)),
            ]);
            if (ok) break;
            if (Date.now() > end) throw new Error('no submit answered within the bound: the bind is stalled');
            await new Promise((r) => setTimeout(r, 50));
          }
        },
      ),
      { ...fuzz(10, 1703), endOnFailure: true },
    );
  }, 60_000);

  test('the guard frames any byte stream: decodeFrame on arbitrary framed bytes never throws (numRuns 3000)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...COMMAND_IDS), fc.nat(), fc.uint8Array({ maxLength: 400 }), (id, seq, body) => {
        const r = decodeFrame(rawPdu(id, seq, Buffer.from(body)));
        if (r.ok) expect(r.pdu.command_id).toBe(id);
        else if (r.reply) expect(r.reply.sequence_number).toBe(seq);
      }),
      fuzz(3000, 1702),
    );
  });
});
