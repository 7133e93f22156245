/**
 * Follows the simulator's HTTP feeds (GET /submits, /receipts, /inbox with
 * ?after=<seq>) from the load generator's process and indexes what arrived.
 * Times are the simulator's own wall clock (same host as the generator), and
 * for submits also the host's monotonic clock, which both processes share.
 */
import { sleep } from './stats';

export interface SubmitItem {
  seq: number;
  to: string;
  at: number;
  /** Host monotonic clock, ms (see monotonicMs). */
  mono: number;
  id?: string;
  status: number;
}

export interface ReceiptItem {
  seq: number;
  submitId: string;
  to: string;
  at: number;
  status?: number;
}

export interface InboxItem {
  seq: number;
  to: string;
  text: string;
  at: number;
  messageIds: string[];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

function asSubmit(v: unknown): SubmitItem | null {
  if (
    !isObject(v) ||
    typeof v.seq !== 'number' ||
    typeof v.to !== 'string' ||
    typeof v.at !== 'number' ||
    typeof v.mono !== 'number' ||
    typeof v.status !== 'number'
  )
    return null;
  return { seq: v.seq, to: v.to, at: v.at, mono: v.mono, status: v.status, id: typeof v.id === 'string' ? v.id : undefined };
}
function asReceipt(v: unknown): ReceiptItem | null {
  if (!isObject(v) || typeof v.seq !== 'number' || typeof v.submitId !== 'string' || typeof v.to !== 'string' || typeof v.at !== 'number') return null;
  return { seq: v.seq, submitId: v.submitId, to: v.to, at: v.at, status: typeof v.status === 'number' ? v.status : undefined };
}
function asInbox(v: unknown): InboxItem | null {
  if (
    !isObject(v) ||
    typeof v.seq !== 'number' ||
    typeof v.to !== 'string' ||
    typeof v.text !== 'string' ||
    typeof v.at !== 'number' ||
    !Array.isArray(v.messageIds)
  )
    return null;
  return { seq: v.seq, to: v.to, text: v.text, at: v.at, messageIds: v.messageIds.filter((x): x is string => typeof x === 'string') };
}

export class SimFeed {
  readonly submitsByPhone = new Map<string, SubmitItem[]>();
  readonly submitsById = new Map<string, SubmitItem>();
  readonly receiptsById = new Map<string, ReceiptItem[]>();
  readonly receiptsByPhone = new Map<string, ReceiptItem[]>();
  readonly inboxByPhone = new Map<string, InboxItem[]>();
  /** Called for every SMS handed to a handset, in arrival order. */
  onInbox?: (m: InboxItem) => void;
  /** Items the simulator dropped before we read them (its records are bounded). */
  gaps = 0;
  private cursors = { submits: 0, receipts: 0, inbox: 0 };
  private running = false;
  private loop?: Promise<void>;

  constructor(private readonly baseUrl: string) {}

  start(periodMs = 50): void {
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        const t = performance.now();
        try {
          await this.poll();
        } catch (err) {
          // The simulator may be busy; the next poll catches up from the same cursor.
          if (this.running) console.error(`[bench] simulator feed: ${(err as Error).message}`);
        }
        await sleep(periodMs - (performance.now() - t));
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /** One round of reads; also used to catch up before figures are computed. */
  async poll(): Promise<void> {
    await Promise.all([
      this.read('submits', asSubmit, (s) => this.addSubmit(s)),
      this.read('receipts', asReceipt, (r) => this.addReceipt(r)),
      this.read('inbox', asInbox, (m) => this.addInbox(m)),
    ]);
  }

  private async read<T extends { seq: number }>(
    feed: 'submits' | 'receipts' | 'inbox',
    parse: (v: unknown) => T | null,
    add: (item: T) => void,
  ): Promise<void> {
    for (;;) {
      const res = await fetch(`${this.baseUrl}/${feed}?after=${this.cursors[feed]}&limit=5000`);
      if (!res.ok) throw new Error(`GET /${feed}: HTTP ${res.status}`);
      const body: unknown = await res.json();
      if (!Array.isArray(body)) throw new Error(`GET /${feed}: not a JSON array`);
      let n = 0;
      for (const raw of body) {
        const item = parse(raw);
        if (!item || item.seq <= this.cursors[feed]) continue;
        if (item.seq > this.cursors[feed] + 1) this.gaps += item.seq - this.cursors[feed] - 1;
        this.cursors[feed] = item.seq;
        add(item);
        n++;
      }
      if (n < 5000) return;
    }
  }

  private addSubmit(s: SubmitItem): void {
    push(this.submitsByPhone, s.to, s);
    if (s.id) this.submitsById.set(s.id.toLowerCase(), s);
  }
  private addReceipt(r: ReceiptItem): void {
    push(this.receiptsById, r.submitId.toLowerCase(), r);
    push(this.receiptsByPhone, r.to, r);
  }
  private addInbox(m: InboxItem): void {
    push(this.inboxByPhone, m.to, m);
    this.onInbox?.(m);
  }

  /** submit_sm the SMSC accepted for this number (status 0), oldest first. */
  accepted(phone: string): SubmitItem[] {
    return (this.submitsByPhone.get(phone) ?? []).filter((s) => s.status === 0);
  }
}

/** CLOCK_MONOTONIC in ms, as the simulator stamps `mono`: the same clock in every process of the host. */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint() / 1000n) / 1000;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
