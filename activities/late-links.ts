/**
 * Late submit_sm_resp. A part whose answer had not come back when the submit
 * returned was given to the session under a stand-in id (or, with
 * resubmitInDoubt, under the id of the copy sent again). When the SMSC's
 * answer comes after all, its message id is linked in its durable mailbox to
 * that id, so the receipt reaches the session as a receipt for the part it
 * knows. Late answers are rare: a mailbox per late message costs little.
 */
import type { Client } from '@temporalio/client';
import { RECEIPT_MAILBOX_WORKFLOW, mailboxSubmittedSignal, receiptMailboxId } from '../contract';
import type { SmscRoute, SubmittedMessage } from '../smpp/smsc';

/** Time kept inside the activity's timeout after the submit, to link its ids and answer. */
export const SUBMIT_LINK_MARGIN_MS = 1500;

/** When a submit must end so that the activity that makes it never times out (and is never retried) while it runs. */
export function submitDeadline(info: { currentAttemptScheduledTimestampMs: number; startToCloseTimeoutMs: number }): number {
  return info.currentAttemptScheduledTimestampMs + info.startToCloseTimeoutMs - SUBMIT_LINK_MARGIN_MS;
}

export class LateLinks {
  /** route + the id a session knows → the SMSC's id, once its late answer came (for claim() before a retry). */
  private readonly aliases = new Map<string, string>();
  readonly stats = { linked: 0, failures: 0 };

  constructor(
    private readonly deps: { client: Client; taskQueue: string },
    private readonly maxEntries = 10_000,
  ) {}

  /** Links each late answer, when it comes, to the part's id the session holds. */
  follow(route: SmscRoute, late: SubmittedMessage['late'], link: { sessionWorkflowId: string; codeSeq: number }): void {
    for (const { messageId, answer } of late) {
      void answer.then(async (a) => {
        if (a.kind !== 'accepted' || a.messageId === messageId) return;
        this.aliases.set(`${route.name}\u0000${messageId}`, a.messageId);
        if (this.aliases.size > this.maxEntries) this.aliases.delete(this.aliases.keys().next().value as string);
        try {
          await this.deps.client.workflow.signalWithStart(RECEIPT_MAILBOX_WORKFLOW, {
            workflowId: receiptMailboxId(route.name, route.submitKey(a.messageId)),
            taskQueue: this.deps.taskQueue,
            signal: mailboxSubmittedSignal,
            signalArgs: [{ ...link, messageId }],
          });
          this.stats.linked++;
        } catch (err) {
          this.stats.failures++;
          console.warn(`[receipts] late submit_sm_resp on route ${route.name} not linked: ${err instanceof Error ? err.message : String(err)}`);
        }
      });
    }
  }

  /** The SMSC's id behind an id a session holds, when a late answer gave one. */
  resolve(route: string, messageId: string): string {
    return this.aliases.get(`${route}\u0000${messageId}`) ?? messageId;
  }
}
