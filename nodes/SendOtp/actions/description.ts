import type { INodeProperties } from 'n8n-workflow';
import { phoneFields, requestOptionFields } from '../../shared/fields';
import { REVISION_OPERATIONS } from './operations/senderRevision';
import { MAX_CODE_LENGTH, MAX_RECENT_PAGE_SIZE, MIN_CODE_LENGTH, OTP_SEARCH_STATUSES } from '../../../client';

/** Shown from typeVersion 2 on; version 1 keeps Channel and Profile inside Options. */
const V2 = { '@version': [{ _cnd: { gte: 2 } }] };
const V1 = { '@version': [1] };
const SENDING = { operation: ['send', 'resend'] };
const REVISIONS = { operation: [...REVISION_OPERATIONS] };
const DECIDING = { operation: ['approveRevision', 'rejectRevision'] };
const RECENT = { operation: ['listRecentSends'] };

/** Where a sent code goes, as the node offers it. */
export type Channel = 'sms' | 'webhook' | 'custom';

const channelV1: INodeProperties = {
  displayName: 'Channel',
  name: 'channel',
  type: 'options',
  options: [
    { name: 'SMS', value: 'sms', description: 'Send over your SMSC' },
    {
      name: 'Custom',
      value: 'custom',
      description: 'Send nothing: the code comes out of this node. Needs Stored Code Acknowledged and a profile with allowCustomChannel.',
    },
  ],
  default: 'sms',
  description: 'How the code reaches the user',
};

const customCodeLength: INodeProperties = {
  displayName: 'Code Length',
  name: 'customCodeLength',
  type: 'number',
  typeOptions: { minValue: MIN_CODE_LENGTH, maxValue: MAX_CODE_LENGTH },
  default: 6,
  description: 'Digits of the code made for your channel',
};

/** What n8n keeps of the custom channel's output: said where the builder chooses it. */
export const STORED_CODE_NOTICE =
  'This node\'s output carries the code in clear text, and n8n saves it with the execution (execution list, database) unless the workflow\'s settings save no execution data. Set Save Successful/Failed Production Executions to "Do Not Save", or use the Webhook channel, which keeps the code out of n8n.';

const storedCodeAcknowledged: INodeProperties = {
  displayName: 'Accept Code in Saved Executions',
  name: 'storedCodeAcknowledged',
  type: 'boolean',
  default: false,
  description:
    'Whether you accept that the code passes through this workflow and may be saved with its executions; the node refuses the Custom channel until you do',
};

/** Operations on a number's session: the ones that take a phone. */
const SESSION_OPERATIONS = ['send', 'resend', 'cancel', 'getStatus'];

/** Send OTP parameters, apart from execute (as in n8n's Postgres v2 node). */
export const sendOtpProperties: INodeProperties[] = [
  {
    displayName: 'Operation',
    name: 'operation',
    type: 'options',
    noDataExpression: true,
    options: [
      {
        name: 'Approve Sender Revision',
        value: 'approveRevision',
        action: 'Approve a sender revision',
        description: 'Let a proposed revision send. Refused when this identity proposed it.',
      },
      { name: 'Cancel', value: 'cancel', action: 'Cancel a verification code', description: 'Stop the current code from verifying and from being re-sent' },
      {
        name: 'Get Status',
        value: 'getStatus',
        action: 'Get the status of a verification code',
        description: 'Delivery and verification state of the number’s session',
      },
      {
        name: 'List Recent Sends',
        value: 'listRecentSends',
        action: 'List recent sends',
        description: "The tenant's recent sessions, newest first, with masked number, delivery and verification state; a page per run",
      },
      {
        name: 'List Sender Revisions',
        value: 'listRevisions',
        action: 'List sender revisions',
        description: "The profile's approval trail: who proposed and decided each revision, when, and its content hash",
      },
      {
        name: 'Propose Sender Revision',
        value: 'proposeRevision',
        action: 'Propose a sender revision for approval',
        description: "Propose the profile's sender, templates and rules as the workers have them now; another identity must approve them before they send",
      },
      {
        name: 'Reject Sender Revision',
        value: 'rejectRevision',
        action: 'Reject a sender revision',
        description: 'Refuse a proposed revision, or revoke an approved one; its sends are refused. Refused when this identity proposed it.',
      },
      {
        name: 'Resend',
        value: 'resend',
        action: 'Resend a verification code',
        description: 'Send again to a number that already has a session, under the resend rules (cooldown, limits)',
      },
      {
        name: 'Send',
        value: 'send',
        action: 'Send a verification code to a phone number',
        description:
          'Make a code and deliver it. Returns sent, outcome and expiresAt, or why not (outcome, retryAfterSeconds); never the code, except on the Custom channel.',
      },
    ],
    default: 'send',
  },
  ...phoneFields('Number to send the code to', { operation: SESSION_OPERATIONS }, 2),
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
  {
    displayName: 'Tenant',
    name: 'tenant',
    type: 'string',
    default: 'default',
    description: 'Whose sender approvals these are: each tenant approves its own revisions',
    displayOptions: { show: REVISIONS },
  },
  {
    displayName: 'Profile Name or ID',
    name: 'revisionProfile',
    type: 'options',
    typeOptions: { loadOptionsMethod: 'getProfiles' },
    default: 'login',
    displayOptions: { show: REVISIONS },
    description:
      'The profile whose revision this is. Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
  },
  {
    displayName: 'Content Hash',
    name: 'contentHash',
    type: 'string',
    default: '',
    required: true,
    placeholder: '3f2a9c0b1d4e…',
    displayOptions: { show: DECIDING },
    description: 'The contentHash of the revision (from Propose or List): all 64 hex digits, or a prefix of at least 8',
  },
  {
    displayName: 'Note',
    name: 'revisionNote',
    type: 'string',
    default: '',
    displayOptions: { show: { operation: ['proposeRevision', 'approveRevision', 'rejectRevision'] } },
    description: 'Why, for the approval trail (at most 500 characters)',
  },
  {
    displayName:
      "These operations act as the credential's Identity (or, without one, as this flow). The workers refuse an approval or rejection by the revision's proposer.",
    name: 'revisionIdentityNotice',
    type: 'notice',
    default: '',
    displayOptions: { show: REVISIONS },
  },
  {
    displayName: 'Profile Name or ID',
    name: 'profile',
    type: 'options',
    typeOptions: { loadOptionsMethod: 'getProfiles' },
    default: 'login',
    displayOptions: { show: { ...SENDING, ...V2 } },
    description:
      'Policy of the workers the code is made under: length, lifetime, limits, templates. Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
  },
  {
    displayName: 'Channel',
    name: 'channel',
    type: 'options',
    noDataExpression: true,
    options: [
      { name: 'SMS', value: 'sms', description: 'The workers send it over your SMSC, follow receipts and retry' },
      {
        name: 'Webhook (From the Workers)',
        value: 'webhook',
        description: "The workers POST it, signed, to the profile's deliveryWebhookUrl; it never passes through n8n",
      },
      {
        name: 'Custom (This Node Outputs It)',
        value: 'custom',
        description: 'Nothing is sent: the code comes out of this node for an email or chat node to deliver. n8n may save it.',
      },
    ],
    default: 'sms',
    displayOptions: { show: { ...SENDING, ...V2 } },
    description: 'How the code reaches the user',
  },
  {
    displayName:
      "The workers post the code to the URL set in the profile (deliveryWebhookUrl), signed with their callback key. The code is not in this node's output.",
    name: 'webhookNotice',
    type: 'notice',
    default: '',
    displayOptions: { show: { ...SENDING, channel: ['webhook'], ...V2 } },
  },
  {
    displayName: STORED_CODE_NOTICE,
    name: 'storedCodeNotice',
    type: 'notice',
    default: '',
    displayOptions: { show: { ...SENDING, channel: ['custom'], ...V2 } },
  },
  { ...storedCodeAcknowledged, displayOptions: { show: { ...SENDING, channel: ['custom'], ...V2 } } },
  { ...customCodeLength, displayOptions: { show: { ...SENDING, channel: ['custom'], ...V2 } } },
  {
    displayName: 'Options',
    name: 'options',
    type: 'collection',
    placeholder: 'Add option',
    default: {},
    options: [
      {
        displayName: 'Brand',
        name: 'brand',
        type: 'string',
        default: '',
        description: "Name shown in the message; default: the profile's brand, then the worker's OTP_BRAND",
        displayOptions: { show: { '/operation': ['send', 'resend'] } },
      },
      { ...channelV1, displayOptions: { show: { '/operation': ['send', 'resend'], ...V1 } } },
      { ...customCodeLength, displayName: 'Code Length (Custom Channel)', displayOptions: { show: { '/operation': ['send', 'resend'], ...V1 } } },
      {
        displayName: 'Context',
        name: 'context',
        type: 'string',
        default: '',
        placeholder: 'Confirm transfer of €500 to Alice',
        description: 'Line shown with the code; required by the transaction profile',
        displayOptions: { show: { '/operation': ['send', 'resend'] } },
      },
      {
        displayName: 'Delivery Callback URL',
        name: 'callbackUrl',
        type: 'string',
        default: '',
        placeholder: 'https://example.com/otp/dlr',
        description: 'Receives a signed POST for each change of delivery status',
        displayOptions: { show: { '/operation': ['send', 'resend'] } },
      },
      {
        displayName: 'Email (Fallback)',
        name: 'email',
        type: 'string',
        placeholder: 'name@email.com',
        default: '',
        description:
          "If the SMS is not delivered in time, the same code goes to this address. Taken only by profiles that trust their callers' contacts (callerContacts) or list its domain: never pass an address an anonymous caller typed.",
        displayOptions: { show: { '/operation': ['send', 'resend'] } },
      },
      {
        displayName: 'Idempotency Key',
        name: 'idempotencyKey',
        type: 'string',
        default: '',
        description: 'Within 24 hours the same key returns the first answer and sends no second code. Use the ID of the request that asked for the code.',
        displayOptions: { show: { '/operation': ['send', 'resend'] } },
      },
      {
        displayName: 'Locale',
        name: 'locale',
        type: 'string',
        default: '',
        placeholder: 'fr',
        description: "Language of the message, among the profile's templates; another one is refused",
        displayOptions: { show: { '/operation': ['send', 'resend'], ...V1 } },
      },
      {
        displayName: 'Locale Name or ID',
        name: 'locale',
        type: 'options',
        typeOptions: { loadOptionsMethod: 'getLocales', loadOptionsDependsOn: ['profile'] },
        default: '',
        description:
          'Language of the message, among the profile\'s templates ("pt-BR" also takes "pt"); another one is refused. Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
        displayOptions: { show: { '/operation': ['send', 'resend'], ...V2 } },
      },
      {
        displayName: 'Profile',
        name: 'profile',
        type: 'string',
        default: 'login',
        description: 'Policy profile: login (6 digits, 5 min), transaction (needs Context), recovery (8 digits, 10 min), or one defined on the worker',
        displayOptions: { show: { '/operation': ['send', 'resend'], ...V1 } },
      },
      {
        ...storedCodeAcknowledged,
        displayName: 'Stored Code Acknowledged (Custom Channel)',
        displayOptions: { show: { '/operation': ['send', 'resend'], ...V1 } },
      },
      {
        displayName: 'Webhook (Fallback)',
        name: 'webhookUrl',
        type: 'string',
        default: '',
        placeholder: 'https://example.com/otp/deliver',
        description:
          "Last resort: receives the same code in a signed POST if neither SMS nor email got through. Taken only by profiles with callerContacts; others use the profile's own fallbackWebhookUrl.",
        displayOptions: { show: { '/operation': ['send', 'resend'] } },
      },
      ...requestOptionFields,
    ],
  },
];
