import type { IDataObject, IExecuteFunctions, INodeProperties, INodePropertyOptions } from 'n8n-workflow';
import type { OtpClient } from '../../../../client';
import { itemTenant } from '../../../shared/helpers/item';
import { sessionPhone } from '../../helpers/session';
import { sessionFields } from '../common.descriptions';

export const option: INodePropertyOptions = {
  name: 'Get Status',
  value: 'getStatus',
  action: 'Get the status of a verification code',
  description: 'Delivery and verification state of the number’s session',
};

export const description: INodeProperties[] = [...sessionFields];

export async function execute(ctx: IExecuteFunctions, client: OtpClient, i: number): Promise<IDataObject> {
  const { otp, phone } = sessionPhone(ctx, client, i);
  const tenant = itemTenant(ctx, i);
  const status = await otp.status(phone, { tenant });
  return status ? { found: true, ...status } : { found: false, sessionId: otp.sessionId(phone, tenant) };
}
