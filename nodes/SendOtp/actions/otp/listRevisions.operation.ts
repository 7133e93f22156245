import type { IDataObject, IExecuteFunctions, INodeProperties, INodePropertyOptions } from 'n8n-workflow';
import type { OtpClient } from '../../../../client';
import { n8nIdentity, senderRevision } from '../../helpers/senderRevision';
import { revisionIdentityNotice, revisionProfile, revisionTenant } from '../common.descriptions';

export const option: INodePropertyOptions = {
  name: 'List Sender Revisions',
  value: 'listRevisions',
  action: 'List sender revisions',
  description: "The profile's approval trail: who proposed and decided each revision, when, and its content hash",
};

export const description: INodeProperties[] = [revisionTenant, revisionProfile, revisionIdentityNotice];

export async function execute(ctx: IExecuteFunctions, otp: OtpClient, i: number): Promise<IDataObject> {
  return senderRevision(ctx, otp, i, 'listRevisions', await n8nIdentity(ctx));
}
