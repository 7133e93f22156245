import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';
import type { OtpClient } from '../../../../client';

export async function cancel(ctx: IExecuteFunctions, otp: OtpClient, i: number, phone: string): Promise<IDataObject> {
  const tenant = String(ctx.getNodeParameter('tenant', i, 'default') ?? '').trim() || undefined;
  return { ...(await otp.cancel(phone, { tenant })) };
}
