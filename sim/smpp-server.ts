/**
 * The simulator's SMPP 3.4 server (the `smpp` package's server side): binds
 * and their credentials, submit_sm answered as the behaviours table or the
 * carrier mix says, windows and faults, receipts scheduled and routed, and the
 * records tests and the bench read (submits, receipts, bind counters).
 * What reaches a handset is the HandsetInbox's business (sim/handsets.ts).
 */
import type { AddressInfo } from 'node:net';
import * as smpp from 'smpp';
import { STATE_CODES } from '../smpp/receipt';
import { SMPP_STATUS } from '../smpp/errors';
import { HostileScript } from './hostile-pdus';
import { HostileTiming, concatOf } from './hostile-timing';
import { SimFaults, type SimFaultRequest } from './faults';
import { FeedLog, MAX_RECORDS, bound } from './feeds';
import { BEHAVIOUR_RULES, type Behaviour, type BehaviourRule } from './behaviours';
import { CARRIER_OUTCOMES, drawCarrierOutcome, type CarrierDraw, type CarrierMix, type CarrierOutcome } from './carrier-mix';
import { mobileOriginatedFields, type HandsetInbox, type MobileOriginated } from './handsets';
import type { IdFormat, ResolvedSimulatorOptions, SimulatorOptions } from './options';

/** A receipt the simulator sent (once per attempt). */
export interface ReceiptRecord {
  submitId: string;
  /** Destination of the message the receipt is about. */
  to: string;
  /** When the deliver_sm left, ms since the epoch. */
  at: number;
  session: number;
  /** The ESME's command_status, once it answered; -1 when it did not answer in time (hostile receiptResponseTimeoutMs). */
  status?: number;
}

export interface SubmitRecord {
  to: string;
  /** command_status answered; -1 dropped the socket, -2 generic_nack, -3 unbind (hostile window/TPS enforcement). */
  status: number;
  at: number;
  session: number;
  id?: string;
  /** What the network does with an accepted message: the destination's behaviour, or what the carrier mix drew. */
  behaviour?: Behaviour;
  /** Relative validity_period, as seconds from now. */
  validitySeconds?: number;
  sourceTon?: number;
  sourceNpi?: number;
  esmClass?: number;
  payload?: boolean;
  /** Concatenation reference and segment number, for a segment of a long message. */
  concat?: { ref: number; bits: 8 | 16; total: number; seq: number };
  /** The account (bind system_id) that submitted it. */
  systemId?: string;
  dataCoding?: number;
  destTon?: number;
  destNpi?: number;
  /** short_message bytes after the UDH, as hex (what the SMSC would convert for the handset). */
  bytesHex?: string;
}

/** The library's own coders, to turn a decoded short_message back into the bytes that came on the wire. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const libEncodings = (require('smpp/lib/defs') as { encodings: Record<'ASCII' | 'LATIN1' | 'UCS2', { encode(s: string): Buffer }> }).encodings;

function wireBytes(dataCoding: number, sm: unknown): Buffer | undefined {
  const message = typeof sm === 'object' && sm !== null && !Buffer.isBuffer(sm) ? (sm as { message?: unknown }).message : sm;
  if (Buffer.isBuffer(message)) return message;
  if (typeof message !== 'string') return undefined;
  // As the library decodes: 3 Latin-1, 8 UCS-2, anything else through its GSM table.
  return libEncodings[dataCoding === 3 ? 'LATIN1' : dataCoding === 8 ? 'UCS2' : 'ASCII'].encode(message);
}

interface BoundSession {
  systemId: string;
  mode: 'transceiver' | 'transmitter' | 'receiver';
}

interface PendingReceipt {
  origin: smpp.Session;
  submitId: string;
  receiptId: string;
  to: string;
  from: string;
  stat: string;
  err: string;
  submitted: Date;
}

function smppTimestamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCFullYear() % 100)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}`;
}

export class SimSmppServer {
  private smppServer?: smpp.Server;
  private readonly bound = new Map<smpp.Session, BoundSession>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly held: PendingReceipt[] = [];
  private readonly failedOnce = new Set<string>();
  private nextId = BigInt(Date.now()) * 1000n;
  /** Every submit_sm seen, including refused ones: lets tests count attempts. */
  readonly submits: SubmitRecord[] = [];
  /** GET /submits and /receipts. */
  readonly submitFeed = new FeedLog<SubmitRecord>();
  readonly receiptFeed = new FeedLog<ReceiptRecord>();
  /** enquire_link and unbind PDUs the ESMEs sent us. */
  readonly received = { enquireLinks: 0, unbinds: 0 };
  /** Most sessions bound at once per system_id: carriers limit binds per account. */
  readonly peakBinds = new Map<string, number>();
  /** Highest number of submit_sm a session had waiting for their response at once. */
  readonly maxOutstanding = new Map<number, number>();
  private readonly outstanding = new Map<smpp.Session, number>();
  /** Every receipt sent: which session it went to, and how the ESME answered. */
  readonly receiptsSent: ReceiptRecord[] = [];
  /** Answers to deliver_sm with ids we never issued (see sendUnknownReceipt). */
  private readonly sessionIds = new WeakMap<smpp.Session, number>();
  private sessionSeq = 0;
  /** Submits per destination drawn under the carrier mix: the next draw's key. */
  private readonly mixSubmits = new Map<string, number>();
  /** What the carrier mix drew since it was set. */
  readonly carrierDraws: Record<CarrierOutcome, number> = { deliver: 0, undeliverable: 0, silent: 0 };
  /** Hostile mode: malformed PDUs, odd receipts, bind checks, per destination and per bind (see hostile-pdus.ts). */
  readonly hostile = new HostileScript();
  /** Slow and missing responses, refused and dropped binds, window and TPS enforcement (sim/hostile-timing.ts). */
  readonly timing = new HostileTiming();
  /** SMSC-wide fault windows for chaos runs (sim/faults.ts). */
  readonly faults = new SimFaults();

  constructor(
    readonly opts: ResolvedSimulatorOptions,
    protected readonly handsets: HandsetInbox,
  ) {}

  /** Session number (1, 2, …) in accept order, for tests that check which bind got what. */
  sessionNumber(session: smpp.Session): number {
    return this.sessionIds.get(session) ?? 0;
  }

  /** Bound sessions with their system_id and bind mode. */
  boundSessions(): { session: number; systemId: string; mode: string }[] {
    return [...this.bound.entries()].map(([s, b]) => ({ session: this.sessionNumber(s), ...b }));
  }

  /** Sends every held receipt now (see holdReceipts). */
  releaseReceipts(): number {
    this.opts.holdReceipts = false;
    const all = this.held.splice(0);
    for (const r of all) this.sendReceipt(r);
    return all.length;
  }

  /** The SMSC unbinds every ESME, as before maintenance. */
  unbindAll(): void {
    for (const s of this.bound.keys()) s.unbind({}, () => s.close());
  }

  /** The SMSC probes every bound ESME with enquire_link; resolves with how many answered. */
  async enquireLinkAll(timeoutMs = 1000): Promise<number> {
    const answers = await Promise.all(
      [...this.bound.keys()].map(
        (s) =>
          new Promise<boolean>((resolve) => {
            const t = setTimeout(() => resolve(false), timeoutMs);
            s.enquire_link({}, (resp) => {
              clearTimeout(t);
              resolve(resp.command_status === 0);
            });
          }),
      ),
    );
    return answers.filter(Boolean).length;
  }

  /** Sends a receipt for a message id nobody submitted; resolves with the ESME's command_status. */
  sendUnknownReceipt(): Promise<number> {
    const target = this.receiverSessions()[0];
    if (!target) return Promise.reject(new Error('no bound receiver'));
    return new Promise((resolve) => {
      target.deliver_sm(
        {
          source_addr: '33600000000',
          destination_addr: 'X',
          esm_class: 0x04,
          data_coding: 0,
          short_message: { message: 'id:ffffffffffff sub:001 dlvrd:001 submit date:2601010000 done date:2601010000 stat:DELIVRD err:000' },
          receipted_message_id: 'ffffffffffff',
          message_state: 2,
        },
        (resp) => resolve(resp.command_status),
      );
    });
  }

  /**
   * Sends a mobile-originated message (deliver_sm with esm_class 0, or data_sm) from a handset
   * (`from` without "+", TON international) to `to` (a short code); resolves with the ESME's
   * command_status and when it answered.
   */
  sendMobileOriginated(msg: MobileOriginated): Promise<{ status: number; answeredAt: number }> {
    const target = this.receiverSessions()[0];
    if (!target) return Promise.reject(new Error('no bound receiver'));
    const fields = mobileOriginatedFields(msg);
    return new Promise((resolve) => {
      const done = (resp: smpp.PDU) => resolve({ status: resp.command_status, answeredAt: Date.now() });
      if (msg.pdu === 'data_sm') target.send(new smpp.PDU('data_sm', { ...fields, message_payload: { message: msg.text } }), done);
      else target.deliver_sm({ ...fields, short_message: { message: msg.text } }, done);
    });
  }

  /** A bound session of one account (the first bound), for hostile PDUs aimed at one bind. */
  boundSession(systemId: string): smpp.Session | undefined {
    return [...this.bound.entries()].find(([, b]) => b.systemId === systemId)?.[0];
  }

  private receiverSessions(): smpp.Session[] {
    return [...this.bound.entries()].filter(([, b]) => b.mode !== 'transmitter').map(([s]) => s);
  }

  private formatId(n: bigint, f: IdFormat): string {
    return f === 'hex' ? n.toString(16) : n.toString(10);
  }

  get smppPort(): number {
    return (this.smppServer?.address() as AddressInfo | null)?.port ?? this.opts.smppPort;
  }

  setBehaviour(to: string, behaviour: Behaviour): void {
    this.opts.behaviours.set(to, behaviour);
  }

  /** Draws each message to an unscripted destination from this mix from now on (null: back to defaultBehaviour); the draw counts restart. */
  setCarrierMix(mix: CarrierMix | null): void {
    this.opts.carrierMix = mix;
    this.mixSubmits.clear();
    for (const o of CARRIER_OUTCOMES) this.carrierDraws[o] = 0;
  }

  /** Forgets the submits and receipts kept for tests and feeds. */
  protected clearRecords(): void {
    this.submits.length = 0;
    this.submitFeed.clear();
    this.receiptFeed.clear();
  }

  private recordSubmit(r: SubmitRecord): void {
    this.submits.push(r);
    bound(this.submits);
    this.submitFeed.push(r);
  }

  /** Most accepted submit_sm of one account inside any window of `windowMs` (by arrival time). */
  maxSubmitsInWindow(systemId: string, windowMs = 1000): number {
    const at = this.submits
      .filter((r) => r.systemId === systemId)
      .map((r) => r.at)
      .sort((a, b) => a - b);
    let max = 0;
    for (let i = 0, j = 0; i < at.length; i++) {
      while (at[i] - at[j] >= windowMs) j++;
      max = Math.max(max, i - j + 1);
    }
    return max;
  }

  /** Number of bound ESME sessions. */
  get sessionCount(): number {
    return this.bound.size;
  }

  setOptions(
    patch: Partial<Pick<SimulatorOptions, 'receiptRouting' | 'receiptBeforeResponse' | 'holdReceipts' | 'receiptDelayMs' | 'slowResponseMs' | 'receiptTlvs'>>,
  ): void {
    Object.assign(this.opts, patch);
  }

  protected async listenSmpp(): Promise<void> {
    this.smppServer = smpp.createServer(
      this.opts.tls
        ? {
            key: this.opts.tls.key,
            cert: this.opts.tls.cert,
            ...(this.opts.tls.clientCa ? { ca: this.opts.tls.clientCa, requestCert: true, rejectUnauthorized: true } : {}),
          }
        : {},
      (session) => this.onSession(session),
    );
    this.smppServer.on('error', (err: Error) => this.log(`smpp server error: ${err.message}`));
    await new Promise<void>((resolve, reject) => {
      this.smppServer!.once('error', reject);
      this.smppServer!.listen(this.opts.smppPort, this.opts.host, () => resolve());
    });
  }

  /** Cancels every scheduled receipt and delivery, drops every session and closes the port. */
  protected closeSmpp(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const s of [...(this.smppServer?.sessions ?? [])]) s.destroy();
    this.held.length = 0;
    return new Promise<void>((r) => (this.smppServer ? this.smppServer.close(() => r()) : r()));
  }

  /** Drops every ESME connection without an unbind, as a crashing SMSC would. */
  dropAllConnections(): void {
    for (const s of [...(this.smppServer?.sessions ?? [])]) s.destroy();
  }

  protected log(msg: string): void {
    if (!this.opts.quiet) console.log(`[smsc-sim] ${msg}`);
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private onSession(session: smpp.Session): void {
    let systemId: string | undefined;
    let mode: BoundSession['mode'] | undefined;
    this.sessionIds.set(session, ++this.sessionSeq);
    session.on('error', (err: Error) => this.log(`session error: ${err.message}`));
    session.on('close', () => this.bound.delete(session));
    const bind = (as: BoundSession['mode']) => (pdu: smpp.PDU) => {
      const refusal = this.timing.onBind(pdu.system_id ?? '');
      if (refusal !== null) {
        session.send(pdu.response({ command_status: refusal }));
        return;
      }
      const expected = this.opts.accounts[pdu.system_id ?? ''];
      if (expected === undefined || expected !== pdu.password) {
        session.send(pdu.response({ command_status: expected === undefined ? SMPP_STATUS.ESME_RINVSYSID : SMPP_STATUS.ESME_RINVPASWD }));
        this.log(`bind refused for system_id "${pdu.system_id}"`);
        return;
      }
      const versionRefusal = this.hostile.checkBind(pdu);
      if (versionRefusal !== undefined) return void session.send(pdu.response({ command_status: versionRefusal }));
      systemId = pdu.system_id;
      mode = as;
      this.bound.set(session, { systemId: systemId!, mode: as });
      const now = [...this.bound.values()].filter((b) => b.systemId === systemId).length;
      this.peakBinds.set(systemId!, Math.max(this.peakBinds.get(systemId!) ?? 0, now));
      session.send(pdu.response({ system_id: 'SMSCSIM' }));
      this.timing.afterBind(
        systemId!,
        () => session.destroy(),
        (ms, fn) => this.later(ms, fn),
      );
    };
    session.on('bind_transceiver', bind('transceiver'));
    session.on('bind_transmitter', bind('transmitter'));
    session.on('bind_receiver', bind('receiver'));
    session.on('enquire_link', (pdu: smpp.PDU) => {
      this.received.enquireLinks++;
      session.send(pdu.response());
    });
    session.on('unbind', (pdu: smpp.PDU) => {
      this.received.unbinds++;
      this.bound.delete(session);
      session.send(pdu.response(), () => session.close());
    });
    session.on('submit_sm', (pdu: smpp.PDU) => {
      if (!systemId || mode === 'receiver') {
        session.send(pdu.response({ command_status: 0x04 })); // ESME_RINVBNDSTS
        return;
      }
      const n = (this.outstanding.get(session) ?? 0) + 1;
      this.outstanding.set(session, n);
      const no = this.sessionNumber(session);
      this.maxOutstanding.set(no, Math.max(this.maxOutstanding.get(no) ?? 0, n));
      if (this.faultAdmission(session, pdu) || this.enforce(session, systemId, n, pdu)) return;
      this.onSubmit(session, pdu);
    });
    // Count a response as sent when it leaves: the window is what the ESME has in flight.
    session.on('send', (pdu: smpp.PDU) => {
      if (pdu.command === 'submit_sm_resp' || pdu.command === 'generic_nack')
        this.outstanding.set(session, Math.max(0, (this.outstanding.get(session) ?? 1) - 1));
    });
  }

  /** A generic_nack burst or a throttle window (sim/faults.ts); true when the submit was answered here. */
  private faultAdmission(session: smpp.Session, pdu: smpp.PDU): boolean {
    const verdict = this.faults.admission();
    if (verdict === 'accept') return false;
    const to = `+${(pdu.destination_addr ?? '').replace(/^\+/, '')}`;
    const record = { to, at: Date.now(), session: this.sessionNumber(session) };
    if (verdict === 'generic_nack') {
      this.recordSubmit({ ...record, status: -2 });
      session.send(new smpp.PDU('generic_nack', { sequence_number: pdu.sequence_number, command_status: SMPP_STATUS.ESME_RSYSERR }));
    } else {
      this.recordSubmit({ ...record, status: SMPP_STATUS.ESME_RTHROTTLED });
      session.send(pdu.response({ command_status: SMPP_STATUS.ESME_RTHROTTLED }));
    }
    return true;
  }

  /**
   * Starts an SMSC-wide fault (POST /faults). drop holds every submit_sm_resp
   * for `ms` (the messages are delivered) and then drops every connection, so
   * the ESME loses a window in flight; malformed-receipts breaks the next
   * `count` receipts of every bound account (a TLV longer than its PDU) and
   * re-sends a receipt unanswered after 2 s, as carriers do.
   */
  applyFault(f: SimFaultRequest): void {
    this.faults.start(f);
    const count = f.count ?? 5;
    if (f.kind === 'drop') {
      this.later(f.ms ?? 0, () => {
        const held = this.faults.discardHeld();
        this.log(`fault: dropping every connection (${held} submit_sm_resp in flight)`);
        this.dropAllConnections();
      });
    } else if (f.kind === 'unbind') this.unbindAll();
    else if (f.kind === 'unknown-receipts') {
      for (let i = 0; i < count; i++) this.sendUnknownReceipt().catch(() => undefined);
    } else if (f.kind === 'malformed-receipts') {
      const accounts = new Set([...this.bound.values()].map((b) => b.systemId));
      for (const systemId of accounts) {
        this.hostile.forBind(systemId, { receipt: { form: 'tlv_length_overrun', attempts: count }, receiptResponseTimeoutMs: 2000 });
        this.later(f.ms ?? 30_000, () => this.hostile.forBind(systemId, undefined));
      }
    }
  }

  /** Window and TPS enforcement of a hostile account; true when the submit was answered here. */
  private enforce(session: smpp.Session, systemId: string, outstanding: number, pdu: smpp.PDU): boolean {
    const verdict = this.timing.admit(session, systemId, outstanding);
    if (verdict.kind === 'accept') return false;
    const to = `+${(pdu.destination_addr ?? '').replace(/^\+/, '')}`;
    const sessionNo = this.sessionNumber(session);
    if (verdict.kind === 'unbind') {
      this.recordSubmit({ to, status: -3, at: Date.now(), session: sessionNo });
      this.bound.delete(session);
      session.unbind({}, () => session.close());
    } else if (verdict.kind === 'generic_nack') {
      this.recordSubmit({ to, status: -2, at: Date.now(), session: sessionNo });
      session.send(new smpp.PDU('generic_nack', { sequence_number: pdu.sequence_number, command_status: verdict.status }));
    } else {
      this.recordSubmit({ to, status: verdict.status, at: Date.now(), session: sessionNo });
      session.send(pdu.response({ command_status: verdict.status }));
    }
    return true;
  }

  /** The carrier mix's verdict for the next message to `to`, counted. */
  private drawCarrier(mix: CarrierMix, to: string): CarrierDraw {
    const n = this.mixSubmits.get(to) ?? 0;
    // Bounded like the records: a destination forgotten starts its draws again.
    if (this.mixSubmits.size >= MAX_RECORDS) this.mixSubmits.clear();
    this.mixSubmits.set(to, n + 1);
    const draw = drawCarrierOutcome(mix, `${to}|${n}`);
    this.carrierDraws[draw.behaviour]++;
    return draw;
  }

  private onSubmit(session: smpp.Session, pdu: smpp.PDU): void {
    const to = `+${(pdu.destination_addr ?? '').replace(/^\+/, '')}`;
    const scripted = this.opts.behaviours.get(to);
    const mix = this.opts.carrierMix;
    const draw = scripted === undefined && mix ? this.drawCarrier(mix, to) : null;
    let behaviour: Behaviour = scripted ?? draw?.behaviour ?? this.opts.defaultBehaviour;
    let rule: BehaviourRule = BEHAVIOUR_RULES[behaviour];
    const sessionNo = this.sessionNumber(session);
    const refuse = (status: number, answer: () => void) => {
      this.recordSubmit({ to, status, at: Date.now(), session: sessionNo });
      answer();
    };
    const submit = rule.submit;
    if (submit.kind === 'failOnce') {
      // The first submit to this destination is dropped on the floor with a system error; later ones deliver.
      if (!this.failedOnce.has(to)) {
        this.failedOnce.add(to);
        return refuse(SMPP_STATUS.ESME_RSYSERR, () => session.send(pdu.response({ command_status: SMPP_STATUS.ESME_RSYSERR })));
      }
      behaviour = 'deliver';
      rule = BEHAVIOUR_RULES.deliver;
    } else if (submit.kind === 'drop') {
      return refuse(-1, () => session.destroy());
    } else if (submit.kind === 'status') {
      return refuse(submit.status, () => session.send(pdu.response({ command_status: submit.status })));
    } else if (submit.kind === 'nack') {
      return refuse(-2, () => session.send(new smpp.PDU('generic_nack', { sequence_number: pdu.sequence_number, command_status: SMPP_STATUS.ESME_RSYSERR })));
    }
    const sm0 = pdu.short_message;
    const concat =
      typeof sm0 === 'object' && sm0 !== null && !Buffer.isBuffer(sm0) && sm0.udh ? concatOf(([] as Buffer[]).concat(sm0.udh as Buffer | Buffer[])) : undefined;
    const segmentRefusal = this.timing.segmentRefusal(to, concat?.seq);
    if (segmentRefusal !== null) {
      this.recordSubmit({ to, status: segmentRefusal, at: Date.now(), session: sessionNo, concat });
      session.send(pdu.response({ command_status: segmentRefusal }));
      return;
    }
    const n = this.nextId++;
    const messageId = this.formatId(n, this.opts.messageIds.submit);
    const receiptId = this.formatId(n, this.opts.messageIds.receipt);
    this.recordSubmit({
      to,
      status: 0,
      at: Date.now(),
      session: sessionNo,
      id: messageId,
      behaviour,
      validitySeconds: pdu.validity_period instanceof Date ? Math.round((pdu.validity_period.getTime() - Date.now()) / 1000) : undefined,
      sourceTon: pdu.source_addr_ton,
      sourceNpi: pdu.source_addr_npi,
      esmClass: pdu.esm_class,
      payload: pdu.message_payload !== undefined,
      concat,
      systemId: this.bound.get(session)?.systemId,
      dataCoding: pdu.data_coding,
      destTon: pdu.dest_addr_ton,
      destNpi: pdu.dest_addr_npi,
      bytesHex: wireBytes(pdu.data_coding ?? 0, pdu.short_message)?.toString('hex'),
    });

    const sm = pdu.short_message;
    const payload = pdu.message_payload;
    const textOf = (v: unknown) =>
      typeof v === 'object' && v !== null && !Buffer.isBuffer(v) ? String((v as { message: unknown }).message ?? '') : v === undefined ? '' : String(v);
    // The library reads data_coding 1 as GSM; IA5 is ASCII.
    const text = pdu.data_coding === 1 ? (wireBytes(1, sm ?? payload)?.toString('latin1') ?? '') : textOf(sm) || textOf(payload);
    const from = pdu.source_addr ?? '';
    const wantsReceipt = ((pdu.registered_delivery ?? 0) & 0x03) !== 0 && rule.receipt !== null;
    const { stat, err } = rule.receipt ?? { stat: 'DELIVRD', err: '000' };
    const receipt: PendingReceipt = { origin: session, submitId: messageId, receiptId, to, from, stat, err, submitted: new Date() };
    // A carrier mix's delay holds back both the handset and the receipt; otherwise the handset gets it at once.
    const mixDelayMs = draw?.delayMs ?? null;

    const respond = () => session.send(pdu.response({ message_id: this.hostile.submitMessageId(to, messageId) }));
    if (wantsReceipt && this.opts.receiptBeforeResponse) {
      // The receipt overtakes the response: the ESME learns of the delivery before it knows the id.
      this.sendReceipt(receipt);
      this.later(100, respond);
    } else if (this.faults.respond(respond, (ms, fn) => this.later(ms, fn)) || this.timing.respond(to, respond, (ms, fn) => this.later(ms, fn))) {
      // held back or delayed by a hostile destination script
    } else if (rule.slow) this.later(this.opts.slowResponseMs, respond);
    else respond();

    if (rule.handset) {
      const dataCoding = pdu.data_coding ?? 0;
      const segments = !concat && payload ? Math.max(1, Math.ceil([...text].length / (dataCoding === 8 ? 67 : 153))) : 1;
      const segment = { to, from, text, dataCoding, messageId, concat, segments };
      if (mixDelayMs === null) this.handsets.receive(segment);
      else this.later(mixDelayMs, () => this.handsets.receive(segment));
    } else this.handsets.withhold({ to, messageId, behaviour, at: Date.now() });

    if (wantsReceipt && !this.opts.receiptBeforeResponse) {
      const delayMs = mixDelayMs ?? this.opts.receiptDelayMs + (rule.slow ? this.opts.slowResponseMs : 0);
      this.later(delayMs + this.faults.extraReceiptDelay(), () => this.sendReceipt(receipt));
    }
  }

  private sendReceipt(r: PendingReceipt): void {
    if (this.opts.holdReceipts) {
      this.held.push(r);
      return;
    }
    const receivers = this.receiverSessions();
    const sameAccount = receivers.filter((s) => this.bound.get(s)?.systemId === this.bound.get(r.origin)?.systemId || !this.bound.has(r.origin));
    let target: smpp.Session | undefined;
    if (this.opts.receiptRouting === 'other') target = sameAccount.find((s) => s !== r.origin) ?? sameAccount[0];
    else target = sameAccount.includes(r.origin) ? r.origin : sameAccount[0];
    if (!target) {
      this.later(200, () => this.sendReceipt(r));
      return;
    }
    const dlvrd = r.stat === 'DELIVRD' ? '001' : '000';
    const text = `id:${r.receiptId} sub:001 dlvrd:${dlvrd} submit date:${smppTimestamp(r.submitted)} done date:${smppTimestamp(new Date())} stat:${r.stat} err:${r.err} text:`;
    const record: ReceiptRecord = { submitId: r.submitId, to: r.to, at: Date.now(), session: this.sessionNumber(target) };
    this.receiptsSent.push(record);
    bound(this.receiptsSent);
    this.receiptFeed.push(record);
    const fields = {
      submitId: r.submitId,
      text,
      stat: r.stat,
      messageState: STATE_CODES[r.stat],
      tlvs: this.opts.receiptTlvs,
      sourceAddr: r.to.replace(/^\+/, ''),
      destinationAddr: r.from,
    };
    this.hostile.deliverReceipt(target, this.bound.get(target)?.systemId ?? '', r.to, fields, (answer) => {
      record.status = answer === 'timeout' ? -1 : answer;
      if (answer !== 0) this.later(500, () => this.sendReceipt(r)); // the ESME asked us to retry, or did not answer in time
    });
  }
}
