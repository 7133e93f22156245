/**
 * Activities, built by a factory that closes over what the worker process
 * owns: the SMPP binds, a Temporal client and the keys.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { RECEIPT_MAILBOX_WORKFLOW, mailboxSubmittedSignal, receiptMailboxId } from '../contract';
import { codeDigest } from '../contract/keys';
import { SmppPermanentError } from '../smpp/errors';
import type { SmscClient } from '../smpp/smsc';
import { deriveCode } from './code';
import { renderMessage } from './message';
import type { DispatchCodeInput, DispatchCodeResult, OtpActivities } from './types';

export type { DispatchCodeInput, DispatchCodeResult, OtpActivities } from './types';

export interface ActivityDeps {
  smsc: SmscClient;
  client: Client;
  taskQueue: string;
  codeKey: string;
  hashKey: string;
  /** Brand used when a send names none. */
  brand: string;
}

export function createActivities(deps: ActivityDeps): OtpActivities {
  return {
    async dispatchCode(input: DispatchCodeInput): Promise<DispatchCodeResult> {
      const code = deriveCode(deps.codeKey, input.sessionWorkflowId, input.nonce, input.codeLength);
      const text = renderMessage({ brand: input.brand ?? deps.brand, code, ttlSeconds: input.ttlSeconds });
      const remainingSeconds = Math.ceil((input.expiresAtMs - Date.now()) / 1000);
      let submitted;
      try {
        submitted = await deps.smsc.submitText(input.phone, text, remainingSeconds);
      } catch (err) {
        if (err instanceof SmppPermanentError) {
          throw ApplicationFailure.create({ type: 'SmppPermanentError', message: err.message, nonRetryable: true });
        }
        throw err;
      }
      // Link every segment's message id to this session durably, before we
      // report success: the receipt may already be waiting in its mailbox.
      await Promise.all(
        submitted.messageIds.map((messageId) =>
          deps.client.workflow.signalWithStart(RECEIPT_MAILBOX_WORKFLOW, {
            workflowId: receiptMailboxId(deps.smsc.name, messageId),
            taskQueue: deps.taskQueue,
            signal: mailboxSubmittedSignal,
            signalArgs: [{ sessionWorkflowId: input.sessionWorkflowId, codeSeq: input.codeSeq }],
          }),
        ),
      );
      Context.current().log.info('code dispatched', { codeSeq: input.codeSeq, segments: submitted.segments, messageIds: submitted.messageIds });
      return {
        codeDigest: codeDigest(deps.hashKey, input.sessionWorkflowId, code),
        messageIds: submitted.messageIds,
        segments: submitted.segments,
        encoding: submitted.encoding,
        delivery: 'submitted',
      };
    },
  };
}
