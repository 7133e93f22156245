/**
 * One mailbox per SMSC message id, started with signal-with-start by both the
 * submitting activity ("submitted": which session and code) and the receipt
 * listener ("receipt"). Whichever arrives first starts it, so a receipt that
 * beats its submit_resp, lands on another bind or another worker, or arrives
 * after a worker restart still reaches its session. Nothing lives in process memory.
 */
import { condition, getExternalWorkflowHandle, log, setHandler } from '@temporalio/workflow';
import {
  deliveryReceiptSignal,
  mailboxReceiptSignal,
  mailboxSubmittedSignal,
  type DeliveryReceipt,
  type MailboxSubmitted,
} from '../contract';

/** How long a mailbox waits for its other half before giving up. */
const WAIT_FOR_PAIR = '2 days';

export async function deliveryReceiptMailbox(): Promise<void> {
  let submitted: MailboxSubmitted | undefined;
  const receipts: DeliveryReceipt[] = [];
  setHandler(mailboxSubmittedSignal, (s) => {
    submitted ??= s;
  });
  setHandler(mailboxReceiptSignal, (r) => {
    receipts.push(r);
  });

  let forwarded = 0;
  let final = false;
  while (!final) {
    const ready = await condition(() => submitted !== undefined && receipts.length > forwarded, WAIT_FOR_PAIR);
    if (!ready || !submitted) {
      log.warn('receipt mailbox timed out', { submitted: submitted !== undefined, receipts: receipts.length });
      return;
    }
    const session = getExternalWorkflowHandle(submitted.sessionWorkflowId);
    while (forwarded < receipts.length) {
      const r = receipts[forwarded++];
      try {
        await session.signal(deliveryReceiptSignal, { ...r, codeSeq: submitted.codeSeq });
      } catch (err) {
        // The session already finished: the receipt is still in this history for audit.
        log.info('session gone; receipt kept in mailbox only', { messageId: r.messageId, error: String(err) });
      }
      if (r.outcome !== 'pending') final = true;
    }
  }
}
