/**
 * SMSC simulator: a real SMPP 3.4 server on loopback (the `smpp` package's
 * server side) plus a "phone inbox" over HTTP. It stands in for the carrier,
 * the one part we cannot run here.
 *
 *   GET    /messages?to=+33612345678   what that handset received (JSON)
 *   DELETE /messages                   empty every inbox
 *   PUT    /behaviours?to=+33…&mode=…  script a destination (mode: see Behaviour)
 *   GET    /mail?to=user@example.com   emails the mailbox received over SMTP (JSON)
 *   GET    /health                     {"ok":true,"sessions":n}
 *   POST   /faults                     an SMSC-wide fault for a time window (JSON SimFaultRequest, sim/faults.ts)
 *   GET    /faults, DELETE /faults     the faults in force; end them all
 *
 * Feeds for load generators in another process (bench/): each item carries a
 * sequence number; pass the last one seen as ?after= to get only newer items,
 * or ?since=<ms epoch> to filter by time. At most ?limit= items (default 10000).
 * `at` is wall-clock ms; `mono` is the host's monotonic clock in ms (Node's
 * process.hrtime), sub-millisecond and comparable between processes on one host.
 *   GET    /submits                    every submit_sm: {seq, to, at, mono, id?, status, session}
 *   GET    /receipts                   every receipt sent: {seq, submitId, to, at, mono, session, status?}
 *   GET    /inbox                      every SMS handed to a handset: {seq, to, text, at, mono, messageIds}
 * The records kept in memory are bounded (MAX_RECORDS each); DELETE /messages clears them.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import * as smpp from 'smpp';
import { STATE_CODES } from '../smpp/receipt';
import { SMPP_STATUS } from '../smpp/errors';
import { HostileScript } from './hostile-pdus';
import { HostileTiming, concatOf } from './hostile-timing';
import { SimFaults, parseFaultRequest, type SimFaultRequest } from './faults';
import { FeedLog, MAX_RECORDS, bound } from './feeds';
import { Mailbox, type MailMessage } from './mailbox';
import { BEHAVIOURS, BEHAVIOUR_RULES, type Behaviour, type BehaviourRule } from './behaviours';

export { BEHAVIOURS, type Behaviour } from './behaviours';
export { MAX_RECORDS } from './feeds';
export type { MailMessage } from './mailbox';

export type IdFormat = 'hex' | 'decimal';

export interface SimulatorOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** SMPP port. Default 2775; 0 picks a free port. */
  smppPort?: number;
  /** HTTP inbox port. Default 2780; 0 picks a free port. */
  httpPort?: number;
  /** SMTP port of the simulated mailbox (email fallback channel); 0 picks a free port. Default null: no SMTP (npm run smsc uses 2525). */
  smtpPort?: number | null;
  /** Accepted credentials. Default { otp: 'secret' }. */
  accounts?: Record<string, string>;
  /** Delay before a receipt is sent. Default 50 ms. */
  receiptDelayMs?: number;
  /** Behaviour per E.164 destination. */
  behaviours?: Record<string, Behaviour>;
  /** Behaviour for destinations not listed. Default 'deliver'. */
  defaultBehaviour?: Behaviour;
  /** Silence logs. Default false. */
  quiet?: boolean;
  /** Serve SMPP over TLS with this key and certificate (PEM); with `clientCa`, demand a client certificate it signed (mutual TLS). */
  tls?: { key: string | Buffer; cert: string | Buffer; clientCa?: string | Buffer } | null;
  /** How long a 'slow' destination's submit_sm_resp takes. Default 1000 ms. */
  slowResponseMs?: number;
  /** Send receipts on the session that submitted ('same') or on another bound receiver ('other'). Default 'same'. */
  receiptRouting?: 'same' | 'other';
  /** Send the receipt before the submit_sm_resp. Default false. */
  receiptBeforeResponse?: boolean;
  /** Format of ids in submit_sm_resp and in the receipt text. Default both hex. */
  messageIds?: { submit: IdFormat; receipt: IdFormat };
  /** Put receipted_message_id / message_state TLVs in receipts. Default true. */
  receiptTlvs?: boolean;
  /** Keep receipts until releaseReceipts(). Default false. */
  holdReceipts?: boolean;
}

export interface InboxMessage {
  to: string;
  from: string;
  text: string;
  dataCoding: number;
  segments: number;
  messageIds: string[];
  receivedAt: string;
}

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

export interface SubmitRecord {
  to: string;
  /** command_status answered; -1 dropped the socket, -2 generic_nack, -3 unbind (hostile window/TPS enforcement). */
  status: number;
  at: number;
  session: number;
  id?: string;
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

interface PendingConcat {
  parts: Map<number, string>;
  total: number;
  ids: string[];
}

function smppTimestamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCFullYear() % 100)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}`;
}

export class SmscSimulator {
  readonly opts: Required<Omit<SimulatorOptions, 'behaviours'>> & { behaviours: Map<string, Behaviour> };
  private smppServer?: smpp.Server;
  private httpServer?: HttpServer;
  private readonly mailbox = new Mailbox((m) => this.log(m));
  private readonly inbox = new Map<string, InboxMessage[]>();
  private readonly concat = new Map<string, PendingConcat>();
  private readonly bound = new Map<smpp.Session, BoundSession>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly held: PendingReceipt[] = [];
  private readonly failedOnce = new Set<string>();
  private nextId = BigInt(Date.now()) * 1000n;
  /** Every submit_sm seen, including refused ones: lets tests count attempts. */
  readonly submits: SubmitRecord[] = [];
  private readonly submitFeed = new FeedLog<SubmitRecord>();
  private readonly receiptFeed = new FeedLog<ReceiptRecord>();
  private readonly inboxFeed = new FeedLog<InboxMessage>();
  private inboxSize = 0;
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
  /** Hostile mode: malformed PDUs, odd receipts, bind checks, per destination and per bind (see hostile-pdus.ts). */
  readonly hostile = new HostileScript();
  /** Slow and missing responses, refused and dropped binds, window and TPS enforcement (sim/hostile-timing.ts). */
  readonly timing = new HostileTiming();
  /** SMSC-wide fault windows for chaos runs (sim/faults.ts). */
  readonly faults = new SimFaults();

  constructor(options: SimulatorOptions = {}) {
    this.opts = {
      host: '127.0.0.1',
      smppPort: 2775,
      httpPort: 2780,
      smtpPort: null,
      accounts: { otp: 'secret' },
      receiptDelayMs: 50,
      defaultBehaviour: 'deliver',
      quiet: false,
      ...options,
      tls: null,
      slowResponseMs: 1000,
      receiptRouting: 'same',
      receiptBeforeResponse: false,
      messageIds: { submit: 'hex', receipt: 'hex' },
      receiptTlvs: true,
      holdReceipts: false,
      ...options,
      behaviours: new Map(Object.entries(options.behaviours ?? {})),
    } as SmscSimulator['opts'];
  }

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
  sendMobileOriginated(msg: { from: string; to: string; text: string; pdu?: 'deliver_sm' | 'data_sm' }): Promise<{ status: number; answeredAt: number }> {
    const target = this.receiverSessions()[0];
    if (!target) return Promise.reject(new Error('no bound receiver'));
    const from = msg.from.replace(/^\+/, '');
    const fields = {
      source_addr_ton: 1,
      source_addr_npi: 1,
      source_addr: from,
      dest_addr_ton: 3,
      dest_addr_npi: 0,
      destination_addr: msg.to,
      esm_class: 0,
      data_coding: 0,
    };
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
  get httpPort(): number {
    return (this.httpServer?.address() as AddressInfo | null)?.port ?? this.opts.httpPort;
  }
  get smtpPort(): number | null {
    return this.mailbox.port;
  }
  /** Mails to one address. */
  mailTo(address: string): MailMessage[] {
    return this.mailbox.to(address);
  }

  /** Every email the mailbox received, oldest first. */
  get mails(): MailMessage[] {
    return this.mailbox.mails;
  }
  get inboxUrl(): string {
    return `http://${this.opts.host}:${this.httpPort}`;
  }

  setBehaviour(to: string, behaviour: Behaviour): void {
    this.opts.behaviours.set(to, behaviour);
  }

  messages(to: string): InboxMessage[] {
    return [...(this.inbox.get(to) ?? [])];
  }

  clear(): void {
    this.inbox.clear();
    this.inboxSize = 0;
    this.submits.length = 0;
    this.submitFeed.clear();
    this.receiptFeed.clear();
    this.inboxFeed.clear();
  }

  private recordSubmit(r: SubmitRecord): void {
    this.submits.push(r);
    bound(this.submits);
    this.submitFeed.push(r);
  }

  /** Long messages a handset holds only part of (segments waiting for the rest under their reference). */
  incompleteConcats(to: string): number {
    return [...this.concat.keys()].filter((k) => k.startsWith(`${to}|`)).length;
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

  async start(): Promise<void> {
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
    this.httpServer = createHttpServer((req, res) => this.onHttp(req, res));
    await new Promise<void>((resolve, reject) => {
      this.httpServer!.once('error', reject);
      this.httpServer!.listen(this.opts.httpPort, this.opts.host, () => resolve());
    });
    if (this.opts.smtpPort !== null) await this.mailbox.listen(this.opts.smtpPort ?? 2525, this.opts.host);
    this.log(
      `SMPP on ${this.opts.host}:${this.smppPort}, phone inbox on ${this.inboxUrl}/messages?to=<E.164>` +
        (this.mailbox.port !== null ? `, mailbox SMTP on ${this.opts.host}:${this.smtpPort} (${this.inboxUrl}/mail?to=<address>)` : ''),
    );
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const s of [...(this.smppServer?.sessions ?? [])]) s.destroy();
    this.held.length = 0;
    await Promise.all([
      this.mailbox.close(),
      new Promise<void>((r) => (this.smppServer ? this.smppServer.close(() => r()) : r())),
      new Promise<void>((r) => {
        if (!this.httpServer) return r();
        this.httpServer.closeAllConnections();
        this.httpServer.close(() => r());
      }),
    ]);
  }

  /** Drops every ESME connection without an unbind, as a crashing SMSC would. */
  dropAllConnections(): void {
    for (const s of [...(this.smppServer?.sessions ?? [])]) s.destroy();
  }

  private log(msg: string): void {
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

  private onSubmit(session: smpp.Session, pdu: smpp.PDU): void {
    const to = `+${(pdu.destination_addr ?? '').replace(/^\+/, '')}`;
    const behaviour = this.opts.behaviours.get(to) ?? this.opts.defaultBehaviour;
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
    const delivered = rule.handset;
    const wantsReceipt = ((pdu.registered_delivery ?? 0) & 0x03) !== 0 && rule.receipt !== null;
    const { stat, err } = rule.receipt ?? { stat: 'DELIVRD', err: '000' };
    const receipt: PendingReceipt = { origin: session, submitId: messageId, receiptId, to, from, stat, err, submitted: new Date() };

    const respond = () => session.send(pdu.response({ message_id: this.hostile.submitMessageId(to, messageId) }));
    if (wantsReceipt && this.opts.receiptBeforeResponse) {
      // The receipt overtakes the response: the ESME learns of the delivery before it knows the id.
      this.sendReceipt(receipt);
      this.later(100, respond);
    } else if (this.faults.respond(respond, (ms, fn) => this.later(ms, fn)) || this.timing.respond(to, respond, (ms, fn) => this.later(ms, fn))) {
      // held back or delayed by a hostile destination script
    } else if (rule.slow) this.later(this.opts.slowResponseMs, respond);
    else respond();

    if (delivered) {
      if (concat) {
        const key = `${to}|${from}|${concat.ref}`;
        const pending: PendingConcat = this.concat.get(key) ?? { parts: new Map<number, string>(), total: concat.total, ids: [] };
        pending.parts.set(concat.seq, text);
        pending.ids.push(messageId);
        this.concat.set(key, pending);
        if (pending.parts.size === pending.total) {
          this.concat.delete(key);
          const full = [...pending.parts.entries()]
            .sort((a, b) => a[0] - b[0])
            .map(([, t]) => t)
            .join('');
          this.deliverToHandset({
            to,
            from,
            text: full,
            dataCoding: pdu.data_coding ?? 0,
            segments: pending.total,
            messageIds: pending.ids,
            receivedAt: new Date().toISOString(),
          });
        }
      } else {
        const segments = payload ? Math.max(1, Math.ceil([...text].length / ((pdu.data_coding ?? 0) === 8 ? 67 : 153))) : 1;
        this.deliverToHandset({ to, from, text, dataCoding: pdu.data_coding ?? 0, segments, messageIds: [messageId], receivedAt: new Date().toISOString() });
      }
    }

    if (wantsReceipt && !this.opts.receiptBeforeResponse) {
      this.later(this.opts.receiptDelayMs + (rule.slow ? this.opts.slowResponseMs : 0) + this.faults.extraReceiptDelay(), () => this.sendReceipt(receipt));
    }
  }

  private deliverToHandset(m: InboxMessage): void {
    const list = this.inbox.get(m.to) ?? [];
    list.push(m);
    this.inbox.set(m.to, list);
    this.inboxFeed.push(m);
    // Bounded: forget the handsets that received first (a Map iterates in insertion order).
    if (++this.inboxSize > MAX_RECORDS) {
      for (const [to, msgs] of this.inbox) {
        if (this.inboxSize <= MAX_RECORDS - MAX_RECORDS / 10) break;
        this.inbox.delete(to);
        this.inboxSize -= msgs.length;
      }
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

  private onHttp(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://sim');
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'GET' && url.pathname === '/messages') {
      const to = url.searchParams.get('to');
      if (!to) return json(400, { error: 'query parameter "to" (E.164, e.g. +33612345678) is required' });
      return json(200, this.messages(to.startsWith('+') ? to : `+${to.trim()}`));
    }
    if (req.method === 'GET' && url.pathname === '/mail') {
      const to = url.searchParams.get('to');
      if (!to) return json(400, { error: 'query parameter "to" (an email address) is required' });
      return json(200, this.mailTo(to));
    }
    if (req.method === 'DELETE' && url.pathname === '/messages') {
      this.clear();
      return json(200, { ok: true });
    }
    if (req.method === 'PUT' && url.pathname === '/behaviours') {
      const to = url.searchParams.get('to');
      const mode = url.searchParams.get('mode') as Behaviour | null;
      if (!to || !mode || !(BEHAVIOURS as readonly string[]).includes(mode)) return json(400, { error: `need ?to=<E.164>&mode=<${BEHAVIOURS.join('|')}>` });
      this.setBehaviour(to, mode);
      return json(200, { to, mode });
    }
    if (req.method === 'GET' && url.pathname === '/health') return json(200, { ok: true, sessions: this.sessionCount });
    if (url.pathname === '/faults') {
      if (req.method === 'GET') return json(200, this.faults.state());
      if (req.method === 'DELETE') {
        this.faults.clear();
        return json(200, { ok: true });
      }
      if (req.method === 'POST') {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          let f: SimFaultRequest;
          try {
            f = parseFaultRequest(JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null'));
          } catch (err) {
            return json(400, { error: err instanceof Error ? err.message : String(err) });
          }
          this.applyFault(f);
          json(200, { ok: true, ...f, sessions: this.sessionCount });
        });
        return;
      }
    }
    if (req.method === 'GET' && (url.pathname === '/submits' || url.pathname === '/receipts' || url.pathname === '/inbox')) {
      const num = (name: string, fallback: number) => {
        const v = url.searchParams.get(name);
        return v !== null && /^\d+$/.test(v) ? Number(v) : fallback;
      };
      const after = num('after', 0);
      const since = num('since', 0);
      const limit = Math.max(1, num('limit', 10_000));
      if (url.pathname === '/submits')
        return json(
          200,
          this.submitFeed.read(after, since, (r) => r.at, limit),
        );
      if (url.pathname === '/receipts')
        return json(
          200,
          this.receiptFeed.read(after, since, (r) => r.at, limit),
        );
      return json(
        200,
        this.inboxFeed
          .read(after, since, (m) => Date.parse(m.receivedAt), limit)
          .map((m) => ({ seq: m.seq, to: m.to, text: m.text, at: Date.parse(m.receivedAt), mono: m.mono, messageIds: m.messageIds })),
      );
    }
    json(404, { error: 'not found: try GET /messages?to=<E.164>' });
  }
}
