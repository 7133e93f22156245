/**
 * Runs the Net::SMPP SMSC (test/interop/netsmpp-smsc.pl, Debian's
 * libnet-smpp-perl) as a child process: every PDU it receives comes back as
 * an event, and commands make it send deliver_sm, enquire_link or unbind.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = join(__dirname, '..', '..');
/** Where scripts/install-smsc-interop.sh unpacks the .deb when it cannot run apt-get. */
const LOCAL_LIB = join(ROOT, '.tools', 'net-smpp', 'usr', 'share', 'perl5');

/** One line of the SMSC's stdout: the PDU it received (decoded by Net::SMPP) or the outcome of a command. */
export interface SmscEvent {
  event: string;
  conn?: number;
  seq?: number;
  status?: number;
  ref?: string;
  [field: string]: unknown;
}

export interface DeliverSmFields {
  source_addr: string;
  destination_addr: string;
  esm_class: number;
  data_coding?: number;
  /** Latin-1 text; Net::SMPP puts it in short_message as is. */
  short_message?: string;
  source_addr_ton?: number;
  source_addr_npi?: number;
  dest_addr_ton?: number;
  dest_addr_npi?: number;
}

export interface ReceiptTlvs {
  receipted_message_id?: string;
  message_state?: number;
  /** Leave the NUL off receipted_message_id, as some SMSCs do. */
  no_nul?: boolean;
}

export class NetSmppSmsc {
  readonly events: SmscEvent[] = [];
  port = 0;
  stderr = '';
  private child?: ChildProcessWithoutNullStreams;
  private refs = 0;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly auth: { systemId: string; password: string }) {}

  async start(): Promise<void> {
    const env = { ...process.env, PERL5LIB: [LOCAL_LIB, process.env.PERL5LIB].filter(Boolean).join(':') };
    const child = spawn('perl', [join(ROOT, 'test', 'interop', 'netsmpp-smsc.pl'), '--system-id', this.auth.systemId, '--password', this.auth.password], {
      env,
    });
    this.child = child;
    child.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    createInterface({ input: child.stdout }).on('line', (line) => {
      this.events.push(JSON.parse(line) as SmscEvent);
      for (const l of [...this.listeners]) l();
    });
    const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`Net::SMPP SMSC exited (${code}): ${this.stderr}`))));
    const listening = await Promise.race([this.waitFor((e) => e.event === 'listening', 'listening', 10_000), exited]);
    this.port = Number(listening.port);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.stdin.end(); // the glue exits when stdin closes
    const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
    await gone;
    clearTimeout(timer);
  }

  /** Resolves with the first event (seen or to come) that matches. */
  waitFor(match: (e: SmscEvent) => boolean, what: string, timeoutMs = 10_000): Promise<SmscEvent> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const hit = this.events.find(match);
        if (!hit) return false;
        this.listeners.delete(check);
        clearTimeout(timer);
        resolve(hit);
        return true;
      };
      const timer = setTimeout(() => {
        this.listeners.delete(check);
        reject(
          new Error(`Net::SMPP SMSC: no ${what} within ${timeoutMs} ms; events: ${JSON.stringify(this.events.slice(-8))}; stderr: ${this.stderr.slice(-500)}`),
        );
      }, timeoutMs);
      if (!check()) this.listeners.add(check);
    });
  }

  all(event: string): SmscEvent[] {
    return this.events.filter((e) => e.event === event);
  }

  /** Sends a command; resolves with the sequence number of the PDU the SMSC sent. */
  async command(op: 'deliver_sm' | 'enquire_link' | 'unbind', conn: number, extra: Record<string, unknown> = {}): Promise<number> {
    const ref = `r${++this.refs}`;
    this.child!.stdin.write(`${JSON.stringify({ op, conn, ref, ...extra })}\n`);
    const done = await this.waitFor((e) => e.ref === ref, `answer to ${op}`);
    if (done.event !== 'sent') throw new Error(`Net::SMPP SMSC refused ${op}: ${JSON.stringify(done)}`);
    return Number(done.seq);
  }

  async idFormat(format: 'hex' | 'decimal'): Promise<void> {
    const ref = `r${++this.refs}`;
    this.child!.stdin.write(`${JSON.stringify({ op: 'ids', format, ref })}\n`);
    await this.waitFor((e) => e.ref === ref, 'ids');
  }

  /** Sends a deliver_sm and waits for the ESME's deliver_sm_resp. */
  async deliver(conn: number, fields: DeliverSmFields, tlvs: ReceiptTlvs = {}): Promise<SmscEvent> {
    const seq = await this.command('deliver_sm', conn, { fields, tlvs });
    return this.waitFor((e) => e.event === 'deliver_sm_resp' && e.conn === conn && e.seq === seq, `deliver_sm_resp #${seq}`);
  }
}
