/** Fields more than one Send OTP operation shows; an operation's own fields are in its otp/<operation>.operation.ts. */
import type { INodeProperties } from 'n8n-workflow';
import { MAX_CODE_LENGTH, MIN_CODE_LENGTH } from '../../../client';
import { phoneFields, requestOptionFields } from '../../shared/common.descriptions';
import { REVISION_OPERATIONS } from '../helpers/senderRevision';

/** Shown from typeVersion 2 on; version 1 keeps Channel and Profile inside Options. */
const V2 = { '@version': [{ _cnd: { gte: 2 } }] };
const V1 = { '@version': [1] };
const SENDING = { operation: ['send', 'resend'] };
const REVISIONS = { operation: [...REVISION_OPERATIONS] };
const DECIDING = { operation: ['approveRevision', 'rejectRevision'] };

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
const STORED_CODE_NOTICE =
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

/** The number Send, Resend, Cancel and Get Status act on: Phone, Default Region (a country list from version 2 on), Tenant. */
export const sessionFields: INodeProperties[] = phoneFields('Number to send the code to', { operation: SESSION_OPERATIONS }, 2);

/** Whose sender approvals these are (a Tenant field of its own: the session operations' one says something else). */
export const revisionTenant: INodeProperties = {
  displayName: 'Tenant',
  name: 'tenant',
  type: 'string',
  default: 'default',
  description: 'Whose sender approvals these are: each tenant approves its own revisions',
  displayOptions: { show: REVISIONS },
};

/** The profile whose revision it is. */
export const revisionProfile: INodeProperties = {
  displayName: 'Profile Name or ID',
  name: 'revisionProfile',
  type: 'options',
  typeOptions: { loadOptionsMethod: 'getProfiles' },
  default: 'login',
  displayOptions: { show: REVISIONS },
  description:
    'The profile whose revision this is. Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
};

/** Approve and Reject: which revision. */
export const contentHash: INodeProperties = {
  displayName: 'Content Hash',
  name: 'contentHash',
  type: 'string',
  default: '',
  required: true,
  placeholder: '3f2a9c0b1d4e…',
  displayOptions: { show: DECIDING },
  description: 'The contentHash of the revision (from Propose or List): all 64 hex digits, or a prefix of at least 8',
};

/** Propose, Approve and Reject: why, for the trail. */
export const revisionNote: INodeProperties = {
  displayName: 'Note',
  name: 'revisionNote',
  type: 'string',
  default: '',
  displayOptions: { show: { operation: ['proposeRevision', 'approveRevision', 'rejectRevision'] } },
  description: 'Why, for the approval trail (at most 500 characters)',
};

/** Every revision operation: whom the workers see acting. */
export const revisionIdentityNotice: INodeProperties = {
  displayName:
    "These operations act as the credential's Identity (or, without one, as this flow). The workers refuse an approval or rejection by the revision's proposer.",
  name: 'revisionIdentityNotice',
  type: 'notice',
  default: '',
  displayOptions: { show: REVISIONS },
};

/** Send and Resend from version 2 on: Profile, Channel, and what the chosen channel needs. */
export const sendingFields: INodeProperties[] = [
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
];

/** Options: every operation's (timeout, input fields), and Send and Resend's message and fallback options. */
export const optionsCollection: INodeProperties = {
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
};
