import type { INodeProperties } from 'n8n-workflow';
import { phoneFields } from '../shared/fields';

export const verifyOtpProperties: INodeProperties[] = [
  {
    displayName: 'Verify By',
    name: 'verifyBy',
    type: 'options',
    noDataExpression: true,
    options: [
      { name: 'Phone', value: 'phone', description: 'The number the code was sent to' },
      { name: 'Session ID', value: 'session', description: 'The sessionId a Send OTP node returned' },
    ],
    default: 'phone',
  },
  ...phoneFields('Number the code was sent to', { verifyBy: ['phone'] }),
  {
    displayName: 'Session ID',
    name: 'sessionId',
    type: 'string',
    default: '',
    required: true,
    placeholder: 'otp-default-…',
    displayOptions: { show: { verifyBy: ['session'] } },
    description: 'The sessionId from Send OTP',
  },
  {
    displayName: 'Code',
    name: 'code',
    type: 'string',
    default: '',
    required: true,
    description: 'The code the user typed; spaces, dashes and case are ignored',
  },
  {
    displayName: 'Public Response',
    name: 'publicResponse',
    type: 'boolean',
    default: false,
    description: 'Whether Invalid should only say "rejected", with no reason and no attempt count, so answers to the public cannot reveal which numbers are registered',
  },
];
