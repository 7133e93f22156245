/**
 * SMSC routes. A route is one SMSC connection: several binds (transceivers,
 * or transmitters plus receivers) sharing a TPS budget. The router picks a
 * route by destination country or prefix and traffic class, and fails over to
 * the next matching route when a route has no bound transmitter.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  SmppBind,
  consoleLogger,
  type BindLogger,
  type BindMode,
  type BindState,
  type MoHandler,
  type ReceiptHandler,
  type SmppBindOptions,
  type TrafficClass,
} from './bind';
import { BindRefusals } from './bind-refusals';
import { type SmsEncoding } from './encoding';
import { BACKOFF, SmppPermanentError, SmppTransientError } from './errors';
import { ThrottlePause, type ThrottlePauseOptions } from './flow-pause';
import { canonicalMessageId, type MessageIdFormat } from './ids';
import { ConcatLedger, concatHeader, type ConcatRefBits } from './multipart';
import type { ParsedReceipt } from './receipt';
import type { ParsedMo } from './mo';
import { RateLimiter } from './rate-limit';
import { DEFAULT_ROUTE_TPS } from './account-share';
import { encodeForRoute, type RouteCharset } from './charset';
import { senderAddress } from '../contract/sender-id';
import { SmppInDoubtError, SmppUnconfirmedError, SubmitFlowStats, inDoubtId, type LateAnswer } from './submit-tracker';

/** The connection fields a route shares with each of its binds (see SmppBindOptions for their defaults). */
type BindFields =
  | 'host'
  | 'port'
  | 'systemId'
  | 'password'
  | 'systemType'
  | 'tls'
  | 'window'
  | 'responseTimeoutMs'
  | 'enquireLinkMs'
  | 'reconnectInitialMs'
  | 'reconnectMaxMs'
  | 'interfaceVersion'
  | 'receiptAckDeadlineMs'
  | 'connectTimeoutMs'
  | 'bindStableMs'
  | 'waitAckMs'
  | 'bindRefusedBackoffMs'
  | 'maxBindRefusals';

export interface RouteConfig extends Pick<SmppBindOptions, BindFields>, ThrottlePauseOptions {
  /** Route name; part of receipt mailbox ids, so keep it stable. */
  name: string;
  /** "transceiver" (default), or "transmitter+receiver" for separate binds. */
  bindMode?: 'transceiver' | 'transmitter+receiver';
  /** Binds of each kind. Default 1. */
  binds?: number;
  /** submit_sm per second for the whole route (the account's, see account-share.ts); 0 = unlimited. No 1 s window exceeds it. @default 50 */
  tps?: number;
  /** ISO countries this route serves; empty = any. */
  countries?: string[];
  /** E.164 prefixes this route serves, e.g. "+336"; empty = any. */
  prefixes?: string[];
  /** Traffic classes this route carries. Default both. */
  trafficClasses?: TrafficClass[];
  /** "udh" (default) concatenates long texts; "payload" sends them whole in message_payload. */
  longMessages?: 'udh' | 'payload';
  /** How this SMSC writes message ids. Default string on both sides. */
  messageIds?: { submit: MessageIdFormat; receipt: MessageIdFormat };
  /** How long a submit may wait for a bind and back off under throttling. Default 8000 ms. */
  submitDeadlineMs?: number;
  /**
   * Send a submit again when its submit_sm_resp is late (after responseTimeoutMs),
   * on this route or the next, while the first may still be at the SMSC: lower
   * latency, at the price of a possible duplicate SMS (each one counted and logged).
   * When false, a late submit is waited for until the deadline, then reported with a
   * stand-in id that its late answer is linked to.
   * @default false
   */
  resubmitInDoubt?: boolean;
  /** Concatenation reference size for long texts: 8 (UDH 00 03) or 16 (UDH 08 04, 1 in 65536 handsets' reassembly mix-ups instead of 1 in 256). @default 8 */
  concatRefBits?: ConcatRefBits;
  /** How this SMSC reads non-Unicode text (see charset.ts). @default 'gsm7' */
  charset?: RouteCharset;
  /** source_addr_ton / _npi for every sender. @default derived from the sender id (see senderAddress in contract/sender-id.ts) */
  sourceTon?: number;
  sourceNpi?: number;
  /** dest_addr_ton / _npi. @default 1 / 1 (international, E.164) */
  destTon?: number;
  destNpi?: number;
}

export interface SubmittedMessage {
  route: string;
  /** One per part: the SMSC's id, or a stand-in (indoubt-…) for a part whose answer had not come back by the deadline. */
  messageIds: string[];
  segments: number;
  encoding: SmsEncoding;
  /** Answers still to come for submits of this message: link each, once accepted, to `messageId` (the id the caller has for that part). */
  late: { messageId: string; answer: Promise<LateAnswer> }[];
  /** data_coding sent: 0 GSM-7, 1 IA5, 3 Latin-1, 8 UCS-2. */
  dataCoding: number;
}

export interface SubmitOptions {
  senderId: string;
  /** Relative validity; the SMSC drops the message after it. */
  validitySeconds: number;
  trafficClass?: TrafficClass;
  /** ISO country of the destination, for routing. */
  country?: string;
  /** The whole submit, failover included, ends by this instant (ms epoch), e.g. inside the calling activity's timeout. @default no limit but each route's submitDeadlineMs */
  deadline?: number;
  /** Names this message across retries (e.g. session and code number): a long text keeps its reference and a retry sends only the parts not yet accepted. */
  messageKey?: string;
}

/** Shared by the routes of one router. */
interface RouteShared {
  stats: SubmitFlowStats;
  ledger: ConcatLedger;
}

/** The answer to `p`, or undefined if it has not come by `deadline`. */
async function byDeadline<T>(p: Promise<T>, deadline: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), Math.max(0, deadline - Date.now()))));
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** One part's outcome: its id, and the answers of earlier copies still to link to it. */
interface PartResult {
  id: string;
  late: Promise<LateAnswer>[];
}

/** senderAddress, with a sender that is none refused before anything is sent (ESME_RINVSRCADR, 0x0A). */
function sourceAddress(senderId: string): { addr: string; ton: number; npi: number } {
  try {
    return senderAddress(senderId);
  } catch (err) {
    throw new SmppPermanentError((err as Error).message, 0x0a);
  }
}

/** SMPP relative validity period, e.g. 300 s -> "000000000500000R". */
export function relativeValidity(seconds: number): string {
  let s = Math.max(Math.floor(seconds), 1);
  const dd = Math.min(Math.floor(s / 86400), 99);
  s -= dd * 86400;
  const hh = Math.floor(s / 3600);
  s -= hh * 3600;
  const mm = Math.floor(s / 60);
  s -= mm * 60;
  const p = (n: number) => String(n).padStart(2, '0');
  return `0000${p(dd)}${p(hh)}${p(mm)}${p(s)}000R`;
}

export class SmscRoute {
  readonly name: string;
  readonly binds: SmppBind[];
  readonly config: RouteConfig;
  private next = 0;
  private closed = false;
  private readonly throttle: RateLimiter;
  private readonly logger: BindLogger;
  /** One account: a credential refusal holds back every bind, a throttle pauses every bind. */
  readonly refusals: BindRefusals;
  readonly pause: ThrottlePause;
  readonly stats: SubmitFlowStats;
  private readonly ledger: ConcatLedger;

  constructor(config: RouteConfig, logger: BindLogger = consoleLogger, shared?: RouteShared) {
    this.config = config;
    this.name = config.name;
    this.logger = logger;
    this.throttle = new RateLimiter(config.tps ?? DEFAULT_ROUTE_TPS);
    this.refusals = new BindRefusals(config);
    this.pause = new ThrottlePause(config);
    this.stats = shared?.stats ?? new SubmitFlowStats(logger);
    this.ledger = shared?.ledger ?? new ConcatLedger();
    const count = config.binds ?? 1;
    const modes: BindMode[] = config.bindMode === 'transmitter+receiver' ? ['transmitter', 'receiver'] : ['transceiver'];
    this.binds = modes.flatMap((mode) =>
      Array.from(
        { length: count },
        (_, i) =>
          new SmppBind({
            ...config,
            mode,
            logger,
            refusals: this.refusals,
            pause: this.pause,
            name: `${config.name}/${mode === 'transceiver' ? 'trx' : mode === 'transmitter' ? 'tx' : 'rx'}${i + 1}`,
          }),
      ),
    );
  }

  start(): void {
    for (const b of this.binds) b.start();
  }

  onReceipt(handler: ReceiptHandler): void {
    for (const b of this.binds) b.onReceipt(handler);
  }

  onMobileOriginated(handler: MoHandler): void {
    for (const b of this.binds) b.onMobileOriginated(handler);
  }

  /** A receipt's id in the same canonical form as the submit side's (see smpp/ids.ts). */
  receiptKey(r: Pick<ParsedReceipt, 'messageId' | 'idSource'>): string {
    const f = this.config.messageIds ?? { submit: 'string', receipt: 'string' };
    return canonicalMessageId(r.messageId, r.idSource === 'tlv' ? f.submit : f.receipt);
  }

  submitKey(messageId: string): string {
    return canonicalMessageId(messageId, (this.config.messageIds ?? { submit: 'string' }).submit);
  }

  serves(destinationE164: string, country: string | undefined, cls: TrafficClass): boolean {
    const c = this.config;
    if (c.trafficClasses && !c.trafficClasses.includes(cls)) return false;
    if (c.countries?.length && (!country || !c.countries.includes(country))) return false;
    if (c.prefixes?.length && !c.prefixes.some((p) => destinationE164.startsWith(p))) return false;
    return true;
  }

  get up(): boolean {
    return this.binds.some((b) => b.canSubmit);
  }

  /** Resolves when a transmitter is bound; rejects after timeoutMs. */
  async ready(timeoutMs = 3000): Promise<void> {
    if (this.up) return;
    // Refused credentials: say so at once, instead of waiting for a bind that is held back.
    const held = this.refusals.blocking();
    if (held) throw new SmppTransientError(`no bind to route "${this.name}": ${held}`);
    const tx = this.binds.filter((b) => b.mode !== 'receiver');
    await Promise.any(tx.map((b) => b.ready(timeoutMs))).catch(() => {
      const why = this.refusals.blocking() ?? tx.map((b) => b.lastError).find((e) => e !== undefined);
      throw new SmppTransientError(`no bind to route "${this.name}" came up within ${timeoutMs} ms${why ? `: ${why}` : ''}`);
    });
  }

  /** Waits for every bind, receivers included (tests and start-up). */
  async allReady(timeoutMs = 5000): Promise<void> {
    await Promise.all(this.binds.map((b) => b.ready(timeoutMs)));
  }

  describe(): { name: string; up: boolean; pausedMs: number; bindRefusals: ReturnType<BindRefusals['describe']>; binds: ReturnType<SmppBind['describe']>[] } {
    return {
      name: this.name,
      up: this.up,
      pausedMs: this.pause.remainingMs(),
      bindRefusals: this.refusals.describe(),
      binds: this.binds.map((b) => b.describe()),
    };
  }

  bindStates(): Record<string, BindState> {
    return Object.fromEntries(this.binds.map((b) => [b.name, b.state]));
  }

  /** The least loaded bound transmitter, round robin among equals (a throttling pause holds every bind alike). */
  private pick(): SmppBind | undefined {
    const ready = this.binds.filter((b) => b.canSubmit);
    if (!ready.length) return undefined;
    const start = this.next++ % ready.length;
    const ordered = [...ready.slice(start), ...ready.slice(0, start)];
    return ordered.reduce((best, b) => (b.load < best.load ? b : best), ordered[0]);
  }

  /**
   * One PDU: waits for a bind, honours the TPS budget and the route's
   * throttling pause, backs off on a dropped bind, until the deadline; a
   * permanent status fails at once. A submit without an answer in time is not
   * sent again while the SMSC may have it (unless resubmitInDoubt): its late
   * answer is awaited until the deadline, then the part gets a stand-in id.
   * Only once its bind is torn down is it sent again, as a possible duplicate.
   */
  private async submitPdu(build: () => Parameters<SmppBind['submit']>[0], cls: TrafficClass, deadline: number): Promise<PartResult> {
    let backoff = 100;
    let last: Error | undefined;
    /** Why an earlier copy of this PDU may be at the SMSC, if one may. */
    let earlier: string | undefined;
    const late: Promise<LateAnswer>[] = [];
    while (Date.now() < deadline) {
      if (this.closed) throw new SmppTransientError(`route "${this.name}" is shut down`);
      if (this.pause.until >= deadline) break; // throttled past the deadline: the last answer says why
      const bind = this.pick();
      if (!bind) {
        await sleep(Math.min(50, Math.max(1, deadline - Date.now())));
        continue;
      }
      await this.throttle.take();
      if (earlier) this.stats.possibleDuplicate({ route: this.name, bind: bind.name, reason: earlier });
      let err: unknown;
      try {
        const id = await bind.submit(build(), cls, deadline);
        this.pause.accepted();
        return { id, late };
      } catch (e) {
        err = e;
      }
      if (err instanceof SmppInDoubtError) {
        this.stats.track(err.late, { route: this.name, bind: bind.name });
        if (this.config.resubmitInDoubt) {
          late.push(err.late);
          earlier = 'resubmitInDoubt: sent again while an earlier copy had no answer';
          last = err;
          continue;
        }
        const answer = await byDeadline(err.late, deadline);
        if (answer === undefined) {
          // Still out at the deadline: the SMSC may have it; its late answer is linked to this stand-in.
          this.stats.unconfirmedParts++;
          this.logger.warn('submit in doubt at the deadline: not sent again', { route: this.name, bind: bind.name });
          return { id: inDoubtId(), late: [...late, err.late] };
        }
        if (answer.kind === 'accepted') return { id: answer.messageId, late };
        if (answer.kind === 'lost') {
          earlier = 'sent again after its bind was torn down without an answer';
          last = err;
          continue;
        }
        err = answer.error;
      }
      if (err instanceof SmppPermanentError) throw err;
      last = err as Error;
      const status = (err as SmppTransientError).commandStatus;
      if (status !== undefined && BACKOFF.has(status)) {
        // The bind paused the route (smpp/flow-pause.ts): every submit waits it out, those queued for the window too.
        this.logger.warn('SMSC throttled us; backing off', { route: this.name, bind: bind.name, pausedMs: this.pause.remainingMs() });
        continue;
      }
      await sleep(Math.min(backoff, Math.max(1, deadline - Date.now())));
      backoff = Math.min(backoff * 2, 2000);
    }
    const why = last?.message ?? `no bound transmitter on route "${this.name}" before the deadline`;
    if (earlier) throw new SmppUnconfirmedError(`${why} (an earlier copy may be at the SMSC)`, (last as SmppTransientError | undefined)?.commandStatus);
    throw last ?? new SmppTransientError(why);
  }

  async submitText(destinationE164: string, text: string, opts: SubmitOptions): Promise<SubmittedMessage> {
    const encoded = encodeForRoute(text, this.config.charset, this.config.concatRefBits ?? 8);
    const sender = sourceAddress(opts.senderId);
    const cls = opts.trafficClass ?? 'otp';
    const deadline = Math.min(Date.now() + (this.config.submitDeadlineMs ?? 8000), opts.deadline ?? Infinity);
    const base = {
      source_addr: sender.addr,
      source_addr_ton: this.config.sourceTon ?? sender.ton,
      source_addr_npi: this.config.sourceNpi ?? sender.npi,
      destination_addr: destinationE164.replace(/^\+/, ''),
      dest_addr_ton: this.config.destTon ?? 1,
      dest_addr_npi: this.config.destNpi ?? 1,
      data_coding: encoded.dataCoding,
      registered_delivery: 1,
      validity_period: relativeValidity(opts.validitySeconds),
    };
    const total = encoded.segments.length;
    const lateOf = (part: PartResult) => part.late.map((answer) => ({ messageId: part.id, answer }));
    if (total === 1 || this.config.longMessages === 'payload') {
      const part = await this.submitPdu(
        () =>
          total === 1
            ? { ...base, esm_class: 0, short_message: { message: encoded.body(text) } }
            : { ...base, esm_class: 0, message_payload: { message: encoded.body(text) } },
        cls,
        deadline,
      );
      return { route: this.name, messageIds: [part.id], segments: total, encoding: encoded.encoding, dataCoding: encoded.dataCoding, late: lateOf(part) };
    }
    const bits = this.config.concatRefBits ?? 8;
    const plan = this.ledger.begin(destinationE164, opts.messageKey, total, bits, this.name);
    if (plan.resent)
      this.stats.possibleDuplicate({
        route: this.name,
        reason: 'parts of a long message accepted on another route or reference width sent again',
        count: plan.resent,
      });
    const messageIds: string[] = [];
    const late: SubmittedMessage['late'] = [];
    for (let i = 0; i < total; i++) {
      const known = plan.accepted[i];
      if (known !== undefined) {
        messageIds.push(known); // accepted by an earlier try: at the handset already
        continue;
      }
      let part: PartResult;
      try {
        part = await this.submitPdu(
          () => ({ ...base, esm_class: 0x40, short_message: { message: encoded.body(encoded.segments[i]), udh: concatHeader(bits, plan.ref, total, i + 1) } }),
          cls,
          deadline,
        );
      } catch (err) {
        if (messageIds.length) {
          this.logger.warn('long message failed part-way', {
            route: this.name,
            accepted: messageIds.length,
            total,
            retry: opts.messageKey ? 'sends only the missing parts, same reference' : 'no messageKey: sends every part again',
          });
        }
        throw err;
      }
      this.ledger.accepted(opts.messageKey, i + 1, part.id);
      messageIds.push(part.id);
      late.push(...lateOf(part));
    }
    this.ledger.complete(opts.messageKey);
    return { route: this.name, messageIds, segments: total, encoding: encoded.encoding, dataCoding: encoded.dataCoding, late };
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.binds.map((b) => b.close()));
  }
}

/** Several routes in priority order. */
export class SmscRouter {
  readonly routes: SmscRoute[];
  /** In-doubt submits and possible duplicates over every route (GET /status `submits`). */
  readonly stats: SubmitFlowStats;

  constructor(configs: RouteConfig[], logger: BindLogger = consoleLogger) {
    if (!configs.length) throw new Error('at least one SMSC route is required');
    const names = new Set<string>();
    for (const c of configs) {
      if (names.has(c.name)) throw new Error(`SMSC route name "${c.name}" is used twice`);
      names.add(c.name);
    }
    const shared: RouteShared = { stats: new SubmitFlowStats(logger), ledger: new ConcatLedger() };
    this.stats = shared.stats;
    this.routes = configs.map((c) => new SmscRoute(c, logger, shared));
  }

  /** Operator: binds stopped after refused credentials try again now. */
  resetBindRefusals(): string[] {
    const held = this.routes.filter((r) => r.refusals.count > 0);
    for (const r of held) r.refusals.reset();
    return held.map((r) => r.name);
  }

  start(): void {
    for (const r of this.routes) r.start();
  }

  route(name: string): SmscRoute | undefined {
    return this.routes.find((r) => r.name === name);
  }

  onReceipt(handler: (receipt: ParsedReceipt, route: SmscRoute, bindName: string) => Promise<void>): void {
    for (const r of this.routes) r.onReceipt((receipt, bind) => handler(receipt, r, bind));
  }

  /** Mobile-originated messages from any bind of any route; each is acknowledged once the handler resolves. */
  onMobileOriginated(handler: (mo: ParsedMo, route: SmscRoute, bindName: string) => Promise<void>): void {
    for (const r of this.routes) r.onMobileOriginated((mo, bind) => handler(mo, r, bind));
  }

  /** Resolves when every route has a bound transmitter. */
  async ready(timeoutMs = 3000): Promise<void> {
    await Promise.all(this.routes.map((r) => r.ready(timeoutMs)));
  }

  describe(): ReturnType<SmscRoute['describe']>[] {
    return this.routes.map((r) => r.describe());
  }

  /** Submits on the first matching route that is up; the next one takes over when it is down or fails transiently. */
  async submitText(destinationE164: string, text: string, opts: SubmitOptions): Promise<SubmittedMessage> {
    const cls = opts.trafficClass ?? 'otp';
    const candidates = this.routes.filter((r) => r.serves(destinationE164, opts.country, cls));
    if (!candidates.length) throw new SmppPermanentError(`no SMSC route serves ${opts.country ?? 'this destination'} for ${cls} traffic`, 0x0b);
    let last: Error | undefined;
    const deadline = opts.deadline ?? Infinity;
    for (const route of [...candidates.filter((r) => r.up), ...candidates.filter((r) => !r.up)]) {
      // Failover shares one deadline: the whole submit must end inside the caller's own timeout.
      const left = deadline - Date.now();
      if (left <= 0) break;
      try {
        if (!route.up) await route.ready(Math.min(1000, left));
        return await route.submitText(destinationE164, text, { ...opts, deadline });
      } catch (err) {
        if (err instanceof SmppPermanentError) throw err;
        if (err instanceof SmppUnconfirmedError && !route.config.resubmitInDoubt) throw err; // the next route could send it twice
        if (err instanceof SmppUnconfirmedError) this.stats.possibleDuplicate({ route: route.name, reason: 'failover after a submit that may be at the SMSC' });
        last = err as Error;
      }
    }
    throw last ?? new SmppTransientError('no SMSC route is up before the submit deadline');
  }

  async close(): Promise<void> {
    await Promise.all(this.routes.map((r) => r.close()));
  }
}
