/**
 * The simulator's HTTP API: the phone inbox, the mailbox, scripting (behaviours,
 * faults, the carrier mix) and the feeds a load generator in another process
 * follows.
 *
 *   GET    /messages?to=+33612345678   what that handset received (JSON)
 *   GET    /withheld?to=+33612345678   messages the SMSC accepted for it that it never got: {to, messageId, behaviour, at}
 *   DELETE /messages                   empty every inbox
 *   PUT    /behaviours?to=+33…&mode=…  script a destination (mode: see Behaviour)
 *   GET    /mail?to=user@example.com   emails the mailbox received over SMTP (JSON)
 *   GET    /health                     {"ok":true,"sessions":n}
 *   POST   /faults                     an SMSC-wide fault for a time window (JSON SimFaultRequest, sim/faults.ts)
 *   GET    /faults, DELETE /faults     the faults in force; end them all
 *   PUT    /carrier-mix                body: a mix such as undeliv=0.10,silent=0.05,delay=1-3s (sim/carrier-mix.ts)
 *   GET    /carrier-mix                {mix: string|null, drawn: {deliver, undeliverable, silent}}
 *   DELETE /carrier-mix                back to the default behaviour
 *
 * Feeds: each item carries a sequence number; pass the last one seen as
 * ?after= to get only newer items, or ?since=<ms epoch> to filter by time. At
 * most ?limit= items (default 10000). `at` is wall-clock ms; `mono` is the
 * host's monotonic clock in ms (Node's process.hrtime), sub-millisecond and
 * comparable between processes on one host.
 *   GET    /submits                    every submit_sm: {seq, to, at, mono, id?, status, session, behaviour?}
 *   GET    /receipts                   every receipt sent: {seq, submitId, to, at, mono, session, status?}
 *   GET    /inbox                      every SMS handed to a handset: {seq, to, text, at, mono, messageIds}
 *   GET    /mails                      every email the mailbox accepted: {seq, to, subject, text, at, mono}
 * The records kept in memory are bounded (MAX_RECORDS each); DELETE /messages clears them.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BEHAVIOURS, type Behaviour } from './behaviours';
import { formatCarrierMix, parseCarrierMix, type CarrierMix, type CarrierOutcome } from './carrier-mix';
import { parseFaultRequest, type SimFaultRequest, type SimFaults } from './faults';
import type { FeedLog } from './feeds';
import type { InboxMessage, WithheldMessage } from './handsets';
import type { MailMessage } from './mailbox';
import type { ReceiptRecord, SubmitRecord } from './smpp-server';

/** What the routes read and change: the simulator (sim/smsc-simulator.ts). */
export interface SimHttpTarget {
  messages(to: string): InboxMessage[];
  withheld(to: string): WithheldMessage[];
  mailTo(address: string): MailMessage[];
  clear(): void;
  setBehaviour(to: string, behaviour: Behaviour): void;
  readonly sessionCount: number;
  readonly faults: SimFaults;
  applyFault(f: SimFaultRequest): void;
  readonly opts: { carrierMix: CarrierMix | null };
  setCarrierMix(mix: CarrierMix | null): void;
  readonly carrierDraws: Record<CarrierOutcome, number>;
  readonly feeds: { submits: FeedLog<SubmitRecord>; receipts: FeedLog<ReceiptRecord>; inbox: FeedLog<InboxMessage>; mails: FeedLog<MailMessage> };
}

const FEEDS = ['/submits', '/receipts', '/inbox', '/mails'];

/** Reads a small request body as text. */
function bodyOf(req: IncomingMessage, then: (text: string) => void): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => then(Buffer.concat(chunks).toString('utf8')));
}

export function simHttpHandler(sim: SimHttpTarget): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://sim');
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const phone = () => {
      const to = url.searchParams.get('to');
      return to ? (to.startsWith('+') ? to : `+${to.trim()}`) : null;
    };
    if (req.method === 'GET' && (url.pathname === '/messages' || url.pathname === '/withheld')) {
      const to = phone();
      if (!to) return json(400, { error: 'query parameter "to" (E.164, e.g. +33612345678) is required' });
      return json(200, url.pathname === '/messages' ? sim.messages(to) : sim.withheld(to));
    }
    if (req.method === 'GET' && url.pathname === '/mail') {
      const to = url.searchParams.get('to');
      if (!to) return json(400, { error: 'query parameter "to" (an email address) is required' });
      return json(200, sim.mailTo(to));
    }
    if (req.method === 'DELETE' && url.pathname === '/messages') {
      sim.clear();
      return json(200, { ok: true });
    }
    if (req.method === 'PUT' && url.pathname === '/behaviours') {
      const to = url.searchParams.get('to');
      const mode = url.searchParams.get('mode') as Behaviour | null;
      if (!to || !mode || !(BEHAVIOURS as readonly string[]).includes(mode)) return json(400, { error: `need ?to=<E.164>&mode=<${BEHAVIOURS.join('|')}>` });
      sim.setBehaviour(to, mode);
      return json(200, { to, mode });
    }
    if (req.method === 'GET' && url.pathname === '/health') return json(200, { ok: true, sessions: sim.sessionCount });
    if (url.pathname === '/faults') {
      if (req.method === 'GET') return json(200, sim.faults.state());
      if (req.method === 'DELETE') {
        sim.faults.clear();
        return json(200, { ok: true });
      }
      if (req.method === 'POST') {
        return bodyOf(req, (text) => {
          let f: SimFaultRequest;
          try {
            f = parseFaultRequest(JSON.parse(text || 'null'));
          } catch (err) {
            return json(400, { error: err instanceof Error ? err.message : String(err) });
          }
          sim.applyFault(f);
          json(200, { ok: true, ...f, sessions: sim.sessionCount });
        });
      }
    }
    if (url.pathname === '/carrier-mix') {
      const state = () => ({ mix: sim.opts.carrierMix ? formatCarrierMix(sim.opts.carrierMix) : null, drawn: sim.carrierDraws });
      if (req.method === 'GET') return json(200, state());
      if (req.method === 'DELETE') {
        sim.setCarrierMix(null);
        return json(200, state());
      }
      if (req.method === 'PUT') {
        return bodyOf(req, (text) => {
          let mix: CarrierMix;
          try {
            mix = parseCarrierMix(text);
          } catch (err) {
            return json(400, { error: err instanceof Error ? err.message : String(err) });
          }
          sim.setCarrierMix(mix);
          json(200, state());
        });
      }
    }
    if (req.method === 'GET' && FEEDS.includes(url.pathname)) {
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
          sim.feeds.submits.read(after, since, (r) => r.at, limit),
        );
      if (url.pathname === '/receipts')
        return json(
          200,
          sim.feeds.receipts.read(after, since, (r) => r.at, limit),
        );
      if (url.pathname === '/mails')
        return json(
          200,
          sim.feeds.mails
            .read(after, since, (m) => Date.parse(m.receivedAt), limit)
            .map((m) => ({ seq: m.seq, to: m.to, subject: m.subject, text: m.text, at: Date.parse(m.receivedAt), mono: m.mono })),
        );
      return json(
        200,
        sim.feeds.inbox
          .read(after, since, (m) => Date.parse(m.receivedAt), limit)
          .map((m) => ({ seq: m.seq, to: m.to, text: m.text, at: Date.parse(m.receivedAt), mono: m.mono, messageIds: m.messageIds })),
      );
    }
    json(404, { error: 'not found: try GET /messages?to=<E.164>' });
  };
}
