/**
 * Recipients listing (issue 12, as the seed's recipients API): the tenant's recent sessions with
 * their delivery and verification state, one page per item, for backends and flows that poll.
 */
import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';
import type { OtpClient } from '../../../../client';

export async function listRecentSends(ctx: IExecuteFunctions, otp: OtpClient, i: number): Promise<IDataObject> {
  const text = (name: string) => String(ctx.getNodeParameter(name, i, '') ?? '').trim() || undefined;
  const page = await otp.recentSends({
    tenant: text('recentTenant'),
    profile: text('recentProfile'),
    status: text('recentStatus'),
    pageSize: ctx.getNodeParameter('recentLimit', i, 20) as number,
    pageToken: text('recentNextPage'),
  });
  return { sends: page.sends.map((s) => ({ ...s })), nextPageToken: page.nextPageToken };
}
