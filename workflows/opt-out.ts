/**
 * One number's entry on the suppression list (STOP). Its id is a keyed hash
 * of the number (contract/keys.ts optOutWorkflowId) and it holds no number:
 * running means opted out, so a send reads it with one DescribeWorkflowExecution
 * and no workflow task. A STOP starts it (signal-with-start); START signals it
 * to end. The query answers the same for ops.
 */
import { condition, setHandler, workflowInfo } from '@temporalio/workflow';
import { isUnencrypted, OPT_OUT_WORKFLOW_ID_PREFIX, optOutQuery, optOutSignal, type OptOutChange } from '../contract';

export async function otpOptOut(start?: OptOutChange): Promise<void> {
  // A squatted id, or a plain start by someone without the payload keys, suppresses nothing.
  if (!workflowInfo().workflowId.startsWith(OPT_OUT_WORKFLOW_ID_PREFIX) || isUnencrypted(start) || start?.optedOut !== true) return;
  let optedOut = true;
  setHandler(optOutSignal, (change) => {
    if (isUnencrypted(change) || typeof change?.optedOut !== 'boolean') return;
    optedOut = change.optedOut;
  });
  setHandler(optOutQuery, () => optedOut);
  // Signals of one activation apply in order: a STOP after a START keeps it running.
  await condition(() => !optedOut);
}
