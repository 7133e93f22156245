/**
 * Answers with the workers' OtpCatalog (profiles, locales, channels) and ends:
 * one local activity reads the worker's profile store, so a client learns what
 * the workers polling its task queue know, and fails like a send when none poll.
 */
import { ApplicationFailure, proxyLocalActivities, workflowInfo } from '@temporalio/workflow';
import { CATALOG_WORKFLOW_ID_PREFIX, type OtpCatalog } from '../contract';
import type { OtpActivities } from '../activities/types';

const { describeCatalog } = proxyLocalActivities<OtpActivities>({ startToCloseTimeout: '5 seconds', retry: { maximumAttempts: 3 } });

export async function otpCatalog(): Promise<OtpCatalog> {
  // Only under its own ids: started under a session's id (to squat it) it fails at once.
  if (!workflowInfo().workflowId.startsWith(CATALOG_WORKFLOW_ID_PREFIX)) {
    throw ApplicationFailure.create({ type: 'InvalidRequest', message: `catalog workflow ids start with "${CATALOG_WORKFLOW_ID_PREFIX}"`, nonRetryable: true });
  }
  return describeCatalog();
}
