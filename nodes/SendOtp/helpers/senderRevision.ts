/**
 * Sender approval (issue 12), what its four operations share: propose the profile revision the workers
 * have now, approve or reject one (another identity than its proposer's), or list the trail. The
 * identity is the credential's Identity field, else this flow (`n8n-flow:<workflow id>`).
 */
import { NodeOperationError, type IDataObject, type IExecuteFunctions } from 'n8n-workflow';
import type { OtpClient, SenderRevision } from '../../../client';
import { itemTenant } from '../../shared/helpers/item';
import type { TemporalOtpCredentials } from '../../shared/transport';

export type RevisionOperation = 'proposeRevision' | 'approveRevision' | 'rejectRevision' | 'listRevisions';
export const REVISION_OPERATIONS: readonly RevisionOperation[] = ['proposeRevision', 'approveRevision', 'rejectRevision', 'listRevisions'];

/** Who acts: set per credential by whoever administers n8n, so a flow's builder cannot pick a name per item. */
export async function n8nIdentity(ctx: IExecuteFunctions): Promise<string> {
  const creds = (await ctx.getCredentials('temporalOtpApi')) as unknown as TemporalOtpCredentials;
  return creds.identity?.trim() || `n8n-flow:${ctx.getWorkflow().id ?? 'unsaved'}`;
}

function revisionItem(r: SenderRevision): IDataObject {
  return { ...r, templates: { ...r.templates } };
}

export async function senderRevision(ctx: IExecuteFunctions, otp: OtpClient, i: number, operation: RevisionOperation, by: string): Promise<IDataObject> {
  const tenant = itemTenant(ctx, i);
  const profile = String(ctx.getNodeParameter('revisionProfile', i, 'login') ?? '').trim();
  if (!profile) throw new NodeOperationError(ctx.getNode(), 'Profile is empty: name the profile whose revision this is', { itemIndex: i });
  if (operation === 'listRevisions')
    return { tenant: tenant ?? 'default', profile, revisions: (await otp.senderRevisions({ tenant, profile })).map(revisionItem) };
  const note = String(ctx.getNodeParameter('revisionNote', i, '') ?? '').trim() || undefined;
  const options = { tenant, by, note };
  if (operation === 'proposeRevision') return revisionItem(await otp.proposeRevision(profile, options));
  const hash = String(ctx.getNodeParameter('contentHash', i, '') ?? '').trim();
  if (!hash)
    throw new NodeOperationError(ctx.getNode(), 'Content Hash is empty: give the contentHash of the proposed revision (from Propose or List)', {
      itemIndex: i,
    });
  return revisionItem(operation === 'approveRevision' ? await otp.approveRevision(profile, hash, options) : await otp.rejectRevision(profile, hash, options));
}
