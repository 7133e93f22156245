import { NodeOperationError, type IExecuteFunctions, type INodeExecutionData, type IDataObject } from 'n8n-workflow';
import { OtpClient, OtpRequestError } from '../../../client';
import { InvalidPhoneError } from '../../../contract/keys';
import { withOtpClient } from '../../shared/transport';
import { cancel } from './operations/cancel';
import { getStatus } from './operations/getStatus';
import { resend } from './operations/resend';
import { send } from './operations/send';

type Operation = (ctx: IExecuteFunctions, otp: OtpClient, i: number, phone: string) => Promise<IDataObject>;
const operations: Record<string, Operation> = { send, resend, cancel, getStatus };

/** Runs the chosen operation for every item, with one Temporal connection per execution. */
export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
  const items = this.getInputData();
  const out: INodeExecutionData[] = [];
  await withOtpClient(this, async (base) => {
    for (let i = 0; i < items.length; i++) {
      try {
        const operation = this.getNodeParameter('operation', i) as string;
        const run = operations[operation];
        if (!run) throw new NodeOperationError(this.getNode(), `Unknown operation "${operation}"`, { itemIndex: i });
        const region = (this.getNodeParameter('defaultRegion', i, '') as string).trim().toUpperCase() || undefined;
        const otp = region ? base.withDefaultRegion(region) : base;
        const phone = String(this.getNodeParameter('phone', i) ?? '');
        // A broken expression (empty phone) is the flow's error, not an "invalid_number" answer.
        if (!phone.trim()) throw new NodeOperationError(this.getNode(), 'Phone is empty: map the number to send the code to (e.g. {{ $json.phone }})', { itemIndex: i });
        out.push({ json: await run(this, otp, i, phone), pairedItem: { item: i } });
      } catch (err) {
        if (this.continueOnFail()) {
          out.push({ json: { error: (err as Error).message }, pairedItem: { item: i } });
          continue;
        }
        const known = err instanceof NodeOperationError || err instanceof OtpRequestError || err instanceof InvalidPhoneError;
        throw new NodeOperationError(this.getNode(), known ? (err as Error).message : `Temporal OTP request failed: ${(err as Error).message}`, {
          itemIndex: i,
          description: err instanceof NodeOperationError ? (err.description ?? undefined) : undefined,
        });
      }
    }
  });
  return [out];
}
