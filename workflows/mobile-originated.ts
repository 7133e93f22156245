/**
 * One mobile-originated message (a reply, STOP, START), started by the worker
 * that received its deliver_sm before it acknowledges it: the number and the
 * text live only in this workflow's encrypted input. Applies a STOP / START
 * keyword to the number's opt-out workflow, then POSTs the message to
 * OTP_MO_WEBHOOK_URL, retrying until the receiver answers 2xx.
 */
import { ApplicationFailure, proxyActivities, workflowInfo } from '@temporalio/workflow';
import { isUnencrypted, MO_WORKFLOW_ID_PREFIX, type MobileOriginatedInput } from '../contract';
import type { OtpActivities } from '../activities/types';

const { applyOptOut } = proxyActivities<OtpActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});
const { postMobileOriginated } = proxyActivities<OtpActivities>({
  // The receiver may be down for a while: patient retries, deduplicated there by eventId.
  startToCloseTimeout: '10 seconds',
  scheduleToCloseTimeout: '3 days',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 minutes', nonRetryableErrorTypes: ['InvalidDestination'] },
});

export async function otpMobileOriginated(input: MobileOriginatedInput): Promise<void> {
  // Started under another id (to squat a session's), it ends at once.
  if (!workflowInfo().workflowId.startsWith(MO_WORKFLOW_ID_PREFIX)) return;
  // Only workers (holding the payload keys) start it: a plain start never changes the suppression list.
  if (isUnencrypted(input) || typeof input?.from !== 'string' || typeof input.text !== 'string') {
    throw ApplicationFailure.create({ type: 'InvalidRequest', message: 'the MO input was not encrypted with the payload keys', nonRetryable: true });
  }
  if (input.optOut && input.fromIsE164) await applyOptOut({ phone: input.from, optOut: input.optOut, at: input.receivedAt });
  if (input.forward) await postMobileOriginated(input);
}
