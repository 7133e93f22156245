/**
 * SMSC simulator: a real SMPP 3.4 server on loopback plus a "phone inbox" over
 * HTTP. It stands in for the carrier, the one part we cannot run here. This
 * file puts the parts together and starts them: the SMPP server
 * (sim/smpp-server.ts), the handsets (sim/handsets.ts), the mailbox
 * (sim/mailbox.ts) and the HTTP API (sim/http-api.ts, which lists the routes).
 */
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HandsetInbox, type InboxMessage, type WithheldMessage } from './handsets';
import { simHttpHandler } from './http-api';
import { Mailbox, type MailMessage } from './mailbox';
import { resolveOptions, type SimulatorOptions } from './options';
import { SimSmppServer } from './smpp-server';

export { BEHAVIOURS, type Behaviour } from './behaviours';
export { MAX_RECORDS } from './feeds';
export type { MailMessage } from './mailbox';
export type { InboxMessage, WithheldMessage } from './handsets';
export type { IdFormat, SimulatorOptions } from './options';
export type { ReceiptRecord, SubmitRecord } from './smpp-server';

export class SmscSimulator extends SimSmppServer {
  private httpServer?: HttpServer;
  private readonly mailbox = new Mailbox((m) => this.log(m));

  constructor(options: SimulatorOptions = {}) {
    super(resolveOptions(options), new HandsetInbox());
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

  /** What the handset received, oldest first. */
  messages(to: string): InboxMessage[] {
    return this.handsets.messages(to);
  }

  /** Messages the SMSC accepted for this handset that never reached it (undeliverable, silent, …). */
  withheld(to: string): WithheldMessage[] {
    return this.handsets.withheld(to);
  }

  /** Long messages a handset holds only part of (segments waiting for the rest under their reference). */
  incompleteConcats(to: string): number {
    return this.handsets.incompleteConcats(to);
  }

  /** Empties every inbox and the submit and receipt records. */
  clear(): void {
    this.handsets.clear();
    this.clearRecords();
  }

  /** The HTTP feeds' records. */
  get feeds() {
    return { submits: this.submitFeed, receipts: this.receiptFeed, inbox: this.handsets.feed, mails: this.mailbox.feed };
  }

  async start(): Promise<void> {
    await this.listenSmpp();
    this.httpServer = createHttpServer(simHttpHandler(this));
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
    await Promise.all([
      this.mailbox.close(),
      this.closeSmpp(),
      new Promise<void>((r) => {
        if (!this.httpServer) return r();
        this.httpServer.closeAllConnections();
        this.httpServer.close(() => r());
      }),
    ]);
  }
}
