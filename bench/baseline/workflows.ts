/** The least-durable baseline's workflow (see contract.ts). No timers, no receipts, no state kept. */
import { allHandlersFinished, condition, proxyLocalActivities, setHandler } from '@temporalio/workflow';
import { baselineSendUpdate } from './contract';
import type { BaselineActivities } from './activities';

const { submitSms } = proxyLocalActivities<BaselineActivities>({ startToCloseTimeout: '10 seconds' });

export async function leastDurableSend(): Promise<void> {
  let done = false;
  setHandler(baselineSendUpdate, async (req) => {
    const messageId = await submitSms(req.phone, req.text);
    done = true;
    return { messageId };
  });
  // Close as soon as the one send has been answered.
  await condition(() => done && allHandlersFinished());
}
