/** How the nodes turn failures into n8n errors or failed items: one mapping for Send OTP and Verify OTP. */
import { NodeApiError, NodeOperationError, type IExecuteFunctions, type INodeExecutionData } from 'n8n-workflow';
import { OtpRequestError, type OtpClient } from '../../../client';
import { InvalidPhoneError, InvalidTenantError } from '../../../contract/keys';
import { withOtpClient } from '../transport';

/** An item's failure: our own errors name the problem and are shown as written; anything else says where it came from. */
export function itemError(ctx: IExecuteFunctions, err: unknown, itemIndex: number): NodeOperationError {
  const known = err instanceof NodeOperationError || err instanceof OtpRequestError || err instanceof InvalidPhoneError || err instanceof InvalidTenantError;
  const message = (err as Error).message;
  return new NodeOperationError(ctx.getNode(), known ? message : `Temporal OTP request failed: ${message}`, {
    itemIndex,
    description: err instanceof NodeOperationError ? (err.description ?? undefined) : undefined,
  });
}

/** A failure before the items were decided (credentials, connection), as the node error n8n shows. */
export function executionError(ctx: IExecuteFunctions, reason: unknown): NodeOperationError | NodeApiError {
  return reason instanceof NodeOperationError || reason instanceof NodeApiError ? reason : new NodeOperationError(ctx.getNode(), reason as Error);
}

/** An item's answer, and the output it leaves on (Verify OTP: 0 Valid, 1 Invalid; Send OTP has only 0). */
export interface ItemAnswer {
  output: number;
  item: INodeExecutionData;
}

/** The indexes of the input items no answer covers yet (by pairedItem). */
function unanswered(items: INodeExecutionData[], answers: ItemAnswer[]): number[] {
  const done = new Set(answers.map((a) => (a.item.pairedItem as { item: number }).item));
  return items.map((_, i) => i).filter((i) => !done.has(i));
}

/**
 * Answers every input item in order, on one Temporal connection. Under "On Error: Continue" a failed
 * item gets `failed(i, message)`; otherwise its error stops the node. A failure before the items were
 * answered (credentials, connection) gives every unanswered item `failed` too: n8n would otherwise
 * pass the input items on as if they had succeeded (for Verify OTP, on Valid).
 */
export async function answerItems(
  ctx: IExecuteFunctions,
  answer: (otp: OtpClient, i: number) => Promise<ItemAnswer>,
  failed: (i: number, message: string) => ItemAnswer,
): Promise<ItemAnswer[]> {
  const items = ctx.getInputData();
  const answers: ItemAnswer[] = [];
  const failure = await withOtpClient(ctx, async (otp) => {
    for (let i = 0; i < items.length; i++) {
      try {
        answers.push(await answer(otp, i));
      } catch (err) {
        if (ctx.continueOnFail()) {
          answers.push(failed(i, (err as Error).message));
          continue;
        }
        throw itemError(ctx, err, i);
      }
    }
  }).then(
    () => undefined,
    (reason: unknown) => executionError(ctx, reason),
  );
  if (failure) {
    if (!ctx.continueOnFail()) throw failure;
    for (const i of unanswered(items, answers)) answers.push(failed(i, failure.message));
  }
  return answers;
}
