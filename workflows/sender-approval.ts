/**
 * A tenant's sender approvals (issue 12). Its history is the immutable trail: every proposal
 * and decision is an update with who, when, the previous revision and the content hash.
 * Validators refuse what may not happen (self-approval, unknown revision, wrong state, plain
 * payloads) so it never enters history. Workers read the trail with the `revisions` query into
 * their cache (activities/sender-approvals.ts); no send waits for this workflow.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import {
  SENDER_APPROVAL_WORKFLOW_ID_PREFIX,
  approveRevisionUpdate,
  isUnencrypted,
  proposeRevisionUpdate,
  rejectRevisionUpdate,
  revisionsQuery,
  type SenderApprovalInput,
  type SenderRevision,
  type SenderRevisionContent,
} from '../contract';
import { ApprovalError, applyDecision, applyProposal, checkDecision, checkProposal } from '../policy/approval';
import type { OtpActivities } from '../activities/types';

const { describeProfileRevision } = proxyLocalActivities<OtpActivities>({ startToCloseTimeout: '5 seconds', retry: { maximumAttempts: 3 } });

/** Continue-as-new after this many changes, to keep each run's history short. */
const DEFAULT_CHANGES_PER_RUN = 500;

/** Rules broken by the request: a typed, non-retryable failure the caller sees (OtpRequestError.type). */
function typed<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ApprovalError) throw ApplicationFailure.create({ type: err.type, message: err.message, nonRetryable: true });
    throw err;
  }
}

/** Only holders of the payload keys write the trail: a plain payload is refused. */
function encrypted(req: unknown): void {
  if (isUnencrypted(req) || typeof req !== 'object' || req === null)
    throw ApplicationFailure.create({ type: 'InvalidRequest', message: 'an encrypted request object is required', nonRetryable: true });
}

export async function otpSenderApproval(input: SenderApprovalInput): Promise<void> {
  // Started under another id (a session's, to squat it), it ends at once.
  if (!workflowInfo().workflowId.startsWith(SENDER_APPROVAL_WORKFLOW_ID_PREFIX) || isUnencrypted(input)) return;
  // Carried state is signed by the workers (codec/carried-state-codec.ts): a trail handed in by anyone else is refused.
  if (input.carriedRefused)
    throw ApplicationFailure.create({ type: 'InvalidRequest', message: 'carried approval state without a valid worker signature', nonRetryable: true });
  const trail: SenderRevision[] = Array.isArray(input.carried) ? input.carried : [];
  const perRun = input.changesPerRun ?? DEFAULT_CHANGES_PER_RUN;
  let changes = 0;
  const now = () => new Date(Date.now()).toISOString();

  setHandler(
    proposeRevisionUpdate,
    async (req) => {
      const { profile, by, note } = typed(() => checkProposal(req));
      let content: SenderRevisionContent;
      try {
        // What the workers have for the profile now: the proposer cannot name a hash of its own.
        content = await describeProfileRevision({ profile });
      } catch (err) {
        const cause = err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause : undefined;
        if (cause) throw ApplicationFailure.create({ type: cause.type ?? 'InvalidRequest', message: cause.message, nonRetryable: true });
        throw err;
      }
      changes++;
      return applyProposal(trail, content, by, now(), note);
    },
    {
      validator: (req) => {
        encrypted(req);
        typed(() => checkProposal(req));
      },
    },
  );

  for (const [update, decision] of [
    [approveRevisionUpdate, 'approve'],
    [rejectRevisionUpdate, 'reject'],
  ] as const) {
    setHandler(
      update,
      (req) => {
        // Checked again: another update may have decided it since the validator ran.
        const { record, by, note } = typed(() => checkDecision(trail, req, decision));
        changes++;
        return applyDecision(record, decision, by, now(), note);
      },
      {
        validator: (req) => {
          encrypted(req);
          typed(() => checkDecision(trail, req, decision));
        },
      },
    );
  }

  setHandler(revisionsQuery, (q) => (typeof q?.profile === 'string' ? trail.filter((r) => r.profile === q.profile) : trail));

  // Runs for as long as the tenant exists; a long trail moves on to a new run with the same state.
  await condition(() => changes >= perRun || workflowInfo().continueAsNewSuggested);
  await condition(allHandlersFinished);
  await continueAsNew<typeof otpSenderApproval>({
    tenant: input.tenant,
    carried: trail,
    ...(input.changesPerRun !== undefined ? { changesPerRun: input.changesPerRun } : {}),
  });
}
