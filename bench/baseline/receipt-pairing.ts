/**
 * The least-durable login's receipt path: the submitting activity tells the
 * worker which workflow a message id belongs to, and the receipt for that id
 * is signalled straight to it. Memory only: no mailbox, nothing durable, so a
 * receipt that reaches another process or outlives this one is lost (the
 * product files those in a mailbox workflow; the floor does not pay for it).
 */
import type { LoginReceipt } from './contract';

/** Signals one receipt to a workflow; rejects when it could not. */
export type SignalReceipt = (workflowId: string, receipt: LoginReceipt) => Promise<void>;

export interface ReceiptPairingOptions {
  /** How long a receipt for an unknown id waits for its submit to register (it can beat submit_sm_resp). @default 1000 */
  holdMs?: number;
  /** Links kept at most; the oldest go first. @default 100000 */
  maxLinks?: number;
  warn?: (msg: string) => void;
}

/** Route name and canonical message id, as SmscRoute.submitKey and receiptKey give it. */
export type MessageKey = string;

export const messageKey = (route: string, canonicalId: string): MessageKey => `${route}\u0000${canonicalId}`;

export class LoginReceiptPairing {
  /** The workflow each message belongs to, and the id its submit returned (the receipt may spell it differently). */
  private readonly links = new Map<MessageKey, { workflowId: string; messageId: string }>();
  /** Receipts for ids nobody registered yet, oldest first: least-durable sends' receipts, or one that beat its submit's answer. */
  private readonly early = new Map<MessageKey, { at: number; receipt: LoginReceipt }>();
  private readonly holdMs: number;
  private readonly maxLinks: number;
  readonly stats = { signalled: 0, unpaired: 0, gone: 0 };

  constructor(
    private readonly signal: SignalReceipt,
    private readonly opts: ReceiptPairingOptions = {},
  ) {
    this.holdMs = opts.holdMs ?? 1000;
    this.maxLinks = opts.maxLinks ?? 100_000;
  }

  /** Called by the submitting activity once the SMSC gave the id; never fails the submit (that would resend the SMS). */
  register(key: MessageKey, workflowId: string, messageId: string): void {
    const link = { workflowId, messageId };
    const held = this.early.get(key);
    if (held) {
      this.early.delete(key);
      void this.deliver(key, link, held.receipt).catch((err: unknown) =>
        this.opts.warn?.(`receipt held for a late submit not signalled: ${err instanceof Error ? err.message : String(err)}`),
      );
      if (held.receipt.final) return;
    }
    this.links.set(key, link);
    while (this.links.size > this.maxLinks) this.links.delete(this.links.keys().next().value!);
  }

  /** One receipt from the SMSC; resolves once it is signalled (then the deliver_sm is acknowledged), rejects to have the SMSC send it again. */
  async route(key: MessageKey, receipt: LoginReceipt): Promise<void> {
    const link = this.links.get(key);
    if (link) return this.deliver(key, link, receipt);
    this.forgetOldHeld();
    this.early.set(key, { at: Date.now(), receipt });
  }

  /** Links waiting for a final receipt, and receipts waiting for their submit. */
  get size(): { links: number; held: number } {
    return { links: this.links.size, held: this.early.size };
  }

  private async deliver(key: MessageKey, link: { workflowId: string; messageId: string }, receipt: LoginReceipt): Promise<void> {
    try {
      await this.signal(link.workflowId, { ...receipt, messageId: link.messageId });
      this.stats.signalled++;
    } catch (err) {
      // A login that already ended has nothing to update; anything else is answered with an error so the SMSC retries.
      if (!/not found|already completed/i.test(err instanceof Error ? err.message : String(err))) throw err;
      this.stats.gone++;
    }
    if (receipt.final) this.links.delete(key);
  }

  private forgetOldHeld(): void {
    const before = Date.now() - this.holdMs;
    for (const [k, v] of this.early) {
      if (v.at > before) break;
      this.early.delete(k);
      this.stats.unpaired++;
    }
  }
}
