/**
 * The worker's copy of each tenant's sender approvals, so a send checks its profile revision in
 * memory instead of asking the approval workflow on its critical path.
 *
 * A tenant's copy is loaded by its first send on this worker (one describe and one query, shared
 * by concurrent sends), then refreshed in the background every `syncMs` while the tenant sends:
 * a describe (no worker needed), and the query only when the workflow's history grew. An approval
 * therefore reaches sends on every worker within `syncMs` plus one describe and one query.
 *
 * Fails closed (policy/approval.ts approvalRefusal): a copy that could not be loaded, or not
 * refreshed within `maxStaleMs`, refuses sends as `overloaded` / `sender_approvals_unavailable`.
 * A tenant with no approval workflow has nothing approved: its sends are `sender_not_approved`.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { revisionsQuery, senderApprovalWorkflowId } from '../contract';
import { approvalRefusal, approvalView, type ApprovalRefusal, type ApprovalView } from '../policy/approval';

export interface SenderApprovalsOptions {
  client: Client;
  /** How often each tenant's copy is refreshed. @default 1000 */
  syncMs?: number;
  /** Past this age of a tenant's copy, its sends are refused (fail closed). @default 10000 */
  maxStaleMs?: number;
  /** Longest one query may take. @default 2000 */
  queryTimeoutMs?: number;
  /** The worker's clock (tests pass their own). @default Date.now */
  clock?: () => number;
}

export const DEFAULT_SENDER_APPROVAL_SYNC_MS = 1000;
export const DEFAULT_SENDER_APPROVAL_MAX_STALE_MS = 10_000;
/** A tenant that has not sent for this long is dropped from the copy (and loaded again by its next send). */
const IDLE_MS = 60 * 60 * 1000;

interface TenantCopy {
  view?: ApprovalView;
  /** Local time the last good read started. */
  goodAt?: number;
  /** Run id and history length the view was read at: unchanged, the trail is unchanged. */
  seen?: string;
  lastUsed: number;
}

export interface SenderApprovalsStats {
  tenants: number;
  failedReads: number;
  /** Sends refused because a copy was missing or stale. */
  unavailable: number;
}

export class SenderApprovals {
  private readonly tenants = new Map<string, TenantCopy>();
  private readonly loading = new Map<string, Promise<void>>();
  private timer?: NodeJS.Timeout;
  private syncing?: Promise<void>;
  private failedReads = 0;
  private unavailable = 0;
  readonly syncMs: number;
  readonly maxStaleMs: number;

  private readonly now: () => number;

  constructor(private readonly opts: SenderApprovalsOptions) {
    this.now = opts.clock ?? Date.now;
    this.syncMs = opts.syncMs ?? DEFAULT_SENDER_APPROVAL_SYNC_MS;
    this.maxStaleMs = opts.maxStaleMs ?? DEFAULT_SENDER_APPROVAL_MAX_STALE_MS;
  }

  start(): void {
    this.timer ??= setInterval(() => void this.sync(), this.syncMs);
    this.timer.unref();
  }

  /** Loads a tenant's copy now, in the background (the worker's OTP_TENANT at start), so its first send waits for nothing. */
  preload(tenant: string): void {
    if (!this.tenants.has(tenant)) this.tenants.set(tenant, { lastUsed: this.now() });
    void this.load(tenant);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Why a send on this revision must not go out, or null when it is approved. Waits only for a
   * tenant's first load on this worker; afterwards it answers from memory.
   */
  async check(tenant: string, profile: string, contentHash: string): Promise<ApprovalRefusal | null> {
    let copy = this.tenants.get(tenant);
    if (!copy) this.tenants.set(tenant, (copy = { lastUsed: this.now() }));
    copy.lastUsed = this.now();
    if (copy.goodAt === undefined) await this.load(tenant);
    const now = this.now();
    const refusal = approvalRefusal(copy.view, copy.goodAt === undefined ? undefined : now - copy.goodAt, this.maxStaleMs, profile, contentHash);
    if (refusal?.reason === 'sender_approvals_unavailable') this.unavailable++;
    return refusal;
  }

  /** Refreshes every tenant that sent within the last hour. Concurrent calls share one pass. */
  sync(): Promise<void> {
    this.syncing ??= (async () => {
      const now = this.now();
      await Promise.all(
        [...this.tenants].map(async ([tenant, copy]) => {
          if (now - copy.lastUsed > IDLE_MS) this.tenants.delete(tenant);
          else await this.load(tenant);
        }),
      );
    })().finally(() => (this.syncing = undefined));
    return this.syncing;
  }

  stats(): SenderApprovalsStats {
    return { tenants: this.tenants.size, failedReads: this.failedReads, unavailable: this.unavailable };
  }

  private load(tenant: string): Promise<void> {
    let pending = this.loading.get(tenant);
    if (!pending) {
      pending = this.read(tenant).finally(() => this.loading.delete(tenant));
      this.loading.set(tenant, pending);
    }
    return pending;
  }

  private async read(tenant: string): Promise<void> {
    const startedAt = this.now();
    let view: ApprovalView;
    let seen: string | undefined;
    try {
      const handle = this.opts.client.workflow.getHandle(senderApprovalWorkflowId(tenant));
      const deadline = Date.now() + (this.opts.queryTimeoutMs ?? 2000);
      // A describe needs no worker and no workflow task: the trail is queried only when its history grew.
      const d = await this.opts.client.withDeadline(deadline, () => handle.describe());
      seen = `${d.runId}:${d.historyLength}`;
      const known = this.tenants.get(tenant);
      if (known?.view && known.seen === seen) {
        known.goodAt = startedAt;
        return;
      }
      // A query needs a worker to answer it: never wait long for one.
      const trail = await this.opts.client.withDeadline(deadline, () => handle.query(revisionsQuery, {}));
      view = approvalView(Array.isArray(trail) ? trail : []);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) view = approvalView([]);
      else {
        // Keep the last copy; sends fail closed once it is older than maxStaleMs.
        this.failedReads++;
        return;
      }
    }
    const copy = this.tenants.get(tenant);
    if (copy) {
      copy.view = view;
      copy.goodAt = startedAt;
      copy.seen = seen;
    }
  }
}
