/** Fields Verify OTP shows whichever way it verifies: the code, what it must confirm, how results leave, Options. */
import type { INodeProperties } from 'n8n-workflow';
import { requestOptionFields } from '../../shared/common.descriptions';

export const commonFields: INodeProperties[] = [
  {
    displayName: 'Code',
    name: 'code',
    type: 'string',
    default: '',
    required: true,
    description: 'The code the user typed; spaces, dashes and case are ignored',
  },
  {
    displayName: 'Purpose',
    name: 'purpose',
    type: 'options',
    options: [
      { name: 'Login', value: 'login', description: 'Codes sent under a login profile' },
      { name: 'Transaction', value: 'transaction', description: 'Codes that confirm one transaction: give its context line' },
      { name: 'Recovery', value: 'recovery', description: 'Account recovery codes' },
      { name: 'Custom', value: 'custom', description: 'Codes sent under a profile whose purpose is custom' },
    ],
    default: 'login',
    description: 'What the code must confirm. A code sent for another purpose is Invalid (purpose_mismatch), so a transaction code never signs a user in.',
  },
  {
    displayName: 'Context',
    name: 'context',
    type: 'string',
    default: '',
    required: true,
    placeholder: 'Confirm transfer of €500 to Alice',
    displayOptions: { show: { purpose: ['transaction'] } },
    description: 'The context line the code was sent with, exactly; another one is Invalid (context_mismatch)',
  },
  {
    displayName: 'Output',
    name: 'output',
    type: 'options',
    noDataExpression: true,
    options: [
      { name: 'Valid and Invalid Branches', value: 'branches', description: 'Route each item to Valid or Invalid, so a flow branches without an IF node' },
      {
        name: 'One Output (for AI Agents)',
        value: 'single',
        description: 'Every item on one output with valid, outcome and attemptsRemaining: an AI agent tool reads only the first output',
      },
    ],
    default: 'branches',
    description: 'How results leave the node',
  },
  {
    displayName: 'Public Response',
    name: 'publicResponse',
    type: 'boolean',
    default: false,
    description:
      'Whether Invalid should only say "rejected", with no reason and no attempt count, so answers to the public cannot reveal which numbers are registered',
  },
  {
    displayName: 'Options',
    name: 'options',
    type: 'collection',
    placeholder: 'Add option',
    default: {},
    options: requestOptionFields,
  },
];
