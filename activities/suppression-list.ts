/**
 * The worker's copy of the suppression list (numbers that texted STOP), so a send checks it in
 * memory instead of one DescribeWorkflowExecution on its critical path.
 *
 * An entry is a running `otpOptOut` workflow; its id is a keyed hash of the number, so the copy
 * holds no number. The copy is read from visibility: all running entries at start and every
 * `fullSyncMs`, and in between, every `syncMs`, the entries started or closed in the last
 * `overlapMs`. A STOP therefore reaches sends on every worker within `syncMs` plus the cluster's
 * visibility lag, and at once on the worker that applied it.
 *
 * Fails closed: until the first full read, and whenever the last good read is older than
 * `maxStaleMs`, `lookup` answers `undefined` and the caller asks Temporal for the number itself.
 */
import type { Client } from '@temporalio/client';
import { OPT_OUT_WORKFLOW } from '../contract';

export interface SuppressionListOptions {
  client: Client;
  /**
   * How often the entries started or closed lately are read.
   * @default 1000
   */
  syncMs?: number;
  /**
   * How often every running entry is read again, for what an incremental read missed (clock skew
   * beyond `overlapMs`, visibility lag beyond it).
   * @default 600000
   */
  fullSyncMs?: number;
  /**
   * How far back an incremental read looks: covers visibility lag and clock skew.
   * @default 60000
   */
  overlapMs?: number;
  /**
   * Past this age of the last good read, lookups answer `undefined` (ask Temporal instead).
   * @default 5000
   */
  maxStaleMs?: number;
}

export const DEFAULT_SUPPRESSION_SYNC_MS = 1000;
export const DEFAULT_SUPPRESSION_FULL_SYNC_MS = 600_000;
export const DEFAULT_SUPPRESSION_OVERLAP_MS = 60_000;
export const DEFAULT_SUPPRESSION_MAX_STALE_MS = 5000;

/** Visibility rows as far as the list needs them. */
interface EntryRow {
  workflowId: string;
  runId: string;
  running: boolean;
}

export interface SuppressionListStats {
  /** Entries in the copy. */
  size: number;
  /** Age of the last good read in ms, or null before the first. */
  ageMs: number | null;
  /** Reads that failed since start (the copy keeps its last state). */
  failedReads: number;
  /** Lookups the copy could not answer (stale or not loaded): each became a describe. */
  unanswered: number;
}

export class SuppressionList {
  private entries = new Set<string>();
  /** Local time each read started: a read reflects visibility no later than that. */
  private goodAt?: number;
  private fullAt?: number;
  /** STOPs this worker applied (id → when), kept until a read shows them. */
  private readonly local = new Map<string, number>();
  /** Runs this worker ended with a START (id → run), kept until a read shows them closed. */
  private readonly ended = new Map<string, { runId: string; at: number }>();
  private timer?: NodeJS.Timeout;
  private syncing?: Promise<void>;
  private failedReads = 0;
  private unanswered = 0;
  private readonly syncMs: number;
  private readonly fullSyncMs: number;
  private readonly overlapMs: number;
  private readonly maxStaleMs: number;

  constructor(private readonly opts: SuppressionListOptions) {
    this.syncMs = opts.syncMs ?? DEFAULT_SUPPRESSION_SYNC_MS;
    this.fullSyncMs = opts.fullSyncMs ?? DEFAULT_SUPPRESSION_FULL_SYNC_MS;
    this.overlapMs = opts.overlapMs ?? DEFAULT_SUPPRESSION_OVERLAP_MS;
    this.maxStaleMs = opts.maxStaleMs ?? DEFAULT_SUPPRESSION_MAX_STALE_MS;
  }

  start(): void {
    if (this.timer) return;
    void this.sync();
    this.timer = setInterval(() => void this.sync(), this.syncMs);
    this.timer.unref();
  }

  /**
   * Is any of these entry ids (one number under each id key) on the list? `undefined` when the
   * copy cannot say: not loaded yet, or not refreshed within `maxStaleMs`.
   */
  lookup(ids: readonly string[], now = Date.now()): boolean | undefined {
    // Stale, or a START here whose run visibility does not show closed yet (a STOP elsewhere may
    // have reached that run first and kept it running): only a describe can tell.
    if (this.goodAt === undefined || now - this.goodAt > this.maxStaleMs || ids.some((id) => this.ended.has(id))) {
      this.unanswered++;
      return undefined;
    }
    return ids.some((id) => this.entries.has(id));
  }

  /**
   * A STOP or START this worker applied holds here at once, and until a read shows it (at most
   * `overlapMs`). A START names the run it signalled: until a read shows that run closed, lookups
   * of the number answer nothing (the send describes it), since a STOP on another worker may have
   * reached the same run first and kept it running; any other running run is a newer STOP.
   */
  applied(id: string, optedOut: boolean, endedRunId?: string, now = Date.now()): void {
    if (optedOut) {
      this.local.set(id, now);
      this.ended.delete(id);
      this.entries.add(id);
    } else {
      this.local.delete(id);
      if (endedRunId) this.ended.set(id, { runId: endedRunId, at: now });
      this.entries.delete(id);
    }
  }

  /** One read: the whole list when due, else what changed lately. Concurrent calls share it. */
  sync(): Promise<void> {
    this.syncing ??= this.syncOnce().finally(() => (this.syncing = undefined));
    return this.syncing;
  }

  stats(now = Date.now()): SuppressionListStats {
    return { size: this.entries.size, ageMs: this.goodAt === undefined ? null : now - this.goodAt, failedReads: this.failedReads, unanswered: this.unanswered };
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async syncOnce(): Promise<void> {
    const startedAt = Date.now();
    try {
      if (this.fullAt === undefined || startedAt - this.fullAt >= this.fullSyncMs) {
        const running = new Set<string>();
        for (const row of await this.read(`WorkflowType = '${OPT_OUT_WORKFLOW}' AND ExecutionStatus = 'Running'`)) if (row.running) running.add(row.workflowId);
        this.entries = running;
        this.fullAt = startedAt;
        this.reapplyLocal(startedAt, running);
      } else {
        const since = new Date(startedAt - this.overlapMs).toISOString();
        const rows = await this.read(`WorkflowType = '${OPT_OUT_WORKFLOW}' AND (StartTime >= '${since}' OR CloseTime >= '${since}')`);
        // One id can show a closed run (a START) and a running one (a later STOP): running wins.
        const running = new Map<string, boolean>();
        for (const row of rows) running.set(row.workflowId, (running.get(row.workflowId) ?? false) || row.running);
        for (const [id, on] of running) {
          if (on) this.entries.add(id);
          else this.entries.delete(id);
        }
        this.reapplyLocal(startedAt, new Set([...running].filter(([, on]) => on).map(([id]) => id)));
      }
      this.goodAt = startedAt;
    } catch {
      // Keep the last copy; lookups fail over to describes once it is older than maxStaleMs.
      this.failedReads++;
    }
  }

  private async read(query: string): Promise<EntryRow[]> {
    const rows: EntryRow[] = [];
    const now = Date.now();
    for await (const w of this.opts.client.workflow.list({ query })) {
      const row = { workflowId: w.workflowId, runId: w.runId, running: w.status.name === 'RUNNING' };
      const ended = this.ended.get(row.workflowId);
      if (ended && (now - ended.at > this.overlapMs || (ended.runId === row.runId && !row.running))) this.ended.delete(row.workflowId);
      // The run this worker ended, not yet closed in visibility.
      else if (ended?.runId === row.runId) row.running = false;
      rows.push(row);
    }
    return rows;
  }

  /** A STOP applied here that no read shows yet still holds, for up to `overlapMs`. */
  private reapplyLocal(now: number, seenRunning: ReadonlySet<string>): void {
    for (const [id, at] of this.local) {
      if (seenRunning.has(id) || now - at > this.overlapMs) this.local.delete(id);
      else this.entries.add(id);
    }
  }
}
