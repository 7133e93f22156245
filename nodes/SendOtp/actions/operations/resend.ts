import { NodeOperationError, type IDataObject, type IExecuteFunctions } from 'n8n-workflow';
import type { OtpClient } from '../../../../client';
import { sendOptions, sendResult } from './send';

/** A send that insists on an existing session, so a typo in the number cannot start a new one. */
export async function resend(ctx: IExecuteFunctions, otp: OtpClient, i: number, phone: string): Promise<IDataObject> {
  const options = sendOptions(ctx, i);
  const status = await otp.status(phone, { tenant: options.tenant });
  if (!status) {
    throw new NodeOperationError(ctx.getNode(), 'No open session for this number, so there is nothing to resend', {
      itemIndex: i,
      description: 'Use the Send operation first. Sessions close 24 hours after their last send.',
    });
  }
  return sendResult(ctx, await otp.send(phone, options));
}
