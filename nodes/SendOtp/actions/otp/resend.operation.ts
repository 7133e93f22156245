import { NodeOperationError, type IDataObject, type IExecuteFunctions, type INodeProperties, type INodePropertyOptions } from 'n8n-workflow';
import type { OtpClient } from '../../../../client';
import { sessionPhone } from '../../helpers/session';
import { sendingFields, sessionFields } from '../common.descriptions';
import { sendOptions, sendResult } from './send.operation';

export const option: INodePropertyOptions = {
  name: 'Resend',
  value: 'resend',
  action: 'Resend a verification code',
  description: 'Send again to a number that already has a session, under the resend rules (cooldown, limits)',
};

export const description: INodeProperties[] = [...sessionFields, ...sendingFields];

/** A send that insists on an existing session, so a typo in the number cannot start a new one. */
export async function execute(ctx: IExecuteFunctions, client: OtpClient, i: number): Promise<IDataObject> {
  const { otp, phone } = sessionPhone(ctx, client, i);
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
