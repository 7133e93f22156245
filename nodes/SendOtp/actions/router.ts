import { NodeOperationError, type IDataObject, type IExecuteFunctions, type INodeExecutionData } from 'n8n-workflow';
import { answerItems } from '../../shared/helpers/errors';
import { callTimeoutMs, resultItem } from '../../shared/helpers/item';
import { operations } from './otp';

/**
 * What "On Error: Continue" puts out for a failed item: in version 2 named like Verify OTP's
 * (`sent: false, outcome: "error"`). "Continue (using error output)" routes only items holding
 * nothing but `error` to the error output, so there it is `error` alone.
 */
function failedItem(ctx: IExecuteFunctions, i: number, message: string): IDataObject {
  if (ctx.getNode().typeVersion < 2 || ctx.getNode().onError === 'continueErrorOutput') return { error: message };
  const operation = ctx.getNodeParameter('operation', i, 'send') as string;
  return operation === 'send' || operation === 'resend' ? { sent: false, outcome: 'error', error: message } : { outcome: 'error', error: message };
}

/** Runs each item's operation, on one Temporal connection per execution; a failure is never passed on as sent. */
export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
  const answers = await answerItems(
    this,
    async (otp, i) => {
      const operation = this.getNodeParameter('operation', i) as string;
      if (!Object.hasOwn(operations, operation)) throw new NodeOperationError(this.getNode(), `Unknown operation "${operation}"`, { itemIndex: i });
      const result = await operations[operation].execute(this, otp.withCallTimeout(callTimeoutMs(this, i)), i);
      return { output: 0, item: resultItem(this, i, result) };
    },
    (i, message) => ({ output: 0, item: { json: failedItem(this, i, message), pairedItem: { item: i } } }),
  );
  return [answers.map((a) => a.item)];
}
