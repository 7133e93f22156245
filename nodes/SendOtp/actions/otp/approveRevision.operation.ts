import type { IDataObject, IExecuteFunctions, INodeProperties, INodePropertyOptions } from 'n8n-workflow';
import type { OtpClient } from '../../../../client';
import { n8nIdentity, senderRevision } from '../../helpers/senderRevision';
import { contentHash, revisionIdentityNotice, revisionNote, revisionProfile, revisionTenant } from '../common.descriptions';

export const option: INodePropertyOptions = {
  name: 'Approve Sender Revision',
  value: 'approveRevision',
  action: 'Approve a sender revision',
  description: 'Let a proposed revision send. Refused when this identity proposed it.',
};

export const description: INodeProperties[] = [revisionTenant, revisionProfile, contentHash, revisionNote, revisionIdentityNotice];

export async function execute(ctx: IExecuteFunctions, otp: OtpClient, i: number): Promise<IDataObject> {
  return senderRevision(ctx, otp, i, 'approveRevision', await n8nIdentity(ctx));
}
