import type { IDataObject, IExecuteFunctions, INodeProperties, INodePropertyOptions } from 'n8n-workflow';
import type { OtpClient } from '../../../../client';
import { n8nIdentity, senderRevision } from '../../helpers/senderRevision';
import { revisionIdentityNotice, revisionNote, revisionProfile, revisionTenant } from '../common.descriptions';

export const option: INodePropertyOptions = {
  name: 'Propose Sender Revision',
  value: 'proposeRevision',
  action: 'Propose a sender revision for approval',
  description: "Propose the profile's sender, templates and rules as the workers have them now; another identity must approve them before they send",
};

export const description: INodeProperties[] = [revisionTenant, revisionProfile, revisionNote, revisionIdentityNotice];

export async function execute(ctx: IExecuteFunctions, otp: OtpClient, i: number): Promise<IDataObject> {
  return senderRevision(ctx, otp, i, 'proposeRevision', await n8nIdentity(ctx));
}
