/** What both OTP nodes share: the phone, its region and the tenant, and the credential test they are tested by. */
import type { IDisplayOptions, INodeProperties } from 'n8n-workflow';
import { testTemporalOtpCredentials } from './transport';

/** Phone, Default Region and Tenant; `show` limits them (Verify OTP shows them only when verifying by phone). */
export function phoneFields(phoneDescription: string, show?: IDisplayOptions['show']): INodeProperties[] {
  const displayOptions = show ? { displayOptions: { show } } : {};
  return [
    {
      displayName: 'Phone',
      name: 'phone',
      type: 'string',
      default: '',
      required: true,
      placeholder: '+33612345678',
      description: `${phoneDescription}, best in E.164 form (+ and country code)`,
      hint: 'Written without +? Set Default Region below.',
      ...displayOptions,
    },
    {
      displayName: 'Default Region',
      name: 'defaultRegion',
      type: 'string',
      default: '',
      placeholder: 'FR',
      description: 'Two-letter country used for numbers written without +, e.g. FR for 06 12 34 56 78',
      ...displayOptions,
    },
    {
      displayName: 'Tenant',
      name: 'tenant',
      type: 'string',
      default: 'default',
      description: 'Separates the sessions of different apps or customers; the same number in two tenants gets two sessions',
      ...displayOptions,
    },
  ];
}

/** `testedBy: 'temporalOtpApiTest'` in each node's credentials points here. */
export const otpMethods = { credentialTest: { temporalOtpApiTest: testTemporalOtpCredentials } };
