/**
 * One shard of a tenant's velocity counts. Workers signal their counts
 * (never awaited by a send) and read a snapshot with a query; each worker
 * decides from its cached snapshot (policy/velocity.ts states the bound).
 */
import { allHandlersFinished, condition, continueAsNew, setHandler, workflowInfo } from '@temporalio/workflow';
import { isUnencrypted, velocityReportSignal, velocitySnapshotQuery } from '../contract';
import { HOUR_MS, applyReport, emptyShard, pruneShard, shardSnapshot, type ShardState } from '../policy/velocity';

/** Continue-as-new after this many reports, to keep history short. */
const REPORTS_PER_RUN = 500;
/** With no report for this long every window is empty: finish. */
const IDLE_MS = HOUR_MS;

export async function otpVelocityShard(carried?: ShardState): Promise<void> {
  // Started under another id (a session's, to squat it), it ends at once.
  if (!workflowInfo().workflowId.startsWith('otp-velocity:')) return;
  const state = carried ?? emptyShard();
  let reports = 0;
  let lastAt = Date.now();
  setHandler(velocityReportSignal, (report) => {
    // Only workers (holding the payload keys) report; a plain or malformed report is dropped.
    if (isUnencrypted(report) || typeof report?.worker !== 'string' || !Array.isArray(report.counts)) return;
    reports++;
    lastAt = Date.now();
    applyReport(state, report, lastAt);
  });
  setHandler(velocitySnapshotQuery, (keys) => shardSnapshot(state, Date.now(), Array.isArray(keys) ? keys.slice(0, 10_000) : []));
  for (;;) {
    const busy = await condition(() => reports >= REPORTS_PER_RUN || workflowInfo().continueAsNewSuggested, Math.max(1, lastAt + IDLE_MS - Date.now()));
    if (busy) break;
    if (Date.now() >= lastAt + IDLE_MS) {
      await condition(allHandlersFinished);
      return;
    }
  }
  await condition(allHandlersFinished);
  await continueAsNew<typeof otpVelocityShard>(pruneShard(state, Date.now()));
}
