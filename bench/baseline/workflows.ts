/** The baselines' workflows, one module for the worker's bundle: the least-durable send (here) and login (login-workflow.ts). */
import { allHandlersFinished, condition, proxyLocalActivities, setHandler } from '@temporalio/workflow';
import { baselineSendUpdate } from './contract';
import type { BaselineActivities } from './activities';

export { leastDurableLogin } from './login-workflow';

const { submitSms } = proxyLocalActivities<BaselineActivities>({ startToCloseTimeout: '10 seconds' });

/** No timers, no receipts, no state kept. */
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
