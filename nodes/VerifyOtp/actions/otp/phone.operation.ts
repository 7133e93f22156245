import type { IExecuteFunctions, INodeProperties, INodePropertyOptions } from 'n8n-workflow';
import type { OtpClient, PublicVerifyResult, VerifyOtpResult } from '../../../../client';
import { phoneFields } from '../../../shared/common.descriptions';
import { itemPhone, itemTenant } from '../../../shared/helpers/item';
import type { VerifyRequest } from '../../helpers/interfaces';

export const option: INodePropertyOptions = { name: 'Phone', value: 'phone', description: 'The number the code was sent to' };

/** Default Region is a country list from version 1.1 on; version 1 keeps its text field. */
export const description: INodeProperties[] = phoneFields('Number the code was sent to', { verifyBy: ['phone'] }, 1.1);

export async function execute(ctx: IExecuteFunctions, client: OtpClient, i: number, request: VerifyRequest): Promise<VerifyOtpResult | PublicVerifyResult> {
  const { otp, phone } = itemPhone(ctx, client, i, 'Phone is empty: map the number the code was sent to');
  // A number that cannot be read is the flow's error, named, not an Invalid answer that looks like an unknown number.
  otp.normalize(phone);
  const { code, ...options } = request;
  return otp.verify(phone, code, { tenant: itemTenant(ctx, i), ...options });
}
