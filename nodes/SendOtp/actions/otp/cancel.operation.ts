import type { IDataObject, IExecuteFunctions, INodeProperties, INodePropertyOptions } from 'n8n-workflow';
import type { OtpClient } from '../../../../client';
import { itemTenant } from '../../../shared/helpers/item';
import { sessionPhone } from '../../helpers/session';
import { sessionFields } from '../common.descriptions';

export const option: INodePropertyOptions = {
  name: 'Cancel',
  value: 'cancel',
  action: 'Cancel a verification code',
  description: 'Stop the current code from verifying and from being re-sent',
};

export const description: INodeProperties[] = [...sessionFields];

export async function execute(ctx: IExecuteFunctions, client: OtpClient, i: number): Promise<IDataObject> {
  const { otp, phone } = sessionPhone(ctx, client, i);
  return { ...(await otp.cancel(phone, { tenant: itemTenant(ctx, i) })) };
}
