/**
 * An SMSC connection: one or more binds owned by the worker process.
 * Activities borrow a bound bind to submit; receipts from any bind go to one handler.
 */
import { randomInt } from 'node:crypto';
import { SmppBind, type BindLogger, type BindState, type ReceiptHandler, type SmppBindOptions } from './bind';
import { concatUdh, encodeText, type SmsEncoding } from './encoding';
import { SmppTransientError } from './errors';

export interface SmscOptions extends Omit<SmppBindOptions, 'name'> {
  /** Route name; part of receipt mailbox ids. Default 'smsc'. */
  name?: string;
  /** Binds to open. Default 1. */
  binds?: number;
  /** Sender id: alphanumeric (≤ 11 chars), a short code, or +E.164. */
  senderId: string;
  /** How long a submit waits for a bind to come up. Default 3000 ms. */
  bindWaitMs?: number;
  logger?: BindLogger;
}

export interface SubmittedMessage {
  messageIds: string[];
  segments: number;
  encoding: SmsEncoding;
}

/** TON/NPI for a sender id: alphanumeric 5/0, short code 3/0, international 1/1. */
export function senderAddress(senderId: string): { addr: string; ton: number; npi: number } {
  if (/^\+\d{6,15}$/.test(senderId)) return { addr: senderId.slice(1), ton: 1, npi: 1 };
  if (/^\d{3,8}$/.test(senderId)) return { addr: senderId, ton: 3, npi: 0 };
  return { addr: senderId, ton: 5, npi: 0 };
}

/** SMPP relative validity period, e.g. 300 s -> "000000000500000R". */
export function relativeValidity(seconds: number): string {
  let s = Math.max(Math.floor(seconds), 60);
  const dd = Math.floor(s / 86400);
  s -= dd * 86400;
  const hh = Math.floor(s / 3600);
  s -= hh * 3600;
  const mm = Math.floor(s / 60);
  s -= mm * 60;
  const p = (n: number) => String(n).padStart(2, '0');
  return `0000${p(dd)}${p(hh)}${p(mm)}${p(s)}000R`;
}

export class SmscClient {
  readonly name: string;
  readonly binds: SmppBind[];
  private next = 0;
  private readonly sender: { addr: string; ton: number; npi: number };
  private readonly bindWaitMs: number;

  constructor(options: SmscOptions) {
    this.name = options.name ?? 'smsc';
    this.sender = senderAddress(options.senderId);
    this.bindWaitMs = options.bindWaitMs ?? 3000;
    const count = options.binds ?? 1;
    this.binds = Array.from({ length: count }, (_, i) => new SmppBind({ ...options, name: `${this.name}#${i + 1}` }));
  }

  start(): void {
    for (const b of this.binds) b.start();
  }

  onReceipt(handler: ReceiptHandler): void {
    for (const b of this.binds) b.onReceipt(handler);
  }

  /** Resolves when at least one bind is up. */
  async ready(timeoutMs = this.bindWaitMs): Promise<void> {
    if (this.binds.some((b) => b.state === 'bound')) return;
    await Promise.any(this.binds.map((b) => b.ready(timeoutMs))).catch(() => {
      throw new SmppTransientError(`no bind to SMSC "${this.name}" came up within ${timeoutMs} ms`);
    });
  }

  bindStates(): Record<string, BindState> {
    return Object.fromEntries(this.binds.map((b) => [b.name, b.state]));
  }

  private async pickBind(): Promise<SmppBind> {
    await this.ready();
    for (let i = 0; i < this.binds.length; i++) {
      const b = this.binds[(this.next + i) % this.binds.length];
      if (b.state === 'bound') {
        this.next = (this.next + i + 1) % this.binds.length;
        return b;
      }
    }
    throw new SmppTransientError(`no bound bind to SMSC "${this.name}"`);
  }

  /** Submits a text to an E.164 number, concatenated with UDH when it needs several segments. */
  async submitText(destinationE164: string, text: string, validitySeconds: number, senderId?: string): Promise<SubmittedMessage> {
    const encoded = encodeText(text);
    const sender = senderId ? senderAddress(senderId) : this.sender;
    const bind = await this.pickBind();
    const ref = randomInt(0, 256);
    const total = encoded.segments.length;
    const messageIds: string[] = [];
    for (let i = 0; i < total; i++) {
      const multipart = total > 1;
      messageIds.push(
        await bind.submit({
          source_addr: sender.addr,
          source_addr_ton: sender.ton,
          source_addr_npi: sender.npi,
          destination_addr: destinationE164.replace(/^\+/, ''),
          dest_addr_ton: 1,
          dest_addr_npi: 1,
          data_coding: encoded.dataCoding,
          registered_delivery: 1,
          validity_period: relativeValidity(validitySeconds),
          esm_class: multipart ? 0x40 : 0,
          short_message: multipart ? { message: encoded.segments[i], udh: concatUdh(ref, total, i + 1) } : { message: encoded.segments[i] },
        }),
      );
    }
    return { messageIds, segments: total, encoding: encoded.encoding };
  }

  async close(): Promise<void> {
    await Promise.all(this.binds.map((b) => b.close()));
  }
}
