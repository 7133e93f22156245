/**
 * One mailbox per SMSC message id (route + canonical id), for the messages
 * the worker's fast path cannot pair (activities/receipt-links.ts): started
 * with signal-with-start by the side that links the message to its session
 * ("submitted") and by the receipt listener ("receipt"). Whichever arrives
 * first starts it, so a receipt that lands on another worker, or arrives
 * after a worker restart, still reaches its session.
 */
import { condition, getExternalWorkflowHandle, log, setHandler, workflowInfo } from '@temporalio/workflow';
import {
  isUnencrypted,
  deliveryReceiptSignal,
  mailboxReceiptSignal,
  mailboxReceiptsQuery,
  mailboxSubmittedSignal,
  type DeliveryReceipt,
  type MailboxSubmitted,
} from '../contract';

/** A receipt whose submit never shows up in this long belongs to no message of ours. */
const WAIT_FOR_SUBMIT = '15 minutes';
/** Receipts may trail the submit by the message's validity period (≤ 24 h) and then some. */
const WAIT_FOR_RECEIPTS = '2 days';

export async function deliveryReceiptMailbox(): Promise<void> {
  // Started under another id (a session's, to squat it), it ends at once: sends then start their session.
  if (!workflowInfo().workflowId.startsWith('dlr-')) return;
  let submitted: MailboxSubmitted | undefined;
  const receipts: DeliveryReceipt[] = [];
  // Plain payloads come from someone without the keys: never a link or a receipt.
  setHandler(mailboxSubmittedSignal, (s) => {
    if (isUnencrypted(s) || typeof s?.sessionWorkflowId !== 'string') return;
    submitted ??= s;
  });
  setHandler(mailboxReceiptSignal, (r) => {
    if (isUnencrypted(r) || typeof r?.messageId !== 'string') return;
    receipts.push(r);
  });
  // A session about to retry asks what is here (activities/receipt-links.ts claim()).
  setHandler(mailboxReceiptsQuery, () => receipts);

  let forwarded = 0;
  let final = false;
  while (!final) {
    const waitingForSubmit = submitted === undefined && receipts.length > 0;
    const ready = await condition(() => submitted !== undefined && receipts.length > forwarded, waitingForSubmit ? WAIT_FOR_SUBMIT : WAIT_FOR_RECEIPTS);
    if (!ready || !submitted) {
      if (!submitted) log.warn('receipt for an unknown message id: no submit matched it', { receipts: receipts.length, stat: receipts[0]?.stat });
      else log.info('receipt mailbox closed without a final receipt', { receipts: receipts.length });
      return;
    }
    const session = getExternalWorkflowHandle(submitted.sessionWorkflowId);
    while (forwarded < receipts.length) {
      const r = receipts[forwarded++];
      try {
        // Forward under the submit-side id: the session knows its messages by that id.
        await session.signal(deliveryReceiptSignal, { ...r, messageId: submitted.messageId, codeSeq: submitted.codeSeq });
      } catch (err) {
        // The session already finished: the receipt is still in this history for audit.
        log.info('session gone; receipt kept in mailbox only', { messageId: r.messageId, error: String(err) });
      }
      if (r.outcome !== 'pending') final = true;
    }
  }
}
