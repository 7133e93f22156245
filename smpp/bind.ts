/**
 * One SMPP bind owned by the worker process. Covers what `smpp` 0.5.1 lacks:
 * reconnect with backoff and jitter, a timeout on every response, answers to
 * the SMSC's enquire_link and unbind, our own enquire_link keep-alive, and an
 * 'error' listener so a socket error never crashes the worker.
 */
import { EventEmitter } from 'node:events';
import * as smpp from 'smpp';
import { errorForStatus, SMPP_STATUS, SmppTransientError } from './errors';
import { parseDeliveryReceipt, type ParsedReceipt } from './receipt';

export interface BindLogger {
  info(msg: string, meta?: Record<string, unknown>): void;
  warn(msg: string, meta?: Record<string, unknown>): void;
}

export interface SmppBindOptions {
  /** Name used in logs and receipt mailbox ids. */
  name: string;
  host: string;
  port: number;
  systemId: string;
  password: string;
  /** Default ''. */
  systemType?: string;
  /** Time allowed for any response PDU. Default 5000 ms. */
  responseTimeoutMs?: number;
  /** Keep-alive period. Default 30000 ms. */
  enquireLinkMs?: number;
  /** First reconnect delay; doubles up to reconnectMaxMs. Default 250 ms. */
  reconnectInitialMs?: number;
  /** Default 10000 ms. */
  reconnectMaxMs?: number;
  logger?: BindLogger;
}

/** Called for every delivery receipt; the deliver_sm is acknowledged only after it resolves. */
export type ReceiptHandler = (receipt: ParsedReceipt, bindName: string) => Promise<void>;

export type BindState = 'disconnected' | 'connecting' | 'bound' | 'closed';

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
  short_message: { message: string; udh?: Buffer };
}

const consoleLogger: BindLogger = {
  info: (msg, meta) => console.log(`[smpp] ${msg}`, meta ? JSON.stringify(meta) : ''),
  warn: (msg, meta) => console.warn(`[smpp] ${msg}`, meta ? JSON.stringify(meta) : ''),
};

export class SmppBind extends EventEmitter {
  state: BindState = 'disconnected';
  private session?: smpp.Session;
  private reconnectAttempt = 0;
  private reconnectTimer?: NodeJS.Timeout;
  private keepAliveTimer?: NodeJS.Timeout;
  private readonly opts: Required<Omit<SmppBindOptions, 'logger'>> & { logger: BindLogger };
  private receiptHandler?: ReceiptHandler;
  /** Rejecters of requests still waiting for a response, per session, failed at once when it closes. */
  private readonly inFlight = new WeakMap<smpp.Session, Set<(err: Error) => void>>();

  constructor(options: SmppBindOptions) {
    super();
    this.opts = {
      systemType: '',
      responseTimeoutMs: 5000,
      enquireLinkMs: 30000,
      reconnectInitialMs: 250,
      reconnectMaxMs: 10000,
      logger: consoleLogger,
      ...options,
    };
  }

  get name(): string {
    return this.opts.name;
  }

  onReceipt(handler: ReceiptHandler): void {
    this.receiptHandler = handler;
  }

  start(): void {
    if (this.state === 'closed') throw new Error(`bind ${this.name} is closed`);
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

  async submit(params: SubmitParams): Promise<string> {
    const session = this.session;
    if (this.state !== 'bound' || !session) throw new SmppTransientError(`bind ${this.name} is ${this.state}`);
    const resp = await this.request(session, 'submit_sm', params as unknown as Record<string, unknown>);
    if (resp.command_status !== SMPP_STATUS.ESME_ROK) throw errorForStatus('submit_sm', resp.command_status);
    if (!resp.message_id) throw new SmppTransientError('submit_sm_resp carried no message_id');
    return resp.message_id;
  }

  /** Unbinds politely, then closes the socket. No reconnect afterwards. */
  async close(): Promise<void> {
    const session = this.session;
    const wasBound = this.state === 'bound';
    this.state = 'closed';
    clearTimeout(this.reconnectTimer);
    clearInterval(this.keepAliveTimer);
    if (!session) return;
    if (wasBound) {
      try {
        await this.request(session, 'unbind', {});
      } catch {
        // The SMSC did not answer; closing the socket is all we can do.
      }
    }
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

  private request(session: smpp.Session, command: string, params: Record<string, unknown>): Promise<smpp.PDU> {
    let pending = this.inFlight.get(session);
    if (!pending) this.inFlight.set(session, (pending = new Set()));
    const waiting = pending;
    return new Promise<smpp.PDU>((resolve, reject) => {
      const fail = (err: Error) => {
        clearTimeout(timer);
        waiting.delete(fail);
        reject(err);
      };
      const timer = setTimeout(() => {
        fail(new SmppTransientError(`${command} got no response within ${this.opts.responseTimeoutMs} ms on bind ${this.name}`));
      }, this.opts.responseTimeoutMs);
      waiting.add(fail);
      const pdu = new smpp.PDU(command, params);
      const sent = session.send(pdu, (resp) => {
        clearTimeout(timer);
        waiting.delete(fail);
        resolve(resp);
      });
      if (!sent) fail(new SmppTransientError(`bind ${this.name} socket is not writable`));
    });
  }

  private connect(): void {
    if (this.state === 'closed') return;
    this.state = 'connecting';
    const { host, port, systemId, password, systemType, logger } = this.opts;
    const session = smpp.connect({ host, port });
    this.session = session;
    session.on('error', (err: Error) => logger.warn('socket error', { bind: this.name, error: err.message }));
    session.on('connect', () => {
      this.request(session, 'bind_transceiver', { system_id: systemId, password, system_type: systemType })
        .then((resp) => {
          if (resp.command_status !== SMPP_STATUS.ESME_ROK) {
            logger.warn('bind refused', { bind: this.name, status: errorForStatus('bind', resp.command_status).message });
            session.destroy();
            return;
          }
          if (this.state === 'closed') return;
          this.state = 'bound';
          this.reconnectAttempt = 0;
          this.startKeepAlive(session);
          logger.info('bound', { bind: this.name, host, port });
          this.emit('bound');
        })
        .catch((err: Error) => {
          logger.warn('bind failed', { bind: this.name, error: err.message });
          session.destroy();
        });
    });
    session.on('close', () => {
      clearInterval(this.keepAliveTimer);
      for (const fail of [...(this.inFlight.get(session) ?? [])]) fail(new SmppTransientError(`bind ${this.name} connection closed before the response`));
      if (this.session !== session) return;
      this.session = undefined;
      if (this.state === 'closed') return;
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

  private scheduleReconnect(): void {
    const { reconnectInitialMs, reconnectMaxMs } = this.opts;
    const base = Math.min(reconnectMaxMs, reconnectInitialMs * 2 ** this.reconnectAttempt++);
    const delay = Math.round(base * (0.5 + Math.random() / 2)); // jitter: many workers must not reconnect in lockstep
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  private onDeliverSm(session: smpp.Session, pdu: smpp.PDU): void {
    const receipt = parseDeliveryReceipt(pdu);
    if (!receipt) {
      // Mobile-originated text or an unparseable receipt: acknowledge so the SMSC does not resend forever.
      this.opts.logger.info('deliver_sm that is not a usable receipt acknowledged', { bind: this.name, esm_class: pdu.esm_class });
      session.send(pdu.response());
      return;
    }
    const handler = this.receiptHandler;
    if (!handler) {
      session.send(pdu.response({ command_status: SMPP_STATUS.ESME_RX_T_APPN }));
      return;
    }
    handler(receipt, this.name).then(
      () => session.send(pdu.response()),
      (err: Error) => {
        // Temporary error: the SMSC keeps the receipt and redelivers it later.
        this.opts.logger.warn('receipt not recorded; asking SMSC to retry', { bind: this.name, messageId: receipt.messageId, error: err.message });
        session.send(pdu.response({ command_status: SMPP_STATUS.ESME_RX_T_APPN }));
      },
    );
  }
}
