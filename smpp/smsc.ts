/**
 * SMSC routes. A route is one SMSC connection: several binds (transceivers,
 * or transmitters plus receivers) sharing a TPS budget. The router picks a
 * route by destination country or prefix and traffic class, and fails over to
 * the next matching route when a route has no bound transmitter.
 */
import { randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { SmppBind, consoleLogger, type BindLogger, type BindMode, type BindState, type ReceiptHandler, type SmppBindOptions, type TrafficClass } from './bind';
import { concatUdh, type SmsEncoding } from './encoding';
import { BACKOFF, SmppPermanentError, SmppTransientError } from './errors';
import { canonicalMessageId, type MessageIdFormat } from './ids';
import type { ParsedReceipt } from './receipt';
import { RateLimiter } from './rate-limit';
import { DEFAULT_ROUTE_TPS } from './account-share';
import { encodeForRoute, type RouteCharset } from './charset';

/** The connection fields a route shares with each of its binds (see SmppBindOptions for their defaults). */
type BindFields = 'host' | 'port' | 'systemId' | 'password' | 'systemType' | 'tls' | 'window' | 'responseTimeoutMs' | 'enquireLinkMs' | 'reconnectInitialMs' | 'reconnectMaxMs' | 'interfaceVersion' | 'receiptAckDeadlineMs' | 'connectTimeoutMs';

export interface RouteConfig extends Pick<SmppBindOptions, BindFields> {
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
  /** How this SMSC reads non-Unicode text (see charset.ts). @default 'gsm7' */
  charset?: RouteCharset;
  /** source_addr_ton / _npi for every sender. @default derived from the sender id (see senderAddress) */
  sourceTon?: number;
  sourceNpi?: number;
  /** dest_addr_ton / _npi. @default 1 / 1 (international, E.164) */
  destTon?: number;
  destNpi?: number;
}

export interface SubmittedMessage {
  route: string;
  messageIds: string[];
  segments: number;
  encoding: SmsEncoding;
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
}

/** TON/NPI for a sender id: alphanumeric 5/0, short code 3/0, international 1/1. */
export function senderAddress(senderId: string): { addr: string; ton: number; npi: number } {
  if (/^\+\d{6,15}$/.test(senderId)) return { addr: senderId.slice(1), ton: 1, npi: 1 };
  if (/^\d{3,8}$/.test(senderId)) return { addr: senderId, ton: 3, npi: 0 };
  return { addr: senderId, ton: 5, npi: 0 };
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

  constructor(config: RouteConfig, logger: BindLogger = consoleLogger) {
    this.config = config;
    this.name = config.name;
    this.logger = logger;
    this.throttle = new RateLimiter(config.tps ?? DEFAULT_ROUTE_TPS);
    const count = config.binds ?? 1;
    const modes: BindMode[] = config.bindMode === 'transmitter+receiver' ? ['transmitter', 'receiver'] : ['transceiver'];
    this.binds = modes.flatMap((mode) =>
      Array.from({ length: count }, (_, i) => new SmppBind({ ...config, mode, logger, name: `${config.name}/${mode === 'transceiver' ? 'trx' : mode === 'transmitter' ? 'tx' : 'rx'}${i + 1}` })),
    );
  }

  start(): void {
    for (const b of this.binds) b.start();
  }

  onReceipt(handler: ReceiptHandler): void {
    for (const b of this.binds) b.onReceipt(handler);
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
    const tx = this.binds.filter((b) => b.mode !== 'receiver');
    await Promise.any(tx.map((b) => b.ready(timeoutMs))).catch(() => {
      throw new SmppTransientError(`no bind to route "${this.name}" came up within ${timeoutMs} ms`);
    });
  }

  /** Waits for every bind, receivers included (tests and start-up). */
  async allReady(timeoutMs = 5000): Promise<void> {
    await Promise.all(this.binds.map((b) => b.ready(timeoutMs)));
  }

  describe(): { name: string; up: boolean; binds: ReturnType<SmppBind['describe']>[] } {
    return { name: this.name, up: this.up, binds: this.binds.map((b) => b.describe()) };
  }

  bindStates(): Record<string, BindState> {
    return Object.fromEntries(this.binds.map((b) => [b.name, b.state]));
  }

  /** The least loaded bound transmitter that is not paused, round robin among equals. */
  private pick(): SmppBind | undefined {
    const now = Date.now();
    const ready = this.binds.filter((b) => b.canSubmit && b.pausedUntil <= now);
    if (!ready.length) return undefined;
    const start = this.next++ % ready.length;
    const ordered = [...ready.slice(start), ...ready.slice(0, start)];
    return ordered.reduce((best, b) => (b.load < best.load ? b : best), ordered[0]);
  }

  /**
   * One PDU: waits for a bind, honours the TPS budget, backs off on
   * ESME_RTHROTTLED / ESME_RMSGQFUL (pausing that bind) and on a dropped bind,
   * until the deadline; a permanent status fails at once.
   */
  private async submitPdu(build: () => Parameters<SmppBind['submit']>[0], cls: TrafficClass, deadline: number): Promise<string> {
    let backoff = 100;
    let last: Error | undefined;
    while (Date.now() < deadline) {
      if (this.closed) throw new SmppTransientError(`route "${this.name}" is shut down`);
      const bind = this.pick();
      if (!bind) {
        await sleep(Math.min(50, Math.max(1, deadline - Date.now())));
        continue;
      }
      await this.throttle.take();
      try {
        return await bind.submit(build(), cls);
      } catch (err) {
        if (err instanceof SmppPermanentError) throw err;
        last = err as Error;
        const status = (err as SmppTransientError).commandStatus;
        if (status !== undefined && BACKOFF.has(status)) {
          bind.pausedUntil = Date.now() + backoff;
          this.logger.warn('SMSC throttled us; backing off', { bind: bind.name, backoffMs: backoff });
        }
        await sleep(Math.min(backoff, Math.max(1, deadline - Date.now())));
        backoff = Math.min(backoff * 2, 2000);
      }
    }
    throw last ?? new SmppTransientError(`no bound transmitter on route "${this.name}" before the deadline`);
  }

  async submitText(destinationE164: string, text: string, opts: SubmitOptions): Promise<SubmittedMessage> {
    const encoded = encodeForRoute(text, this.config.charset);
    const sender = senderAddress(opts.senderId);
    const cls = opts.trafficClass ?? 'otp';
    const deadline = Date.now() + (this.config.submitDeadlineMs ?? 8000);
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
    if (total === 1 || this.config.longMessages === 'payload') {
      const id = await this.submitPdu(() => (total === 1 ? { ...base, esm_class: 0, short_message: { message: encoded.body(text) } } : { ...base, esm_class: 0, message_payload: { message: encoded.body(text) } }), cls, deadline);
      return { route: this.name, messageIds: [id], segments: total, encoding: encoded.encoding, dataCoding: encoded.dataCoding };
    }
    const ref = randomInt(0, 256);
    const messageIds: string[] = [];
    for (let i = 0; i < total; i++) {
      messageIds.push(await this.submitPdu(() => ({ ...base, esm_class: 0x40, short_message: { message: encoded.body(encoded.segments[i]), udh: concatUdh(ref, total, i + 1) } }), cls, deadline));
    }
    return { route: this.name, messageIds, segments: total, encoding: encoded.encoding, dataCoding: encoded.dataCoding };
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.binds.map((b) => b.close()));
  }
}

/** Several routes in priority order. */
export class SmscRouter {
  readonly routes: SmscRoute[];

  constructor(configs: RouteConfig[], logger: BindLogger = consoleLogger) {
    if (!configs.length) throw new Error('at least one SMSC route is required');
    const names = new Set<string>();
    for (const c of configs) {
      if (names.has(c.name)) throw new Error(`SMSC route name "${c.name}" is used twice`);
      names.add(c.name);
    }
    this.routes = configs.map((c) => new SmscRoute(c, logger));
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
    for (const route of [...candidates.filter((r) => r.up), ...candidates.filter((r) => !r.up)]) {
      try {
        if (!route.up) await route.ready(1000);
        return await route.submitText(destinationE164, text, opts);
      } catch (err) {
        if (err instanceof SmppPermanentError) throw err;
        last = err as Error;
      }
    }
    throw last ?? new SmppTransientError('no SMSC route is up');
  }

  async close(): Promise<void> {
    await Promise.all(this.routes.map((r) => r.close()));
  }
}
