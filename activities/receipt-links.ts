/**
 * Receipt correlation without a workflow per SMS on the common path.
 *
 * The submitting worker remembers which session each message id belongs to.
 * A receipt that reaches that worker is signalled straight to the session.
 * Everything else goes through the durable per-message mailbox
 * (workflows/receipt-mailbox.ts), which only exists for the rare message:
 *   - a receipt the worker does not know (another worker's bind, or after a
 *     restart) is filed in its mailbox before it is acknowledged;
 *   - a message whose final receipt has not come back here within
 *     `linkAfterMs` is linked to its session in its mailbox, and so is every
 *     open message when the worker shuts down;
 *   - before a staggered retry the session claims its unanswered messages
 *     (claim()), which also covers a worker that crashed before linking.
 */
import type { Client } from '@temporalio/client';
import {
  RECEIPT_MAILBOX_WORKFLOW,
  deliveryReceiptSignal,
  mailboxReceiptSignal,
  mailboxReceiptsQuery,
  mailboxSubmittedSignal,
  receiptMailboxId,
  type DeliveryReceipt,
  type MailboxSubmitted,
} from '../contract';

export interface ReceiptLinksOptions {
  client: Client;
  taskQueue: string;
  /** Link a message in its mailbox when no final receipt came back here in this long. @default 3000 */
  linkAfterMs?: number;
  /** How long a receipt for an unknown id waits for its submit to finish here (it can beat submit_sm_resp). @default 1000 */
  holdMs?: number;
  /** Links and receipts kept in memory, at most. @default 100000 */
  maxEntries?: number;
  /** Forget a message this long after its submit. @default 2 h */
  ttlMs?: number;
}

export const DEFAULT_RECEIPT_LINK_AFTER_MS = 3000;
export const DEFAULT_RECEIPT_HOLD_MS = 1000;

interface Entry {
  link: MailboxSubmitted;
  at: number;
  /** Linked in its mailbox: receipts must go through the mailbox from now on. */
  durable: boolean;
  /** A link to its mailbox is on its way. */
  linking?: boolean;
  final: boolean;
}

/** Route plus canonical message id (the mailbox id without its prefix). */
export type MessageKey = { route: string; key: string };

const keyOf = (m: MessageKey) => `${m.route}\u0000${m.key}`;

export class ReceiptLinks {
  private readonly entries = new Map<string, Entry>();
  /** Receipts seen by this process, for claim() before a retry. */
  private readonly receipts = new Map<string, { at: number; receipt: DeliveryReceipt }>();
  private readonly waiting = new Map<string, (() => void)[]>();
  private timer?: NodeJS.Timeout;
  private linkingRun?: Promise<void>;
  /** Submits under way in this process: only then can an unknown receipt be one of ours that beat its response. */
  private submitting = 0;
  private readonly linkAfterMs: number;
  private readonly holdMs: number;
  private readonly maxEntries: number;
  private readonly ttlMs: number;
  /** Counters for GET /status and the benchmark. */
  readonly stats = { direct: 0, viaMailbox: 0, linked: 0, claimed: 0, linkFailures: 0 };
  /** The last reason a link failed (GET /status). */
  lastLinkError?: string;

  constructor(private readonly opts: ReceiptLinksOptions) {
    this.linkAfterMs = opts.linkAfterMs ?? DEFAULT_RECEIPT_LINK_AFTER_MS;
    this.holdMs = opts.holdMs ?? DEFAULT_RECEIPT_HOLD_MS;
    this.maxEntries = opts.maxEntries ?? 100_000;
    this.ttlMs = opts.ttlMs ?? 2 * 60 * 60 * 1000;
  }

  start(): void {
    this.timer ??= setInterval(() => void this.linkOverdue(Date.now() - this.linkAfterMs), Math.max(100, Math.min(this.linkAfterMs, 1000)));
    this.timer.unref();
  }

  /**
   * Marks a submit under way until the returned function is called (after its
   * ids are registered): receipts for unknown ids wait for it, and only then.
   */
  beginSubmit(): () => void {
    this.submitting++;
    let done = false;
    return () => {
      if (!done) this.submitting--;
      done = true;
    };
  }

  /** Called by the submitting activity once the SMSC gave the id. */
  async register(m: MessageKey, link: MailboxSubmitted): Promise<void> {
    const k = keyOf(m);
    const entry: Entry = { link, at: Date.now(), durable: false, final: false };
    this.entries.set(k, entry);
    this.evict();
    for (const wake of this.waiting.get(k) ?? []) wake();
    this.waiting.delete(k);
    if (this.linkAfterMs <= 0) await this.makeDurable(m, entry);
  }

  /** Routes one receipt; resolves once it is durable (then the deliver_sm may be acknowledged). */
  async route(m: MessageKey, receipt: DeliveryReceipt): Promise<void> {
    const k = keyOf(m);
    this.receipts.set(k, { at: Date.now(), receipt });
    let entry = this.entries.get(k);
    if (!entry && this.submitting > 0) entry = await this.hold(k);
    if (entry && !entry.durable) {
      try {
        await this.opts.client.workflow
          .getHandle(entry.link.sessionWorkflowId)
          .signal(deliveryReceiptSignal, { ...receipt, messageId: entry.link.messageId, codeSeq: entry.link.codeSeq });
        this.stats.direct++;
      } catch (err) {
        // A finished session has nothing to update; anything else must be retried by the SMSC.
        if (!/not found|already completed/i.test((err as Error).message)) throw err;
      }
      if (receipt.outcome !== 'pending') entry.final = true;
      return;
    }
    await this.toMailbox(m, receipt);
  }

  private hold(k: string): Promise<Entry | undefined> {
    if (this.holdMs <= 0) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        resolve(this.entries.get(k));
      };
      const timer = setTimeout(() => {
        const list = this.waiting.get(k) ?? [];
        list.splice(list.indexOf(wake), 1);
        if (!list.length) this.waiting.delete(k);
        resolve(this.entries.get(k));
      }, this.holdMs);
      this.waiting.set(k, [...(this.waiting.get(k) ?? []), wake]);
    });
  }

  private async toMailbox(m: MessageKey, receipt: DeliveryReceipt): Promise<void> {
    await this.opts.client.workflow.signalWithStart(RECEIPT_MAILBOX_WORKFLOW, {
      workflowId: receiptMailboxId(m.route, m.key),
      taskQueue: this.opts.taskQueue,
      signal: mailboxReceiptSignal,
      signalArgs: [receipt],
    });
    this.stats.viaMailbox++;
  }

  private async makeDurable(m: MessageKey, entry: Entry): Promise<void> {
    entry.linking = true;
    try {
      await this.opts.client.workflow.signalWithStart(RECEIPT_MAILBOX_WORKFLOW, {
        workflowId: receiptMailboxId(m.route, m.key),
        taskQueue: this.opts.taskQueue,
        signal: mailboxSubmittedSignal,
        signalArgs: [entry.link],
      });
      entry.durable = true;
      this.stats.linked++;
    } finally {
      entry.linking = false;
    }
  }

  /** Links every open message submitted before `before` in its mailbox; one run at a time, a few links at once. */
  linkOverdue(before = Infinity): Promise<void> {
    this.linkingRun ??= this.linkBatch(before).finally(() => (this.linkingRun = undefined));
    return this.linkingRun;
  }

  private async linkBatch(before: number): Promise<void> {
    const due = [...this.entries.entries()].filter(([, e]) => !e.durable && !e.linking && !e.final && e.at <= before);
    for (let i = 0; i < due.length; i += 32) {
      await Promise.all(
        due.slice(i, i + 32).map(async ([k, e]) => {
          const [route, key] = k.split('\u0000');
          await this.makeDurable({ route, key }, e).catch((err: unknown) => {
            this.stats.linkFailures++;
            this.lastLinkError = err instanceof Error ? err.message : String(err);
          });
        }),
      );
    }
    this.evict();
  }

  /**
   * Before a staggered retry: the final receipts known for these messages,
   * here or in their mailboxes. Unknown ones are linked in their mailbox, so
   * a receipt that comes later still reaches the session.
   */
  async claim(messages: (MessageKey & { link: MailboxSubmitted })[]): Promise<(DeliveryReceipt & { messageId: string })[]> {
    const found: (DeliveryReceipt & { messageId: string })[] = [];
    await Promise.all(
      messages.map(async (m) => {
        const local = this.receipts.get(keyOf(m));
        if (local && local.receipt.outcome !== 'pending') {
          found.push({ ...local.receipt, messageId: m.link.messageId });
          return;
        }
        const entry = this.entries.get(keyOf(m)) ?? { link: m.link, at: Date.now(), durable: false, final: false };
        if (!entry.durable) await this.makeDurable(m, entry);
        this.stats.claimed++;
        try {
          const handle = this.opts.client.workflow.getHandle(receiptMailboxId(m.route, m.key));
          const held = await this.opts.client.withDeadline(Date.now() + 2000, () => handle.query(mailboxReceiptsQuery));
          const last = [...held].reverse().find((r) => r.outcome !== 'pending');
          if (last) found.push({ ...last, messageId: m.link.messageId });
        } catch {
          // The mailbox just started and has not run yet: it forwards what it gets.
        }
      }),
    );
    return found;
  }

  /** Oldest first; a message not yet linked durably is kept (its receipt would have nowhere to go). */
  private evict(): void {
    const now = Date.now();
    for (const [k, v] of this.entries) {
      if (v.at > now - this.ttlMs && this.entries.size <= this.maxEntries) break;
      if (v.durable || v.final) this.entries.delete(k);
    }
    for (const [k, v] of this.receipts) {
      if (v.at > now - this.ttlMs && this.receipts.size <= this.maxEntries) break;
      this.receipts.delete(k);
    }
  }

  /** Links what is still open, so receipts after this worker is gone reach their sessions. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.linkingRun;
    await this.linkOverdue();
    const open = [...this.entries.values()].filter((e) => !e.durable && !e.final).length;
    if (open)
      console.warn(
        `[receipts] ${open} message(s) could not be linked before shutdown: ${this.lastLinkError ?? 'unknown error'}; their sessions will claim them before a retry`,
      );
  }

  get size(): number {
    return this.entries.size;
  }
}
