/**
 * One SMPP bind owned by the worker process. Covers what `smpp` 0.5.1 lacks:
 * reconnect with backoff and jitter, a timeout on every response, answers to
 * the SMSC's enquire_link and unbind, our own enquire_link keep-alive, a
 * window of outstanding submit_sm with OTP traffic served first, a pause when
 * the SMSC throttles, a graceful close that drains the window before unbind,
 * and an 'error' listener so a socket error never crashes the worker.
 */
import { EventEmitter } from 'node:events';
import * as smpp from 'smpp';
import { BindRefusals, isCredentialRefusal, describeBindRefusal, type BindRefusalOptions } from './bind-refusals';
import { BACKOFF, errorForStatus, SMPP_STATUS, SmppTransientError } from './errors';
import { ThrottlePause } from './flow-pause';
import { unlinkedMessageId } from './ids';
import { BIND_DEFAULTS } from './bind-defaults';
import { countPduEvent, guardSession, newPduCounters, type PduGuardEvent } from './pdu-guard';
import { SmppInDoubtError, type LateAnswer } from './submit-tracker';
import { parseDeliveryReceipt, type ParsedReceipt } from './receipt';
import { isMobileOriginated, parseMobileOriginated, type ParsedMo } from './mo';

export interface BindLogger {
  info(msg: string, meta?: Record<string, unknown>): void;
  warn(msg: string, meta?: Record<string, unknown>): void;
}

export type BindMode = 'transceiver' | 'transmitter' | 'receiver';
export type TrafficClass = 'otp' | 'bulk';

export interface BindTlsOptions {
  /** PEM of the CA that signed the SMSC's certificate. Default: the system CAs. */
  ca?: string | Buffer;
  /** Default true. */
  rejectUnauthorized?: boolean;
  /** SNI / certificate name. Default: host. */
  servername?: string;
  /** PEM client certificate (chain) for mutual TLS, with `key`. @default none */
  cert?: string | Buffer;
  /** PEM private key of `cert`. @default none */
  key?: string | Buffer;
}

export interface SmppBindOptions extends BindRefusalOptions {
  /** Name used in logs. */
  name: string;
  host: string;
  port: number;
  systemId: string;
  password: string;
  /** system_type in bind_*. @default '' */
  systemType?: string;
  /** @default 'transceiver' */
  mode?: BindMode;
  /** SMPP over TLS. @default null (plain TCP) */
  tls?: BindTlsOptions | null;
  /** Outstanding submit_sm allowed on this bind. @default 10 */
  window?: number;
  /** Time allowed for any response PDU, in ms. @default 5000 */
  responseTimeoutMs?: number;
  /**
   * Time from opening the socket to bound: TCP connect, TLS handshake and bind_resp. A host that
   * accepts TCP and then says nothing would otherwise hold the bind in 'connecting' for ever.
   * @default 10000
   */
  connectTimeoutMs?: number;
  /** Keep-alive period (enquire_link), in ms. @default 30000 */
  enquireLinkMs?: number;
  /** First reconnect delay in ms; doubles, with jitter, up to reconnectMaxMs. @default 250 */
  reconnectInitialMs?: number;
  /** Longest reconnect delay, in ms. @default 10000 */
  reconnectMaxMs?: number;
  /** How long close() waits for outstanding submits before it unbinds, in ms. @default 5000 */
  drainTimeoutMs?: number;
  /** interface_version announced in bind_*: SMPP 3.4 (the library would say 5.0). @default 0x34 */
  interfaceVersion?: number;
  /**
   * How long a receipt (deliver_sm / data_sm) may wait for the receipt handler before we answer
   * ESME_RX_T_APPN, so the SMSC retries instead of timing us out; 0 waits for the handler. A late
   * handler that did record the receipt costs a duplicate receipt (harmless), never a lost one.
   * @default 2000
   */
  receiptAckDeadlineMs?: number;
  /** A bind must stay up this long before the reconnect backoff starts again from reconnectInitialMs (an SMSC that accepts then drops must not get a reconnect every 250 ms). @default 30000 */
  bindStableMs?: number;
  /**
   * How long a submit_sm may stay in doubt (no submit_sm_resp within responseTimeoutMs) before its
   * session is torn down, as Kannel's wait-ack does. A response swallowed by a garbage PDU on a
   * session that still answers enquire_link would otherwise hold its window slot for the life of
   * the session; a window full of them stalls the bind. 0: never.
   * @default 60000
   */
  waitAckMs?: number;
  /** Refusal state shared by the binds of one account (route). @default one of its own */
  refusals?: BindRefusals;
  /** Throttling pause shared by the binds of one account (route). @default one of its own */
  pause?: ThrottlePause;
  logger?: BindLogger;
}

/** Called for every delivery receipt; the deliver_sm is acknowledged only after it resolves. */
export type ReceiptHandler = (receipt: ParsedReceipt, bindName: string) => Promise<void>;

/**
 * Called for every mobile-originated deliver_sm / data_sm; it is acknowledged only after it resolves
 * (ESME_RX_T_APPN when it rejects or outlasts receiptAckDeadlineMs, so the SMSC re-sends it).
 */
export type MoHandler = (mo: ParsedMo, bindName: string) => Promise<void>;

export type BindState = 'disconnected' | 'connecting' | 'bound' | 'closing' | 'closed';

export interface SubmitParams {
  source_addr: string;
  source_addr_ton: number;
  source_addr_npi: number;
  destination_addr: string;
  dest_addr_ton: number;
  dest_addr_npi: number;
  data_coding: number;
  registered_delivery: number;
  esm_class?: number;
  validity_period?: string;
  /** A string is encoded by the library per data_coding; a Buffer goes as is (IA5, Latin-1). */
  short_message?: { message: string | Buffer; udh?: Buffer };
  message_payload?: { message: string | Buffer };
}

export const consoleLogger: BindLogger = {
  info: (msg, meta) => console.log(`[smpp] ${msg}`, meta ? JSON.stringify(meta) : ''),
  warn: (msg, meta) => console.warn(`[smpp] ${msg}`, meta ? JSON.stringify(meta) : ''),
};

interface Waiter {
  cls: TrafficClass;
  resolve: () => void;
}

export class SmppBind extends EventEmitter {
  state: BindState = 'disconnected';
  /** Why the last bind attempt failed, for status and errors; cleared once bound. */
  lastError?: string;
  readonly refusals: BindRefusals;
  readonly pause: ThrottlePause;
  private stableTimer?: NodeJS.Timeout;
  private backoffMs = 0;
  private session?: smpp.Session;
  private reconnectAttempt = 0;
  private reconnectTimer?: NodeJS.Timeout;
  private keepAliveTimer?: NodeJS.Timeout;
  private readonly opts: Required<Omit<SmppBindOptions, 'logger' | 'tls' | 'refusals' | 'pause' | keyof BindRefusalOptions>> & {
    logger: BindLogger;
    tls: BindTlsOptions | null;
  };
  private receiptHandler?: ReceiptHandler;
  private moHandler?: MoHandler;
  /** Rejecters of requests still waiting for a response, per session, failed at once when it closes. */
  private readonly inFlight = new WeakMap<smpp.Session, Set<(err: Error) => void>>();
  private outstanding = 0;
  private readonly waiters: Waiter[] = [];
  /** Counters for observability. */
  readonly stats = { submitted: 0, throttled: 0, receipts: 0, mo: 0, moDeferred: 0, reconnects: 0, inDoubt: 0, lateAnswers: 0, connectTimeouts: 0 };
  /** PDUs refused, dropped or degraded, and sessions torn down for lost framing (see pdu-guard.ts). */
  readonly pdu = newPduCounters();

  constructor(options: SmppBindOptions) {
    super();
    // An option given as undefined (e.g. a route without systemType) must not wipe out its default.
    const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as SmppBindOptions;
    this.opts = {
      ...BIND_DEFAULTS,
      logger: consoleLogger,
      ...given,
      tls: options.tls ?? null,
    };
    this.refusals = options.refusals ?? new BindRefusals(options);
    this.pause = options.pause ?? new ThrottlePause();
    this.refusals.on('reset', () => {
      if (this.state === 'disconnected') this.scheduleReconnect();
    });
  }

  /** The SMSC asked us to slow down: no submit before this instant. */
  get pausedUntil(): number {
    return this.pause.until;
  }

  get name(): string {
    return this.opts.name;
  }
  get mode(): BindMode {
    return this.opts.mode;
  }
  /** Submits waiting for, or holding, a window slot. */
  get load(): number {
    return this.outstanding + this.waiters.length;
  }
  get canSubmit(): boolean {
    return this.state === 'bound' && this.opts.mode !== 'receiver';
  }

  describe(): {
    name: string;
    mode: BindMode;
    state: BindState;
    outstanding: number;
    window: number;
    queued: number;
    pausedMs: number;
    lastError: string | null;
    reconnectBackoffMs: number;
    pdu: SmppBind['pdu'];
  } & SmppBind['stats'] {
    return {
      name: this.name,
      mode: this.mode,
      state: this.state,
      outstanding: this.outstanding,
      window: this.opts.window,
      queued: this.waiters.length,
      pausedMs: this.pause.remainingMs(),
      lastError: this.lastError ?? null,
      reconnectBackoffMs: this.backoffMs,
      ...this.stats,
      pdu: { ...this.pdu },
    };
  }

  onReceipt(handler: ReceiptHandler): void {
    this.receiptHandler = handler;
  }

  onMobileOriginated(handler: MoHandler): void {
    this.moHandler = handler;
  }

  start(): void {
    if (this.state === 'closed' || this.state === 'closing') throw new Error(`bind ${this.name} is ${this.state}`);
    this.connect();
  }

  /** Resolves once bound; rejects after `timeoutMs`. */
  ready(timeoutMs: number): Promise<void> {
    if (this.state === 'bound') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onBound = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.off('bound', onBound);
        reject(new SmppTransientError(`bind ${this.name} to ${this.opts.host}:${this.opts.port} not ready after ${timeoutMs} ms (state ${this.state})`));
      }, timeoutMs);
      this.once('bound', onBound);
    });
  }

  /**
   * Submits one PDU inside the window, after any throttling pause; OTP traffic
   * is served before bulk. Without an answer in time (or when the bind drops
   * first) it throws SmppInDoubtError: the submit keeps its window slot until
   * its late answer or the end of its session.
   */
  async submit(params: SubmitParams, cls: TrafficClass = 'otp', deadline = Infinity): Promise<string> {
    await this.acquireSlot(cls, deadline);
    let inDoubt = false;
    try {
      if (!(await this.pause.wait(deadline)))
        throw new SmppTransientError(`bind ${this.name} is paused by SMSC throttling past the submit deadline`, SMPP_STATUS.ESME_RTHROTTLED);
      const session = this.session;
      if (!this.canSubmit || !session) throw new SmppTransientError(`bind ${this.name} is ${this.state}`);
      const resp = await this.request(session, 'submit_sm', params as unknown as Record<string, unknown>, (late, why) => {
        inDoubt = true;
        this.stats.inDoubt++;
        this.expireInDoubt(session, late);
        const answer = late.then((r): LateAnswer => {
          this.releaseSlot();
          if (!r) return { kind: 'lost' };
          try {
            const messageId = this.messageIdOf(r);
            this.stats.lateAnswers++;
            return { kind: 'accepted', messageId };
          } catch (err) {
            return { kind: 'refused', error: err as Error };
          }
        });
        return new SmppInDoubtError(`submit_sm ${why} on bind ${this.name}: in doubt, the SMSC may have it`, answer);
      });
      return this.messageIdOf(resp);
    } finally {
      if (!inDoubt) this.releaseSlot();
    }
  }

  private messageIdOf(resp: smpp.PDU): string {
    if (BACKOFF.has(resp.command_status)) {
      // Paused before this slot is freed, so the submit queued behind it waits too.
      this.stats.throttled++;
      this.pause.throttled();
    }
    if (resp.command_id === GENERIC_NACK)
      throw new SmppTransientError(`submit_sm answered with generic_nack (${resp.command_status}) on bind ${this.name}`, resp.command_status);
    if (resp.command_status !== SMPP_STATUS.ESME_ROK) throw errorForStatus('submit_sm', resp.command_status);
    this.stats.submitted++;
    if (!resp.message_id?.trim()) {
      // Accepted: the code is out, so re-sending would duplicate it; only receipts cannot be linked.
      this.pdu.acceptedWithoutId++;
      this.opts.logger.warn('submit_sm accepted without message_id; not re-sent, its receipt cannot be linked', { bind: this.name });
      return unlinkedMessageId();
    }
    return resp.message_id;
  }

  /** Stop taking work, let outstanding submits finish, unbind politely, close. No reconnect afterwards. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    const wasBound = this.state === 'bound';
    this.state = 'closing';
    clearTimeout(this.reconnectTimer);
    for (const w of this.waiters.splice(0)) w.resolve(); // they will see state 'closing' and fail transiently
    if (this.outstanding > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.opts.drainTimeoutMs);
        const check = () => {
          if (this.outstanding === 0) {
            clearTimeout(timer);
            this.off('slot', check);
            resolve();
          }
        };
        this.on('slot', check);
      });
    }
    clearInterval(this.keepAliveTimer);
    const session = this.session;
    if (session && wasBound) {
      try {
        await this.request(session, 'unbind', {});
      } catch {
        // The SMSC did not answer; closing the socket is all we can do.
      }
    }
    this.state = 'closed';
    if (!session) return;
    await new Promise<void>((resolve) => {
      if (session.socket.destroyed) return resolve();
      session.socket.once('close', () => resolve());
      session.close();
      setTimeout(() => {
        session.destroy();
        resolve();
      }, 1000).unref();
    });
  }

  /** A window slot; rejects (nothing sent) when none frees up before `deadline`. */
  private acquireSlot(cls: TrafficClass, deadline = Infinity): Promise<void> {
    if (this.outstanding < this.opts.window && this.waiters.length === 0) {
      this.outstanding++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const waiter: Waiter = {
        cls,
        resolve: () => {
          clearTimeout(timer);
          this.outstanding++;
          resolve();
        },
      };
      // OTP waits in front of every bulk waiter, behind earlier OTP ones.
      const firstBulk = cls === 'otp' ? this.waiters.findIndex((w) => w.cls === 'bulk') : -1;
      if (firstBulk === -1) this.waiters.push(waiter);
      else this.waiters.splice(firstBulk, 0, waiter);
      if (deadline === Infinity) return;
      timer = setTimeout(
        () => {
          const at = this.waiters.indexOf(waiter);
          if (at === -1) return;
          this.waiters.splice(at, 1);
          reject(new SmppTransientError(`bind ${this.name} had no free window slot before the submit deadline`));
        },
        Math.max(0, deadline - Date.now()),
      );
    });
  }

  /**
   * Tears `session` down when an in-doubt submit is still unanswered after waitAckMs: its
   * response was lost on a session that looks alive, and only the close frees its window slot
   * (its late answer then settles as lost).
   */
  private expireInDoubt(session: smpp.Session, late: Promise<smpp.PDU | null>): void {
    const ms = this.opts.waitAckMs;
    if (!(ms > 0)) return;
    let settled = false;
    const timer = setTimeout(() => {
      if (settled || session.socket.destroyed) return;
      this.opts.logger.warn('submit_sm in doubt past waitAckMs; tearing the session down to free its window slot', { bind: this.name, waitAckMs: ms });
      session.destroy();
    }, ms);
    timer.unref();
    void late.then(() => {
      settled = true;
      clearTimeout(timer);
    });
  }

  private releaseSlot(): void {
    this.outstanding--;
    const next = this.waiters.shift();
    if (next) next.resolve();
    this.emit('slot');
  }

  /**
   * Sends one PDU and waits for its response. With `unanswered`, a PDU that was
   * written but not answered in time (or before its session closed) rejects with
   * the error it returns, and its response, if it ever comes, goes to `late`
   * (null once the session is closed).
   */
  private request(
    session: smpp.Session,
    command: string,
    params: Record<string, unknown>,
    unanswered?: (late: Promise<smpp.PDU | null>, why: string) => Error,
  ): Promise<smpp.PDU> {
    let pending = this.inFlight.get(session);
    if (!pending) this.inFlight.set(session, (pending = new Set()));
    const waiting = pending;
    return new Promise<smpp.PDU>((resolve, reject) => {
      let answer = resolve;
      const fail = (err: Error) => {
        clearTimeout(timer);
        waiting.delete(fail);
        reject(err);
      };
      let gaveUp = false;
      const giveUp = (why: string, closed: boolean) => {
        if (!unanswered) return fail(new SmppTransientError(`${command} ${why} on bind ${this.name}`));
        if (gaveUp) return; // timed out first, then closed: `late` already covers the close
        gaveUp = true;
        clearTimeout(timer);
        waiting.delete(onClose);
        const late = new Promise<smpp.PDU | null>((settle) => {
          const lost = () => {
            waiting.delete(lost);
            settle(null);
          };
          answer = (resp) => {
            waiting.delete(lost);
            settle(resp);
          };
          if (closed) settle(null);
          else waiting.add(lost);
        });
        reject(unanswered(late, why));
      };
      const timer = setTimeout(() => giveUp(`got no response within ${this.opts.responseTimeoutMs} ms`, false), this.opts.responseTimeoutMs);
      const onClose = () => giveUp('got no response before the connection closed', true);
      waiting.add(unanswered ? onClose : fail);
      const pdu = new smpp.PDU(command, params);
      const sent = session.send(pdu, (resp) => {
        clearTimeout(timer);
        waiting.delete(fail);
        waiting.delete(onClose);
        answer(resp);
      });
      if (!sent) {
        waiting.delete(onClose);
        fail(new SmppTransientError(`bind ${this.name} socket is not writable`));
      }
    });
  }

  private connect(): void {
    if (this.state === 'closed' || this.state === 'closing') return;
    // Another bind of this account was refused, or probes it now: wait.
    if (!this.refusals.tryBind()) return this.scheduleReconnect();
    let attempt = true;
    const settled = () => {
      if (attempt) this.refusals.settled();
      attempt = false;
    };
    this.state = 'connecting';
    const { host, port, systemId, password, systemType, logger, mode, tls } = this.opts;
    const session = smpp.connect(
      tls
        ? {
            host,
            port,
            tls: true,
            ca: tls.ca,
            cert: tls.cert,
            key: tls.key,
            rejectUnauthorized: tls.rejectUnauthorized ?? true,
            servername: tls.servername ?? host,
          }
        : { host, port },
    );
    this.session = session;
    this.armConnectTimeout(session);
    guardSession(session, (e) => this.onPduEvent(session, e));
    session.on('error', (err: Error) => {
      if (this.state === 'connecting') this.lastError = `cannot connect: ${err.message}`;
      logger.warn('socket error', { bind: this.name, error: err.message });
    });
    session.on(tls ? 'secureConnect' : 'connect', () => {
      this.request(session, `bind_${mode}`, { system_id: systemId, password, system_type: systemType, interface_version: this.opts.interfaceVersion })
        .then((resp) => {
          if (resp.command_status !== SMPP_STATUS.ESME_ROK) {
            this.lastError = describeBindRefusal(resp.command_status);
            if (isCredentialRefusal(resp.command_status)) this.refusals.refused(resp.command_status);
            settled();
            logger.warn('bind refused', {
              bind: this.name,
              status: errorForStatus('bind', resp.command_status).message,
              reason: this.lastError,
              refusals: this.refusals.count,
              stopped: this.refusals.stopped,
            });
            session.destroy();
            return;
          }
          if (this.state !== 'connecting' || this.session !== session) return;
          this.state = 'bound';
          this.lastError = undefined;
          this.refusals.accepted();
          settled();
          this.markStableLater(session);
          this.startKeepAlive(session);
          logger.info('bound', { bind: this.name, mode, host, port, tls: !!tls });
          this.emit('bound');
        })
        .catch((err: Error) => {
          this.lastError = `bind failed: ${err.message}`;
          logger.warn('bind failed', { bind: this.name, error: err.message });
          session.destroy();
        });
    });
    session.on('close', () => {
      settled();
      clearInterval(this.keepAliveTimer);
      clearTimeout(this.stableTimer);
      for (const fail of [...(this.inFlight.get(session) ?? [])]) fail(new SmppTransientError(`bind ${this.name} connection closed before the response`));
      if (this.session !== session) return;
      this.session = undefined;
      if (this.state === 'closed' || this.state === 'closing') return;
      const wasBound = this.state === 'bound';
      this.state = 'disconnected';
      if (wasBound) logger.warn('connection lost', { bind: this.name });
      this.emit('unbound');
      this.scheduleReconnect();
    });
    session.on('enquire_link', (pdu: smpp.PDU) => {
      session.send(pdu.response());
    });
    session.on('unbind', (pdu: smpp.PDU) => {
      logger.warn('SMSC unbound us', { bind: this.name });
      session.send(pdu.response());
      if (this.state === 'bound') this.state = 'disconnected';
      session.close();
    });
    session.on('deliver_sm', (pdu: smpp.PDU) => this.onDeliverSm(session, pdu));
    session.on('data_sm', (pdu: smpp.PDU) => this.onDeliverSm(session, pdu));
  }

  /** Tears the socket down (and so reconnects with backoff) when it is not bound in time. */
  private armConnectTimeout(session: smpp.Session): void {
    const ms = this.opts.connectTimeoutMs;
    const timer = setTimeout(() => {
      if (this.session !== session || this.state !== 'connecting') return;
      this.stats.connectTimeouts++;
      this.opts.logger.warn('not bound within connectTimeoutMs (TCP connect, TLS handshake or bind); reconnecting', { bind: this.name, connectTimeoutMs: ms });
      session.destroy();
    }, ms);
    timer.unref();
    session.once('close', () => clearTimeout(timer));
  }

  private onPduEvent(session: smpp.Session, e: PduGuardEvent): void {
    const { msg, meta } = countPduEvent(this.pdu, e);
    this.opts.logger.warn(msg, { bind: this.name, ...meta });
    // Down at once, before the socket reports its close: nothing more may be submitted on it.
    if (e.kind === 'framing_lost' && this.session === session && this.state === 'bound') this.state = 'disconnected';
  }

  private startKeepAlive(session: smpp.Session): void {
    clearInterval(this.keepAliveTimer);
    this.keepAliveTimer = setInterval(() => {
      this.request(session, 'enquire_link', {}).catch(() => {
        this.opts.logger.warn('enquire_link unanswered; reconnecting', { bind: this.name });
        session.destroy();
      });
    }, this.opts.enquireLinkMs);
    this.keepAliveTimer.unref();
  }

  /** The backoff starts over only once a bind stayed up: accept-then-drop must not reconnect at once, forever. */
  private markStableLater(session: smpp.Session): void {
    clearTimeout(this.stableTimer);
    this.stableTimer = setTimeout(() => {
      if (this.session === session && this.state === 'bound') this.reconnectAttempt = 0;
    }, this.opts.bindStableMs);
    this.stableTimer.unref();
  }

  private scheduleReconnect(): void {
    const { reconnectInitialMs, reconnectMaxMs } = this.opts;
    clearTimeout(this.reconnectTimer);
    const held = this.refusals.waitMs();
    if (held === Infinity) {
      // Stopped after repeated refusals: nothing until reset() or a restart.
      this.opts.logger.warn('bind stopped after repeated refusals', { bind: this.name, reason: this.refusals.reason, refusals: this.refusals.count });
      return;
    }
    this.backoffMs = Math.min(reconnectMaxMs, reconnectInitialMs * 2 ** this.reconnectAttempt++);
    const delay = Math.max(held, Math.round(this.backoffMs * (0.5 + Math.random() / 2))); // jitter: many workers must not reconnect in lockstep
    this.stats.reconnects++;
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  private onDeliverSm(session: smpp.Session, pdu: smpp.PDU): void {
    if (isMobileOriginated(pdu)) return this.onMobileOriginatedPdu(session, pdu);
    const receipt = parseDeliveryReceipt(pdu);
    if (!receipt) {
      // An unparseable receipt: acknowledge so the SMSC does not resend forever.
      this.opts.logger.info('deliver_sm that is not a usable receipt acknowledged', { bind: this.name, esm_class: pdu.esm_class });
      session.send(pdu.response());
      return;
    }
    this.stats.receipts++;
    const handler = this.receiptHandler;
    if (!handler) {
      session.send(pdu.response({ command_status: SMPP_STATUS.ESME_RX_T_APPN }));
      return;
    }
    this.answerAfter(
      session,
      pdu,
      () => handler(receipt, this.name),
      (why, err) => {
        if (why === 'deadline') {
          this.pdu.receiptsDeferred++;
          this.opts.logger.warn('receipt handler slower than receiptAckDeadlineMs; asking SMSC to retry', {
            bind: this.name,
            messageId: receipt.messageId,
            deadlineMs: this.opts.receiptAckDeadlineMs,
          });
        } else this.opts.logger.warn('receipt not recorded; asking SMSC to retry', { bind: this.name, messageId: receipt.messageId, error: err?.message });
      },
    );
  }

  /** A mobile-originated message: acknowledged once its handler has handed it over (never logged with its content). */
  private onMobileOriginatedPdu(session: smpp.Session, pdu: smpp.PDU): void {
    this.stats.mo++;
    const handler = this.moHandler;
    if (!handler) {
      this.opts.logger.info('mobile-originated message acknowledged and dropped (no handler)', { bind: this.name });
      session.send(pdu.response());
      return;
    }
    const mo = parseMobileOriginated(pdu);
    this.answerAfter(
      session,
      pdu,
      () => handler(mo, this.name),
      (why, err) => {
        this.stats.moDeferred++;
        this.opts.logger.warn(
          why === 'deadline' ? 'MO handler slower than receiptAckDeadlineMs; asking SMSC to retry' : 'MO not handed over; asking SMSC to retry',
          { bind: this.name, error: err?.message },
        );
      },
    );
  }

  /**
   * Answers the PDU once: ROK when `work` resolves; ESME_RX_T_APPN (temporary: the SMSC keeps the
   * message and redelivers it) when it rejects or outlasts receiptAckDeadlineMs.
   */
  private answerAfter(session: smpp.Session, pdu: smpp.PDU, work: () => Promise<void>, deferred: (why: 'deadline' | 'error', err?: Error) => void): void {
    let answered = false;
    const answer = (status: number) => {
      if (answered) return;
      answered = true;
      clearTimeout(deadline);
      session.send(pdu.response(status === SMPP_STATUS.ESME_ROK ? {} : { command_status: status }));
    };
    const ms = this.opts.receiptAckDeadlineMs;
    const deadline =
      ms > 0
        ? setTimeout(() => {
            if (answered) return;
            deferred('deadline');
            answer(SMPP_STATUS.ESME_RX_T_APPN);
          }, ms)
        : undefined;
    work().then(
      () => answer(SMPP_STATUS.ESME_ROK),
      (err: Error) => {
        if (!answered) deferred('error', err);
        answer(SMPP_STATUS.ESME_RX_T_APPN);
      },
    );
  }
}

const GENERIC_NACK = 0x80000000;
