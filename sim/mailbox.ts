/**
 * The simulated mailbox: a real SMTP server on loopback that keeps every email
 * it accepts, for the email fallback channel (GET /mail?to= and the GET /mails feed serve them).
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { FeedLog, bound } from './feeds';

/** An email the simulated mailbox accepted. */
export interface MailMessage {
  from: string;
  to: string[];
  subject: string;
  text: string;
  receivedAt: string;
}

/** Undoes the transfer encodings nodemailer uses for a text/plain body. */
export function decodeBody(head: string, body: string): string {
  const enc = /^content-transfer-encoding: (.*)$/im.exec(head)?.[1]?.trim().toLowerCase();
  if (enc === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (enc === 'quoted-printable') {
    const bytes = body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
    return Buffer.from(bytes, 'latin1').toString('utf8');
  }
  return body.replace(/\r\n/g, '\n').trim();
}

export class Mailbox {
  /** Emails received over SMTP, oldest first (the last MAX_RECORDS). */
  readonly mails: MailMessage[] = [];
  /** Every email accepted, for GET /mails (a load generator in another process). */
  readonly feed = new FeedLog<MailMessage>();
  private server?: SMTPServer;

  constructor(private readonly log: (msg: string) => void) {}

  async listen(port: number, host: string): Promise<void> {
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          const [head, ...body] = raw.split(/\r?\n\r?\n/);
          const subject = /^subject: (.*)$/im.exec(head)?.[1]?.trim() ?? '';
          const mail: MailMessage = {
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
            subject,
            text: decodeBody(head, body.join('\n\n')),
            receivedAt: new Date().toISOString(),
          };
          this.mails.push(mail);
          bound(this.mails);
          this.feed.push(mail);
          callback();
        });
      },
    });
    this.server.on('error', (err: Error) => this.log(`smtp error: ${err.message}`));
    await new Promise<void>((resolve, reject) => {
      this.server!.server.once('error', reject);
      this.server!.listen(port, host, () => resolve());
    });
  }

  get port(): number | null {
    return this.server ? ((this.server.server.address() as AddressInfo | null)?.port ?? null) : null;
  }

  /** The emails one address received, oldest first. */
  to(address: string): MailMessage[] {
    return this.mails.filter((m) => m.to.includes(address.toLowerCase()));
  }

  close(): Promise<void> {
    return new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
