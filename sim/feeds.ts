/**
 * The simulator's records for load generators in other processes (GET /submits,
 * /receipts, /inbox): append-only, sequence-numbered, bounded, with the host's
 * monotonic clock so another process can compare times.
 */

/** How many submits, receipts and inbox messages the simulator keeps; older ones are dropped (a benchmark sends many). */
export const MAX_RECORDS = 100_000;

/** An append-only log with sequence numbers, bounded to MAX_RECORDS, for the HTTP feeds. */
export class FeedLog<T extends object> {
  private items: { seq: number; mono: number; item: T }[] = [];
  private seq = 0;
  push(item: T): void {
    this.items.push({ seq: ++this.seq, mono: monotonicMs(), item });
    if (this.items.length > MAX_RECORDS + MAX_RECORDS / 10) this.items.splice(0, this.items.length - MAX_RECORDS);
  }
  /** Items after sequence number `after` and at or after `since` (ms epoch), oldest first. */
  read(after: number, since: number, at: (item: T) => number, limit: number): (T & { seq: number; mono: number })[] {
    // Sequence numbers are dense, so the first wanted item is found by index.
    const first = this.items.length ? this.items[0].seq : this.seq + 1;
    const out: (T & { seq: number; mono: number })[] = [];
    for (let i = Math.max(0, after + 1 - first); i < this.items.length && out.length < limit; i++) {
      const { seq, mono, item } = this.items[i];
      if (at(item) >= since) out.push({ ...item, seq, mono });
    }
    return out;
  }
  clear(): void {
    this.items = [];
  }
}

/** CLOCK_MONOTONIC in ms: one clock for every process on the host, unlike performance.now(). */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint() / 1000n) / 1000;
}

/** Drops the oldest entries of an array kept for tests once it passes the bound. */
export function bound<T>(list: T[]): void {
  if (list.length > MAX_RECORDS + MAX_RECORDS / 10) list.splice(0, list.length - MAX_RECORDS);
}
