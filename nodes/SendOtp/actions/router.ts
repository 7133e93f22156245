import { NodeOperationError, type IExecuteFunctions, type INodeExecutionData, type IDataObject } from 'n8n-workflow';
import type { OtpClient } from '../../../client';
import { executionError, itemError, unanswered } from '../../shared/errors';
import { callTimeoutMs, defaultRegion, resultItem } from '../../shared/fields';
import { withOtpClient } from '../../shared/transport';
import { cancel } from './operations/cancel';
import { getStatus } from './operations/getStatus';
import { listRecentSends } from './operations/listRecentSends';
import { resend } from './operations/resend';
import { send } from './operations/send';
import { n8nIdentity, REVISION_OPERATIONS, senderRevision, type RevisionOperation } from './operations/senderRevision';

type Operation = (ctx: IExecuteFunctions, otp: OtpClient, i: number, phone: string) => Promise<IDataObject>;
const operations: Record<string, Operation> = { send, resend, cancel, getStatus };

function isRevisionOperation(operation: string): operation is RevisionOperation {
  return (REVISION_OPERATIONS as readonly string[]).includes(operation);
}

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

/** Runs the chosen operation for every item, with one Temporal connection per execution. */
export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
  const items = this.getInputData();
  const out: INodeExecutionData[] = [];
  // With "On Error: Continue", n8n would pass the input items on as if sent: a failure before the
  // items ran (credentials, connection) marks every item not yet answered as failed instead.
  const failed = await withOtpClient(this, async (base) => {
    for (let i = 0; i < items.length; i++) {
      try {
        const operation = this.getNodeParameter('operation', i) as string;
        const run = operations[operation];
        if (!run && !isRevisionOperation(operation) && operation !== 'listRecentSends')
          throw new NodeOperationError(this.getNode(), `Unknown operation "${operation}"`, { itemIndex: i });
        const bounded = base.withCallTimeout(callTimeoutMs(this, i));
        if (operation === 'listRecentSends') {
          out.push(resultItem(this, i, await listRecentSends(this, bounded, i)));
          continue;
        }
        if (isRevisionOperation(operation)) {
          out.push(resultItem(this, i, await senderRevision(this, bounded, i, operation, await n8nIdentity(this))));
          continue;
        }
        const region = defaultRegion(this, i);
        const otp = region ? bounded.withDefaultRegion(region) : bounded;
        const phone = String(this.getNodeParameter('phone', i) ?? '');
        // A broken expression (empty phone) is the flow's error, not an "invalid_number" answer.
        if (!phone.trim())
          throw new NodeOperationError(this.getNode(), 'Phone is empty: map the number to send the code to (e.g. {{ $json.phone }})', { itemIndex: i });
        out.push(resultItem(this, i, await run(this, otp, i, phone)));
      } catch (err) {
        if (this.continueOnFail()) {
          out.push({ json: failedItem(this, i, (err as Error).message), pairedItem: { item: i } });
          continue;
        }
        throw itemError(this, err, i);
      }
    }
  }).then(
    () => undefined,
    (reason: unknown) => executionError(this, reason),
  );
  if (failed) {
    if (!this.continueOnFail()) throw failed;
    for (const i of unanswered(items, out)) out.push({ json: failedItem(this, i, failed.message), pairedItem: { item: i } });
  }
  return [out];
}
