import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';
import type { OtpClient } from '../../../../client';

export async function getStatus(ctx: IExecuteFunctions, otp: OtpClient, i: number, phone: string): Promise<IDataObject> {
  const tenant = String(ctx.getNodeParameter('tenant', i, 'default') ?? '').trim() || undefined;
  const status = await otp.status(phone, { tenant });
  return status ? { found: true, ...status } : { found: false, sessionId: otp.sessionId(phone, tenant) };
}
