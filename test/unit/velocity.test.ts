/**
 * Tenant rate and velocity without a hot workflow (policy/velocity.ts): the
 * worker-side decision, the shard's aggregation, and the accuracy bound with
 * several workers, checked over random interleavings of sends and syncs.
 */
import fc from 'fast-check';
import type { QuotaRequest } from '../../contract';
import {
  MINUTE_MS,
  ShardLedger,
  allowance,
  maxBatch,
  applyReport,
  decideSend,
  emptyShard,
  pruneShard,
  shardOf,
  shardSnapshot,
  velocityChecks,
  windowCount,
} from '../../policy/velocity';

const request = (over: Partial<QuotaRequest> = {}): QuotaRequest => ({
  country: 'FR',
  prefix: '+336123',
  tenantSendsPerMinute: 10,
  perCountryPerHour: null,
  perPrefixPerHour: null,
  shadow: false,
  ...over,
});

test('a lone worker admits exactly the tenant limit, then refuses with a typed reason and a retry time', () => {
  const ledger = new ShardLedger('w1');
  const checks = velocityChecks(request({ tenantSendsPerMinute: 5 }));
  const now = 1_000_000;
  expect(Array.from({ length: 8 }, () => decideSend(checks, () => ledger, now)).filter((r) => r.allowed)).toHaveLength(5);
  const refused = decideSend(checks, () => ledger, now);
  expect(refused).toMatchObject({ allowed: false, status: 'rate_limited', reason: 'tenant_rate' });
  expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(1);
  const shard = emptyShard();
  applyReport(shard, ledger.takeReport()!, now);
  expect(windowCount(shard.keys.tenant.buckets, MINUTE_MS, now)).toBe(5);
});

test('once another worker reports to the shard, a worker admits only its share between syncs', () => {
  const shard = emptyShard();
  const [a, b] = [new ShardLedger('a'), new ShardLedger('b')];
  const checks = velocityChecks(request({ tenantSendsPerMinute: 8 }));
  for (const l of [a, b]) applyReport(shard, { worker: l.worker, seq: 0, counts: [] }, 0);
  for (const l of [a, b]) l.update(shardSnapshot(shard, 0, l.keysOfInterest(0)), 0);
  expect(Array.from({ length: 8 }, () => decideSend(checks, () => a, 0)).filter((r) => r.allowed)).toHaveLength(1);
  applyReport(shard, a.takeReport()!, 0);
  a.update(shardSnapshot(shard, 0, a.keysOfInterest(0)), 0);
  expect(Array.from({ length: 8 }, () => decideSend(checks, () => a, 0)).filter((r) => r.allowed)).toHaveLength(2);
});

test('a lone worker that has synced is exact, even for a small limit', () => {
  const ledger = new ShardLedger('w1');
  const shard = emptyShard();
  const checks = velocityChecks(request({ tenantSendsPerMinute: 0, perPrefixPerHour: 2 }));
  applyReport(shard, { worker: 'w1', seq: 0, counts: [] }, 0);
  decideSend(checks, () => ledger, 0); // first use: the key becomes one this worker asks about
  applyReport(shard, ledger.takeReport()!, 0);
  ledger.update(shardSnapshot(shard, 0, ledger.keysOfInterest(0)), 0);
  expect(decideSend(checks, () => ledger, 0).allowed).toBe(true);
  expect(decideSend(checks, () => ledger, 0)).toMatchObject({ allowed: false, reason: 'velocity_prefix:+336123' });
});

test('counts leave the window: a minute later the tenant may send again', () => {
  const ledger = new ShardLedger('w1');
  const shard = emptyShard();
  const checks = velocityChecks(request({ tenantSendsPerMinute: 2 }));
  let now = 5_000_000;
  for (let i = 0; i < 2; i++) {
    expect(decideSend(checks, () => ledger, now).allowed).toBe(true);
    applyReport(shard, ledger.takeReport()!, now);
    ledger.update(shardSnapshot(shard, now), now);
  }
  expect(decideSend(checks, () => ledger, now).allowed).toBe(false);
  now += MINUTE_MS + 5_000;
  ledger.update(shardSnapshot(pruneShard(shard, now), now), now);
  expect(decideSend(checks, () => ledger, now).allowed).toBe(true);
});

test('shadow mode flags velocity and blocks nothing; the tenant rate is never shadowed', () => {
  const ledger = new ShardLedger('w1');
  const checks = velocityChecks(request({ tenantSendsPerMinute: 0, perPrefixPerHour: 1, shadow: true }));
  expect(decideSend(checks, () => ledger, 0)).toEqual({ allowed: true, shadowFlags: [] });
  expect(decideSend(checks, () => ledger, 0)).toEqual({ allowed: true, shadowFlags: ['velocity_prefix:+336123'] });
  const hard = velocityChecks(request({ tenantSendsPerMinute: 0, perCountryPerHour: 1 }));
  const l2 = new ShardLedger('w2');
  expect(decideSend(hard, () => l2, 0).allowed).toBe(true);
  expect(decideSend(hard, () => l2, 0)).toMatchObject({ allowed: false, status: 'blocked', reason: 'velocity_country:FR' });
});

test('a report applied twice counts once, and a failed report is sent again', () => {
  const ledger = new ShardLedger('w1');
  const shard = emptyShard();
  const checks = velocityChecks(request({ tenantSendsPerMinute: 100 }));
  decideSend(checks, () => ledger, 0);
  const report = ledger.takeReport()!;
  applyReport(shard, report, 0);
  applyReport(shard, report, 0);
  expect(windowCount(shard.keys.tenant.buckets, MINUTE_MS, 0)).toBe(1);
  decideSend(checks, () => ledger, 0);
  const lost = ledger.takeReport()!;
  ledger.reportFailed(lost.seq);
  const again = ledger.takeReport()!;
  applyReport(shard, again, 0);
  expect(windowCount(shard.keys.tenant.buckets, MINUTE_MS, 0)).toBe(2);
});

test('keys spread over shards deterministically', () => {
  expect(shardOf('tenant', 4)).toBe(shardOf('tenant', 4));
  const used = new Set(Array.from({ length: 50 }, (_, i) => shardOf(`p:+3361${i}`, 4)));
  expect(used.size).toBe(4);
  expect(allowance(10, 10, 2)).toBe(0);
  expect(allowance(10, 9, 5)).toBe(1);
  expect(allowance(10, undefined, 1)).toBe(2);
});

/**
 * The stated bound: with W workers, a limit of N per window admits at most
 * N + W·b, b = max(1, ⌊N / 2W⌋), whatever the order of sends, reports and
 * snapshot refreshes (reports may also be lost and re-sent).
 */
test('W workers never admit more than N + W·b within a window', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 6 }),
      fc.integer({ min: 1, max: 60 }),
      fc.array(fc.tuple(fc.constantFrom('send', 'report', 'lose', 'refresh'), fc.nat()), { minLength: 1, maxLength: 400 }),
      (workers, limit, steps) => {
        const shard = emptyShard();
        const ledgers = Array.from({ length: workers }, (_, i) => new ShardLedger(`w${i}`));
        const checks = velocityChecks(request({ tenantSendsPerMinute: limit }));
        const now = 10_000_000;
        // Every worker starts having reported once, as a running fleet has.
        for (const l of ledgers) applyReport(shard, { worker: l.worker, seq: 0, counts: [] }, now);
        for (const l of ledgers) l.update(shardSnapshot(shard, now), now);
        let admitted = 0;
        for (const [op, n] of steps) {
          const l = ledgers[n % workers];
          if (op === 'send') admitted += decideSend(checks, () => l, now).allowed ? 1 : 0;
          else if (op === 'report' || op === 'lose') {
            const r = l.takeReport();
            if (r && op === 'report') applyReport(shard, r, now);
            else if (r) l.reportFailed(r.seq);
          } else l.update(shardSnapshot(shard, now, l.keysOfInterest(now)), now);
        }
        expect(admitted).toBeLessThanOrEqual(limit + workers * maxBatch(limit, workers));
      },
    ),
    { numRuns: 500 },
  );
});

test('when every worker syncs after each send the limit holds to within W − 1', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 5 }),
      fc.integer({ min: 1, max: 40 }),
      fc.array(fc.nat(), { minLength: 1, maxLength: 200 }),
      (workers, limit, order) => {
        const shard = emptyShard();
        const ledgers = Array.from({ length: workers }, (_, i) => new ShardLedger(`w${i}`));
        const checks = velocityChecks(request({ tenantSendsPerMinute: limit }));
        for (const l of ledgers) applyReport(shard, { worker: l.worker, seq: 0, counts: [] }, 0);
        let admitted = 0;
        for (const n of order) {
          for (const l of ledgers) l.update(shardSnapshot(shard, 0, l.keysOfInterest(0)), 0);
          const l = ledgers[n % workers];
          if (decideSend(checks, () => l, 0).allowed) admitted++;
          const r = l.takeReport();
          if (r) applyReport(shard, r, 0);
        }
        expect(admitted).toBeLessThanOrEqual(limit + workers - 1);
      },
    ),
    { numRuns: 300 },
  );
});

test('a ledger made again for the same worker keeps counting: its seqs never go back', () => {
  const shard = emptyShard();
  const checks = velocityChecks(request({ tenantSendsPerMinute: 1000 }));
  const first = new ShardLedger('w1', 1_000);
  decideSend(checks, () => first, 0);
  applyReport(shard, first.takeReport()!, 0);
  const again = new ShardLedger('w1', 2_000);
  decideSend(checks, () => again, 0);
  applyReport(shard, again.takeReport()!, 0);
  expect(windowCount(shard.keys.tenant.buckets, MINUTE_MS, 0)).toBe(2);
});

test('a shard that never answers makes the gate fail closed after its grace period, not decide alone', () => {
  const ledger = new ShardLedger('w1');
  const checks = velocityChecks(request({ tenantSendsPerMinute: 100 }));
  let admitted = 0;
  for (let i = 0; i < 200; i++) if (decideSend(checks, () => ledger, 10_000 + i * 100).allowed) admitted++;
  // Alone for 5 s (50 sends at this pace), then only the small unsynced allowance: far below 200.
  expect(admitted).toBeLessThan(100);
  expect(decideSend(checks, () => ledger, 40_000).allowed).toBe(false);
});
