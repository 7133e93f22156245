/**
 * Whether the workflow task running a local activity is a retry: the server
 * reports the pending task's attempt. Attempt 2 or more means an earlier
 * attempt started (on a worker that died or timed out) and may have run the
 * same local activity to its side effects, though its result was never
 * recorded.
 */
import type { Client } from '@temporalio/client';

export interface TaskOwner {
  workflowNamespace?: string;
  workflowExecution?: { workflowId: string; runId: string };
}

/** False when it cannot tell (no workflow, the server does not answer within 1 s): the caller's usual rule applies. */
export async function workflowTaskRetried(client: Client, owner: TaskOwner): Promise<boolean> {
  if (!owner.workflowExecution) return false;
  try {
    const d = await client.withDeadline(Date.now() + 1000, () =>
      client.workflowService.describeWorkflowExecution({ namespace: owner.workflowNamespace ?? client.options.namespace, execution: owner.workflowExecution }),
    );
    return (d.pendingWorkflowTask?.attempt ?? 1) > 1;
  } catch {
    return false;
  }
}
