/**
 * The worker's velocity gate: decides each send at once from a cached
 * snapshot of the tenant's shard workflows plus its own unsynced sends, and
 * syncs in the background (report by signal-with-start, snapshot by query).
 * No send ever waits for a workflow.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Client } from '@temporalio/client';
import { VELOCITY_SHARD_WORKFLOW, velocityReportSignal, velocityShardId, velocitySnapshotQuery, type QuotaRequest, type QuotaResult } from '../contract';
import { HOUR_MS, ShardLedger, decideSend, shardOf, velocityChecks } from '../policy/velocity';

export interface VelocityGateOptions {
  client: Client;
  taskQueue: string;
  /** Shards per tenant. @default 4 */
  shards?: number;
  /** How often counts are reported and snapshots refreshed. @default 1000 */
  syncMs?: number;
  /** Stable id of this worker process. @default host-pid-random */
  worker?: string;
}

export const DEFAULT_VELOCITY_SHARDS = 4;
export const DEFAULT_VELOCITY_SYNC_MS = 1000;

export class VelocityGate {
  readonly worker: string;
  private readonly shards: number;
  private readonly ledgers = new Map<string, { tenant: string; shard: number; ledger: ShardLedger; lastUsed: number }>();
  private timer?: NodeJS.Timeout;
  private syncing?: Promise<void>;

  constructor(private readonly opts: VelocityGateOptions) {
    this.shards = opts.shards ?? DEFAULT_VELOCITY_SHARDS;
    this.worker = opts.worker ?? `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  }

  start(): void {
    this.timer ??= setInterval(() => void this.sync(), this.opts.syncMs ?? DEFAULT_VELOCITY_SYNC_MS);
    this.timer.unref();
  }

  private ledger(tenant: string, key: string): ShardLedger {
    const shard = shardOf(key, this.shards);
    const id = velocityShardId(tenant, shard);
    let entry = this.ledgers.get(id);
    if (!entry) {
      // Seq from the clock: a ledger made again after an idle hour must not reuse old seqs.
      entry = { tenant, shard, ledger: new ShardLedger(this.worker, Date.now()), lastUsed: Date.now() };
      this.ledgers.set(id, entry);
    }
    entry.lastUsed = Date.now();
    return entry.ledger;
  }

  /** Synchronous: may this send go out? Records it when allowed. */
  acquire(tenant: string, request: QuotaRequest): QuotaResult {
    return decideSend(velocityChecks(request), (key) => this.ledger(tenant, key), Date.now());
  }

  /** Reports new counts and refreshes snapshots of every shard used in the last hour. */
  sync(): Promise<void> {
    this.syncing ??= this.syncOnce().finally(() => (this.syncing = undefined));
    return this.syncing;
  }

  private async syncOnce(reportOnly = false): Promise<void> {
    const now = Date.now();
    await Promise.all(
      [...this.ledgers.entries()].map(async ([id, entry]) => {
        if (entry.lastUsed < now - HOUR_MS && !entry.ledger.hasPending) {
          this.ledgers.delete(id);
          return;
        }
        const report = entry.ledger.takeReport();
        if (report) {
          try {
            await this.opts.client.workflow.signalWithStart(VELOCITY_SHARD_WORKFLOW, {
              workflowId: id,
              taskQueue: this.opts.taskQueue,
              signal: velocityReportSignal,
              signalArgs: [report],
            });
          } catch {
            entry.ledger.reportFailed(report.seq);
            return;
          }
        }
        if (reportOnly) return;
        try {
          // A query needs a worker to answer it: never wait long for one.
          const handle = this.opts.client.workflow.getHandle(id);
          const snapshot = await this.opts.client.withDeadline(Date.now() + 2000, () =>
            handle.query(velocitySnapshotQuery, entry.ledger.keysOfInterest(Date.now())),
          );
          entry.ledger.update(snapshot, Date.now());
        } catch {
          // Not started yet, or unreachable: keep deciding from what we have.
        }
      }),
    );
  }

  /** Stops syncing after one last report (no query: the workers may be gone), so a restart loses no counts. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.syncing?.catch(() => undefined);
    await this.syncOnce(true).catch(() => undefined);
  }
}
