/**
 * Streams the audit lines of one tenant's sends in a time window from a
 * Temporal cluster: visibility is read page by page, and histories one session
 * (one run, and the runs it continued as) at a time, so memory stays flat
 * whatever the number of sessions.
 */
import type { Client } from '@temporalio/client';
import type { LoadedDataConverter } from '@temporalio/common';
import { loadDataConverter } from '@temporalio/common/lib/internal-non-workflow';
import type { temporal } from '@temporalio/proto';
import { OTP_SESSION_WORKFLOW } from '../contract';
import { otpDataConverter } from '../client';
import type { PayloadKey } from '../codec/payload-codec';
import { decodeRun, type DecodedRun } from './history';
import { auditLines, csvHeader, formatLine, linesInWindow, type AuditEvent } from './lines';
import type { AuditOptions } from './options';

/** Length of the keyed hash at the end of a session id (contract/keys.ts sessionWorkflowId). */
const SESSION_HASH_LENGTH = 32;
/** Visibility page size: large enough to keep round trips few, small enough to start writing at once. */
const DEFAULT_PAGE_SIZE = 200;
/** Histories read at once: round trips overlap, memory stays a few sessions. */
const DEFAULT_CONCURRENCY = 4;

/** Where sessions come from: a Temporal namespace (temporalAuditSource), or recorded histories in tests. */
export interface AuditSource {
  /** Executions matching a visibility query, read page by page as they are iterated. */
  list(query: string, pageSize: number): AsyncIterable<{ workflowId: string; runId: string }>;
  /** One run's whole history (itself read in pages). */
  history(workflowId: string, runId: string): Promise<temporal.api.history.v1.IHistoryEvent[]>;
}

/** A client with the deployment's data converter (listings decode each session's encrypted memo); histories are decoded with the export's payload keys. */
export function temporalAuditSource(client: Client): AuditSource {
  return {
    list: (query, pageSize) => client.workflow.list({ query, pageSize }),
    history: async (workflowId, runId) => (await client.workflow.getHandle(workflowId, runId).fetchHistory()).events ?? [],
  };
}

export interface AuditExportInput extends AuditOptions {
  source: AuditSource;
  payloadKeys: PayloadKey[];
  /** Receives each line with its newline; await it for backpressure. */
  write: (chunk: string) => void | Promise<void>;
  /** Told about a session that could not be read (e.g. a payload key missing); the export goes on. */
  onSkip?: (sessionId: string, reason: string) => void;
  pageSize?: number;
  /** Histories read at once (each a run and its continuations). @default 4 */
  concurrency?: number;
}

export interface AuditExportSummary {
  /** Runs read (visibility lists each run of a session that continued as new). */
  runs: number;
  lines: number;
  skipped: number;
}

/**
 * Runs that may hold a send requested in [from, to): started before `to`, and not closed before `from`.
 * A session continues as new and lives 24 h after its last send, so start times alone would miss sends.
 */
export function auditQuery(tenant: string, fromMs: number, toMs: number): string {
  const from = new Date(fromMs).toISOString();
  const to = new Date(toMs).toISOString();
  return `WorkflowType = '${OTP_SESSION_WORKFLOW}' AND WorkflowId STARTS_WITH 'otp-${tenant}-' AND StartTime < '${to}' AND (CloseTime >= '${from}' OR ExecutionStatus = 'Running')`;
}

/** STARTS_WITH 'otp-acme-' also matches tenant "acme-eu": a session id of this tenant has exactly the hash after the prefix. */
export function isTenantSession(tenant: string, workflowId: string): boolean {
  const prefix = `otp-${tenant}-`;
  return workflowId.startsWith(prefix) && workflowId.length === prefix.length + SESSION_HASH_LENGTH;
}

/** True when a run issued a new code: later runs can no longer change the lines of earlier sends. */
function issuesNewCode(events: readonly AuditEvent[]): boolean {
  return events.some((e) => e.kind === 'sendCompleted' && e.result?.status === 'sent' && !e.result.sameCode);
}

/** One run's lines, formatted, or why it could not be read; never rejects. */
type RunResult = { counted: boolean; lines: string[] } | { skipped: string; sessionId: string };

async function readRun(input: AuditExportInput, converter: LoadedDataConverter, info: { workflowId: string; runId: string }): Promise<RunResult> {
  const { source, tenant, idKey, format } = input;
  const sessionId = info.workflowId;
  const window = { fromMs: input.fromMs, toMs: input.toMs };
  const decode = async (runId: string): Promise<DecodedRun> =>
    decodeRun(await source.history(sessionId, runId), { converter, sessionId, runId, tenant, idKey });
  try {
    const run = await decode(info.runId);
    if (run.input !== null && run.input.tenant !== tenant) return { counted: false, lines: [] };
    const events = [...run.events];
    // Retries, receipts and verifies of this run's last code may sit in the runs it continued as.
    const inWindow = run.events.some((e) => e.kind === 'sendAccepted' && Date.parse(e.at) >= window.fromMs && Date.parse(e.at) < window.toMs);
    let next = inWindow ? run.continuedAs : null;
    while (next !== null) {
      const later = await decode(next);
      events.push(...later.events);
      next = issuesNewCode(later.events) ? null : later.continuedAs;
    }
    const lines = linesInWindow(auditLines(sessionId, events, run.input?.maskedPhone ?? null), info.runId, window);
    return { counted: true, lines: lines.map((l) => `${formatLine(l, format)}\n`) };
  } catch (err) {
    return { skipped: err instanceof Error ? err.message : String(err), sessionId };
  }
}

export async function exportAudit(input: AuditExportInput): Promise<AuditExportSummary> {
  const converter = loadDataConverter(otpDataConverter(input.payloadKeys));
  const summary: AuditExportSummary = { runs: 0, lines: 0, skipped: 0 };
  const concurrency = Math.max(1, input.concurrency ?? DEFAULT_CONCURRENCY);
  if (input.format === 'csv') await input.write(`${csvHeader()}\n`);
  const write = async (result: RunResult) => {
    if ('skipped' in result) {
      summary.skipped++;
      input.onSkip?.(result.sessionId, result.skipped);
      return;
    }
    if (result.counted) summary.runs++;
    for (const line of result.lines) {
      await input.write(line);
      summary.lines++;
    }
  };
  // A few histories in flight, written in listing order: memory holds at most `concurrency` runs.
  const reading: Promise<RunResult>[] = [];
  for await (const info of input.source.list(auditQuery(input.tenant, input.fromMs, input.toMs), input.pageSize ?? DEFAULT_PAGE_SIZE)) {
    if (!isTenantSession(input.tenant, info.workflowId)) continue;
    reading.push(readRun(input, converter, info));
    if (reading.length >= concurrency) await write(await reading.shift()!);
  }
  while (reading.length) await write(await reading.shift()!);
  return summary;
}
