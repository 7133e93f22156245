/**
 * The least-durable login (see contract.ts): the least-durable send, then the
 * workflow waits for the receipt signal and the verify update and ends. No
 * timers, no search attributes, no codec beyond the payload one, no sealing:
 * the code is compared in plain memory.
 */
import { allHandlersFinished, condition, proxyLocalActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import { loginReceiptSignal, loginReceiptsQuery, loginSendUpdate, loginVerifyUpdate, type RecordedLoginReceipt } from './contract';
import type { BaselineActivities } from './activities';

const { submitLoginSms } = proxyLocalActivities<BaselineActivities>({ startToCloseTimeout: '10 seconds' });

interface Issued {
  code: string;
  messageId: string;
  verified: boolean;
}

export async function leastDurableLogin(): Promise<void> {
  const issued: Issued[] = [];
  // By message id, not on the issued entry: a receipt's signal can be handled before the send's activity result.
  const finalReceipts = new Set<string>();
  const recorded: RecordedLoginReceipt[] = [];
  setHandler(loginSendUpdate, async (req) => {
    const messageId = await submitLoginSms(workflowInfo().workflowId, req.phone, req.text);
    issued.push({ code: req.code, messageId, verified: false });
    return { messageId };
  });
  setHandler(loginReceiptSignal, (r) => {
    recorded.push({ at: new Date().toISOString(), messageId: r.messageId });
    if (r.final) finalReceipts.add(r.messageId);
  });
  setHandler(loginVerifyUpdate, (req) => {
    const match = issued.find((i) => !i.verified && i.code === req.code);
    if (match) match.verified = true;
    return { valid: match !== undefined };
  });
  setHandler(loginReceiptsQuery, () => recorded);
  // Ends once every code sent has its final receipt and has been verified.
  await condition(() => issued.length > 0 && issued.every((i) => i.verified && finalReceipts.has(i.messageId)) && allHandlersFinished());
}
