/**
 * SMSC simulator: a real SMPP 3.4 server on loopback (the `smpp` package's
 * server side) plus a "phone inbox" over HTTP. It stands in for the carrier,
 * the one part we cannot run here.
 *
 *   GET    /messages?to=+33612345678   what that handset received (JSON)
 *   DELETE /messages                   empty every inbox
 *   PUT    /behaviours?to=+33…&mode=…  script a destination (mode: see Behaviour)
 *   GET    /health                     {"ok":true,"sessions":n}
 */
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import * as smpp from 'smpp';
import { STATE_CODES } from '../smpp/receipt';
import { SMPP_STATUS } from '../smpp/errors';

/** What the simulated network does with a message to one destination. */
export type Behaviour = 'deliver' | 'undeliverable' | 'rejected' | 'no_receipt' | 'throttle' | 'drop';
export const BEHAVIOURS: readonly Behaviour[] = ['deliver', 'undeliverable', 'rejected', 'no_receipt', 'throttle', 'drop'];

export interface SimulatorOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** SMPP port. Default 2775; 0 picks a free port. */
  smppPort?: number;
  /** HTTP inbox port. Default 2780; 0 picks a free port. */
  httpPort?: number;
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
  private readonly inbox = new Map<string, InboxMessage[]>();
  private readonly concat = new Map<string, PendingConcat>();
  private readonly bound = new Set<smpp.Session>();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Every submit_sm seen, including refused ones: lets tests count attempts. */
  readonly submits: { to: string; status: number; at: number }[] = [];

  constructor(options: SimulatorOptions = {}) {
    this.opts = {
      host: '127.0.0.1',
      smppPort: 2775,
      httpPort: 2780,
      accounts: { otp: 'secret' },
      receiptDelayMs: 50,
      defaultBehaviour: 'deliver',
      quiet: false,
      ...options,
      behaviours: new Map(Object.entries(options.behaviours ?? {})),
    };
  }

  get smppPort(): number {
    return (this.smppServer?.address() as AddressInfo | null)?.port ?? this.opts.smppPort;
  }
  get httpPort(): number {
    return (this.httpServer?.address() as AddressInfo | null)?.port ?? this.opts.httpPort;
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
    this.submits.length = 0;
  }

  /** Number of bound ESME sessions. */
  get sessionCount(): number {
    return this.bound.size;
  }

  async start(): Promise<void> {
    this.smppServer = smpp.createServer({}, (session) => this.onSession(session));
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
    this.log(`SMPP on ${this.opts.host}:${this.smppPort}, phone inbox on ${this.inboxUrl}/messages?to=<E.164>`);
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const s of [...(this.smppServer?.sessions ?? [])]) s.destroy();
    await Promise.all([
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
    session.on('error', (err: Error) => this.log(`session error: ${err.message}`));
    session.on('close', () => this.bound.delete(session));
    const bind = (pdu: smpp.PDU) => {
      const expected = this.opts.accounts[pdu.system_id ?? ''];
      if (expected === undefined || expected !== pdu.password) {
        session.send(pdu.response({ command_status: expected === undefined ? SMPP_STATUS.ESME_RINVSYSID : SMPP_STATUS.ESME_RINVPASWD }));
        this.log(`bind refused for system_id "${pdu.system_id}"`);
        return;
      }
      systemId = pdu.system_id;
      this.bound.add(session);
      session.send(pdu.response({ system_id: 'SMSCSIM' }));
    };
    session.on('bind_transceiver', bind);
    session.on('bind_transmitter', bind);
    session.on('bind_receiver', bind);
    session.on('enquire_link', (pdu: smpp.PDU) => session.send(pdu.response()));
    session.on('unbind', (pdu: smpp.PDU) => {
      this.bound.delete(session);
      session.send(pdu.response(), () => session.close());
    });
    session.on('submit_sm', (pdu: smpp.PDU) => {
      if (!systemId) {
        session.send(pdu.response({ command_status: 0x04 })); // ESME_RINVBNDSTS
        return;
      }
      this.onSubmit(session, pdu);
    });
  }

  private onSubmit(session: smpp.Session, pdu: smpp.PDU): void {
    const to = `+${(pdu.destination_addr ?? '').replace(/^\+/, '')}`;
    const behaviour = this.opts.behaviours.get(to) ?? this.opts.defaultBehaviour;
    if (behaviour === 'drop') {
      this.submits.push({ to, status: -1, at: Date.now() });
      session.destroy();
      return;
    }
    if (behaviour === 'throttle') {
      this.submits.push({ to, status: SMPP_STATUS.ESME_RTHROTTLED, at: Date.now() });
      session.send(pdu.response({ command_status: SMPP_STATUS.ESME_RTHROTTLED }));
      return;
    }
    const messageId = randomBytes(8).toString('hex');
    this.submits.push({ to, status: 0, at: Date.now() });
    session.send(pdu.response({ message_id: messageId }));

    const sm = pdu.short_message;
    const text = typeof sm === 'object' && sm !== null && !Buffer.isBuffer(sm) ? String(sm.message) : String(sm ?? '');
    const udh = typeof sm === 'object' && sm !== null && !Buffer.isBuffer(sm) && sm.udh ? ([] as Buffer[]).concat(sm.udh as Buffer | Buffer[]) : [];
    const concatIe = udh.find((u) => u[0] === 0x00 && u[1] === 0x03);
    const from = pdu.source_addr ?? '';

    // no_receipt still reaches the handset: only the receipt goes missing.
    if (behaviour === 'deliver' || behaviour === 'no_receipt') {
      if (concatIe) {
        const key = `${to}|${from}|${concatIe[2]}`;
        const pending: PendingConcat = this.concat.get(key) ?? { parts: new Map<number, string>(), total: concatIe[3], ids: [] };
        pending.parts.set(concatIe[4], text);
        pending.ids.push(messageId);
        this.concat.set(key, pending);
        if (pending.parts.size === pending.total) {
          this.concat.delete(key);
          const full = [...pending.parts.entries()].sort((a, b) => a[0] - b[0]).map(([, t]) => t).join('');
          this.deliverToHandset({ to, from, text: full, dataCoding: pdu.data_coding ?? 0, segments: pending.total, messageIds: pending.ids, receivedAt: new Date().toISOString() });
        }
      } else {
        this.deliverToHandset({ to, from, text, dataCoding: pdu.data_coding ?? 0, segments: 1, messageIds: [messageId], receivedAt: new Date().toISOString() });
      }
    }

    if ((pdu.registered_delivery ?? 0) & 0x03 && behaviour !== 'no_receipt') {
      const stat = behaviour === 'deliver' ? 'DELIVRD' : behaviour === 'rejected' ? 'REJECTD' : 'UNDELIV';
      const err = stat === 'DELIVRD' ? '000' : stat === 'REJECTD' ? '011' : '001';
      const submitted = new Date();
      this.later(this.opts.receiptDelayMs, () => this.sendReceipt(session, { messageId, to, from, stat, err, submitted }));
    }
  }

  private deliverToHandset(m: InboxMessage): void {
    const list = this.inbox.get(m.to) ?? [];
    list.push(m);
    this.inbox.set(m.to, list);
  }

  private sendReceipt(origin: smpp.Session, r: { messageId: string; to: string; from: string; stat: string; err: string; submitted: Date }): void {
    // Prefer the session that submitted; fall back to any other bound session.
    const target = this.bound.has(origin) ? origin : [...this.bound][0];
    if (!target) {
      this.later(500, () => this.sendReceipt(origin, r));
      return;
    }
    const dlvrd = r.stat === 'DELIVRD' ? '001' : '000';
    const text = `id:${r.messageId} sub:001 dlvrd:${dlvrd} submit date:${smppTimestamp(r.submitted)} done date:${smppTimestamp(new Date())} stat:${r.stat} err:${r.err} text:`;
    target.deliver_sm(
      {
        source_addr: r.to.replace(/^\+/, ''),
        source_addr_ton: 1,
        source_addr_npi: 1,
        destination_addr: r.from,
        esm_class: 0x04,
        data_coding: 0,
        short_message: { message: text },
        receipted_message_id: r.messageId,
        message_state: STATE_CODES[r.stat],
      },
      (resp) => {
        if (resp.command_status !== 0) this.later(500, () => this.sendReceipt(origin, r)); // ESME asked us to retry
      },
    );
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
    json(404, { error: 'not found: try GET /messages?to=<E.164>' });
  }
}
