/** What both OTP nodes share: the phone, its region and the tenant, the per-request options, and the credential test. */
import { getCountries, getCountryCallingCode } from 'libphonenumber-js';
import type { IDataObject, IDisplayOptions, IExecuteFunctions, INodeExecutionData, INodeProperties, INodePropertyOptions } from 'n8n-workflow';
import { DEFAULT_CALL_TIMEOUT_MS } from '../../client';
import { getLocales, getProfiles } from './methods/loadOptions';
import { testTemporalOtpCredentials } from './transport';

/** Every region libphonenumber knows, by English name, with its calling code; "none" first. */
export function regionOptions(): INodePropertyOptions[] {
  const names = new Intl.DisplayNames(['en'], { type: 'region' });
  const regions = getCountries()
    .map((code) => ({ name: `${names.of(code) ?? code} (+${getCountryCallingCode(code)})`, value: code }))
    .sort((a, b) => a.name.localeCompare(b.name, 'en'));
  return [{ name: 'None (Numbers Start With +)', value: '' }, ...regions];
}

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
      hint: 'Written without +? Pick its Default Region below.',
      ...displayOptions,
    },
    {
      displayName: 'Default Region',
      name: 'defaultRegion',
      type: 'options',
      options: regionOptions(),
      default: '',
      description: 'Country of numbers written without +, e.g. France for 06 12 34 56 78',
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

/** Options every request takes, inside a node's Options collection. */
export const requestOptionFields: INodeProperties[] = [
  {
    displayName: 'Include Input Fields',
    name: 'includeInputFields',
    type: 'boolean',
    default: false,
    description: "Whether to keep the input item's fields in the output, with the result's fields on top",
  },
  {
    displayName: 'Timeout (Seconds)',
    name: 'timeoutSeconds',
    type: 'number',
    typeOptions: { minValue: 1, maxValue: 120 },
    // n8n's lint wants a literal: the client's DEFAULT_CALL_TIMEOUT_MS in seconds (test/unit/nodes.test.ts).
    default: 10,
    description: 'Longest wait for the OTP workers. Past it the item fails with the cause, e.g. no worker polling the task queue.',
  },
];

interface RequestOptions {
  includeInputFields?: boolean;
  timeoutSeconds?: number;
}

function requestOptions(ctx: IExecuteFunctions, i: number): RequestOptions {
  return ctx.getNodeParameter('options', i, {}) as RequestOptions;
}

/** Item i's call timeout in ms. */
export function callTimeoutMs(ctx: IExecuteFunctions, i: number): number {
  return Math.round((requestOptions(ctx, i).timeoutSeconds ?? DEFAULT_CALL_TIMEOUT_MS / 1000) * 1000);
}

/** The output item for input i: the result, on top of the input's fields if asked. */
export function resultItem(ctx: IExecuteFunctions, i: number, result: IDataObject): INodeExecutionData {
  const input = requestOptions(ctx, i).includeInputFields ? ctx.getInputData()[i].json : {};
  return { json: { ...input, ...result }, pairedItem: { item: i } };
}

/** `testedBy: 'temporalOtpApiTest'` in each node's credentials points here; dropdowns load from the workers. */
export const otpMethods = {
  credentialTest: { temporalOtpApiTest: testTemporalOtpCredentials },
  loadOptions: { getProfiles, getLocales },
};
