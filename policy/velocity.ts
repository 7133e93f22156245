/**
 * Tenant rate and anti-pumping velocity, decided by each worker from a cache,
 * with counts aggregated asynchronously by sharded workflows (DESIGN.md
 * decision 8: no workflow that every send must wait for).
 *
 * Pure: the shard workflow and the worker's gate share these rules.
 *
 * Accuracy bound. Every worker reports its sends and refreshes its snapshot
 * (exact counts of the keys it uses) once per sync period. Between two syncs
 * a worker admits at most b = maxBatch(N, W) = max(1, ⌈N / 2W⌉) sends per key
 * and never more than its share of the room left, so with W workers a limit
 * of N per window admits at most N + W·b, whatever the order of reports and
 * refreshes. When every worker has seen the others' last reports it admits at
 * most N + W − 1. A worker that no other worker has reported beside decides
 * from its own counts, exactly; a new worker does so until its first snapshot
 * (at most FIRST_SNAPSHOT_GRACE_MS), the only time the bound can be exceeded.
 * A shard that stays unreachable makes the gate fail closed.
 */
import type { QuotaRequest, QuotaResult, VelocityCount, VelocityReport, VelocitySnapshot } from '../contract';

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
/** Buckets per window: a sliding window is exact to 1/12 of its length. */
export const BUCKETS_PER_WINDOW = 12;
/** Workers that reported within this long count towards W. */
export const WORKER_SEEN_MS = HOUR_MS;
/** How long a new worker decides from its own counts before the shard's first snapshot. */
export const FIRST_SNAPSHOT_GRACE_MS = 5_000;

/** One limit a send must pass. */
export interface VelocityCheck {
  key: string;
  spanMs: number;
  limit: number;
  status: 'rate_limited' | 'blocked';
  reason: string;
  /** Shadow mode reports these and blocks nothing (the tenant rate is never shadowed). */
  shadow: boolean;
}

/** The limits of one send, from its profile. */
export function velocityChecks(req: QuotaRequest): VelocityCheck[] {
  const checks: VelocityCheck[] = [];
  if (req.tenantSendsPerMinute > 0)
    checks.push({ key: 'tenant', spanMs: MINUTE_MS, limit: req.tenantSendsPerMinute, status: 'rate_limited', reason: 'tenant_rate', shadow: false });
  if (req.perCountryPerHour !== null)
    checks.push({
      key: `c:${req.country}`,
      spanMs: HOUR_MS,
      limit: req.perCountryPerHour,
      status: 'blocked',
      reason: `velocity_country:${req.country}`,
      shadow: req.shadow,
    });
  if (req.perPrefixPerHour !== null)
    checks.push({
      key: `p:${req.prefix}`,
      spanMs: HOUR_MS,
      limit: req.perPrefixPerHour,
      status: 'blocked',
      reason: `velocity_prefix:${req.prefix}`,
      shadow: req.shadow,
    });
  return checks;
}

export function bucketStart(at: number, spanMs: number): number {
  const size = spanMs / BUCKETS_PER_WINDOW;
  return Math.floor(at / size) * size;
}

/** Sends in the window ending at `now`, from [bucket start, count] pairs. */
export function windowCount(buckets: [number, number][], spanMs: number, now: number): number {
  const from = bucketStart(now, spanMs) - spanMs + spanMs / BUCKETS_PER_WINDOW;
  let n = 0;
  for (const [start, count] of buckets) if (start >= from) n += count;
  return n;
}

function addTo(buckets: [number, number][], start: number, n: number): void {
  const last = buckets.find((b) => b[0] === start);
  if (last) last[1] += n;
  else buckets.push([start, n]);
}

function prune(buckets: [number, number][], spanMs: number, now: number): [number, number][] {
  const from = bucketStart(now, spanMs) - spanMs;
  return buckets.filter((b) => b[0] > from);
}

/**
 * How many sends one worker may admit for a key before its next sync: its
 * share of the room left, at most a quarter of the limit per worker, and
 * half of that when the shard has not told it the key's count yet.
 */
export function allowance(limit: number, count: number | undefined, workers: number): number {
  const w = Math.max(1, workers);
  const cap = maxBatch(limit, w);
  if (count === undefined) return Math.max(1, Math.floor(cap / 2));
  if (count >= limit) return 0;
  return Math.max(1, Math.min(Math.floor((limit - count) / w), cap));
}

/** b in the bound N + W·b: the most one worker admits per key between two syncs. */
export function maxBatch(limit: number, workers: number): number {
  return Math.max(1, Math.ceil(limit / (2 * Math.max(1, workers))));
}

// ---------------------------------------------------------------- shard side

export interface ShardState {
  keys: Record<string, { spanMs: number; limit: number; buckets: [number, number][] }>;
  workers: Record<string, { seq: number; lastAt: number }>;
}

export function emptyShard(): ShardState {
  return { keys: {}, workers: {} };
}

/** Adds a worker's report; a report already applied (same or older seq) is ignored. */
export function applyReport(state: ShardState, report: VelocityReport, now: number): void {
  const seen = state.workers[report.worker];
  if (seen && report.seq <= seen.seq) return;
  state.workers[report.worker] = { seq: report.seq, lastAt: now };
  for (const c of report.counts) {
    const k = (state.keys[c.key] ??= { spanMs: c.spanMs, limit: c.limit, buckets: [] });
    k.limit = Math.min(k.limit, c.limit);
    for (const [start, n] of c.buckets) addTo(k.buckets, start, n);
  }
}

/** Drops what has left every window; returns the state for continue-as-new. */
export function pruneShard(state: ShardState, now: number): ShardState {
  for (const [key, k] of Object.entries(state.keys)) {
    k.buckets = prune(k.buckets, k.spanMs, now);
    if (!k.buckets.length) delete state.keys[key];
  }
  for (const [w, info] of Object.entries(state.workers)) if (info.lastAt < now - WORKER_SEEN_MS) delete state.workers[w];
  return state;
}

/** Counts of the keys asked for (exact, 0 when unseen) and of every key at half its limit or more. */
export function shardSnapshot(state: ShardState, now: number, keys: string[] = []): VelocitySnapshot {
  const counts: Record<string, number> = {};
  for (const key of keys) {
    const k = state.keys[key];
    counts[key] = k ? windowCount(k.buckets, k.spanMs, now) : 0;
  }
  for (const [key, k] of Object.entries(state.keys)) {
    const n = windowCount(k.buckets, k.spanMs, now);
    if (n * 2 >= k.limit) counts[key] = n;
  }
  const applied: Record<string, number> = {};
  let workers = 0;
  for (const [w, info] of Object.entries(state.workers)) {
    applied[w] = info.seq;
    if (info.lastAt >= now - WORKER_SEEN_MS) workers++;
  }
  return { at: now, workers, applied, counts };
}

// ---------------------------------------------------------------- worker side

interface Pending {
  /** Report seq that carries these sends; undefined until flushed. */
  seq?: number;
  at: number;
  key: string;
  spanMs: number;
  limit: number;
}

/**
 * One worker's view of one shard: the last snapshot plus its own sends that
 * the snapshot does not include yet. Decisions are synchronous and local.
 */
export class ShardLedger {
  private snapshot: VelocitySnapshot | undefined;
  private pending: Pending[] = [];
  /** First decision of this ledger: without a snapshot it may decide alone only for a short while. */
  private firstAt?: number;

  /**
   * `seq` must never go back for one worker id, even when a ledger is made
   * again: the shard ignores reports at or below the last one it applied.
   */
  constructor(
    readonly worker: string,
    private seq = 0,
  ) {}

  /** Sends of this worker for `key` that the snapshot does not count yet. */
  private unsynced(key: string, spanMs: number, now: number): number {
    return this.pending.filter((p) => p.key === key && p.at > now - spanMs).length;
  }

  /** Keys this worker used within their window: the snapshot is asked for their exact counts. */
  private readonly interest = new Map<string, number>();

  private count(check: VelocityCheck): number | undefined {
    return this.snapshot?.counts[check.key];
  }

  /** Keys to ask the shard about. */
  keysOfInterest(now: number): string[] {
    for (const [key, until] of this.interest) if (until < now) this.interest.delete(key);
    return [...this.interest.keys()];
  }

  private workers(): number {
    return Math.max(1, this.snapshot?.workers ?? 1);
  }

  /** This worker's own sends per key, applied or not: exact counts while it is the only worker. */
  private readonly own = new Map<string, [number, number][]>();

  /**
   * No other worker has reported to this shard, or the shard has not answered
   * yet and this ledger is new. A shard that stays unreachable does not leave a
   * worker deciding alone: it falls back to its small unsynced allowance, which
   * runs out (fail closed) while no report is applied.
   */
  private alone(now: number): boolean {
    if (!this.snapshot) return now - (this.firstAt ?? now) < FIRST_SNAPSHOT_GRACE_MS;
    return Object.keys(this.snapshot.applied).every((w) => w === this.worker);
  }

  /** Checks that block this send right now (empty: allowed). */
  exceeded(checks: VelocityCheck[], now: number): VelocityCheck[] {
    this.firstAt ??= now;
    for (const c of checks) if (!this.interest.has(c.key)) this.interest.set(c.key, now + c.spanMs);
    if (this.alone(now)) return checks.filter((c) => windowCount(this.own.get(c.key) ?? [], c.spanMs, now) >= c.limit);
    return checks.filter((c) => this.unsynced(c.key, c.spanMs, now) >= allowance(c.limit, this.count(c), this.workers()));
  }

  /** Seconds until a blocked key may have room again: when this worker's oldest send in the window leaves it. */
  retryAfterSeconds(check: VelocityCheck, now: number): number {
    const own = (this.own.get(check.key) ?? []).filter(([start]) => start > now - check.spanMs);
    const size = check.spanMs / BUCKETS_PER_WINDOW;
    const leaves = own.length ? Math.min(...own.map(([start]) => start)) + check.spanMs + size : bucketStart(now, check.spanMs) + size;
    return Math.max(1, Math.ceil((leaves - now) / 1000));
  }

  record(checks: VelocityCheck[], now: number): void {
    for (const c of checks) {
      this.pending.push({ at: now, key: c.key, spanMs: c.spanMs, limit: c.limit });
      this.interest.set(c.key, now + c.spanMs);
      const own = prune(this.own.get(c.key) ?? [], c.spanMs, now);
      addTo(own, bucketStart(now, c.spanMs), 1);
      this.own.set(c.key, own);
    }
  }

  /** The report to signal now, or undefined when there is nothing new. Sends stay pending until a snapshot shows the report applied. */
  takeReport(): VelocityReport | undefined {
    const fresh = this.pending.filter((p) => p.seq === undefined);
    if (!fresh.length) return undefined;
    const seq = ++this.seq;
    const byKey = new Map<string, VelocityCount>();
    for (const p of fresh) {
      p.seq = seq;
      const c = byKey.get(p.key) ?? { key: p.key, spanMs: p.spanMs, limit: p.limit, buckets: [] };
      c.limit = Math.min(c.limit, p.limit);
      addTo(c.buckets, bucketStart(p.at, p.spanMs), 1);
      byKey.set(p.key, c);
    }
    return { worker: this.worker, seq, counts: [...byKey.values()] };
  }

  /** A report could not be delivered: send its sends again with the next one. */
  reportFailed(seq: number): void {
    for (const p of this.pending) if (p.seq === seq) p.seq = undefined;
  }

  /** Takes a fresh snapshot; sends it already counts stop being pending. */
  update(snapshot: VelocitySnapshot, now: number): void {
    this.snapshot = snapshot;
    const applied = snapshot.applied[this.worker] ?? 0;
    this.pending = this.pending.filter((p) => (p.seq === undefined || p.seq > applied) && p.at > now - p.spanMs);
  }

  get hasPending(): boolean {
    return this.pending.length > 0;
  }
}

/** The decision for one send over all its checks and shards; records the send when allowed. */
export function decideSend(checks: VelocityCheck[], ledgerFor: (key: string) => ShardLedger, now: number): QuotaResult {
  const exceeded = checks.filter((c) => ledgerFor(c.key).exceeded([c], now).length > 0);
  const hard = exceeded.find((c) => !c.shadow);
  if (hard) {
    return {
      allowed: false,
      status: hard.status,
      reason: hard.reason,
      retryAfterSeconds: hard.status === 'rate_limited' ? ledgerFor(hard.key).retryAfterSeconds(hard, now) : undefined,
      shadowFlags: [],
    };
  }
  for (const c of checks) ledgerFor(c.key).record([c], now);
  return { allowed: true, shadowFlags: exceeded.map((c) => c.reason) };
}

/** Shard of a key: a small stable hash, so one tenant's keys spread over its shards. */
export function shardOf(key: string, shards: number): number {
  let h = 2166136261;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619);
  return (h >>> 0) % Math.max(1, shards);
}
