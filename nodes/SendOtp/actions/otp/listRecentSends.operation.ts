/**
 * Recipients listing (issue 12, as the seed's recipients API): the tenant's recent sessions with
 * their delivery and verification state, one page per item, for backends and flows that poll.
 */
import type { IDataObject, IExecuteFunctions, INodeProperties, INodePropertyOptions } from 'n8n-workflow';
import { MAX_RECENT_PAGE_SIZE, OTP_SEARCH_STATUSES, type OtpClient } from '../../../../client';

const RECENT = { operation: ['listRecentSends'] };

export const option: INodePropertyOptions = {
  name: 'List Recent Sends',
  value: 'listRecentSends',
  action: 'List recent sends',
  description: "The tenant's recent sessions, newest first, with masked number, delivery and verification state; a page per run",
};

export const description: INodeProperties[] = [
  {
    displayName: 'Tenant',
    name: 'recentTenant',
    type: 'string',
    default: 'default',
    description: 'Whose sessions to list',
    displayOptions: { show: RECENT },
  },
  {
    displayName: 'Profile',
    name: 'recentProfile',
    type: 'string',
    default: '',
    placeholder: 'login',
    description: 'Only sessions of this profile; empty for all',
    displayOptions: { show: RECENT },
  },
  {
    displayName: 'Status',
    name: 'recentStatus',
    type: 'options',
    default: '',
    options: [{ name: 'Any', value: '' }, ...OTP_SEARCH_STATUSES.map((s) => ({ name: s.charAt(0).toUpperCase() + s.slice(1), value: s }))],
    description: 'Only sessions in this state',
    displayOptions: { show: RECENT },
  },
  {
    displayName: 'Limit',
    name: 'recentLimit',
    type: 'number',
    default: 50,
    typeOptions: { minValue: 1, maxValue: MAX_RECENT_PAGE_SIZE },
    description: 'Max number of results to return',
    displayOptions: { show: RECENT },
  },
  {
    displayName: 'Next Page',
    name: 'recentNextPage',
    type: 'string',
    default: '',
    description: 'For the next page: the nextPageToken the previous run returned; empty for the newest',
    displayOptions: { show: RECENT },
  },
];

export async function execute(ctx: IExecuteFunctions, otp: OtpClient, i: number): Promise<IDataObject> {
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
