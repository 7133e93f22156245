/** Fields both OTP nodes show: the phone with its region and tenant, and the Options every request takes. */
import { getCountries, getCountryCallingCode } from 'libphonenumber-js';
import type { IDisplayOptions, INodeProperties, INodePropertyOptions } from 'n8n-workflow';

/** A node's operation selector, made from its operations' options, sorted by name as n8n's lint wants option lists. */
export function selectorOf(displayName: string, name: string, options: INodePropertyOptions[], defaultValue: string): INodeProperties {
  return {
    displayName,
    name,
    type: 'options',
    noDataExpression: true,
    options: [...options].sort((a, b) => a.name.localeCompare(b.name, 'en')),
    default: defaultValue,
  };
}

/** Every region libphonenumber knows, by English name, with its calling code; "none" first. */
export function regionOptions(): INodePropertyOptions[] {
  const names = new Intl.DisplayNames(['en'], { type: 'region' });
  const regions = getCountries()
    .map((code) => ({ name: `${names.of(code) ?? code} (+${getCountryCallingCode(code)})`, value: code }))
    .sort((a, b) => a.name.localeCompare(b.name, 'en'));
  return [{ name: 'None (Numbers Start With +)', value: '' }, ...regions];
}

/** Shown from a node's `since` version on (Send OTP 2), or in every version. */
function fromVersion(since: number | undefined, show: IDisplayOptions['show'] = {}, older = false): { displayOptions?: IDisplayOptions } {
  if (since === undefined) return Object.keys(show).length ? { displayOptions: { show } } : {};
  return { displayOptions: { show: { ...show, '@version': older ? [{ _cnd: { lt: since } }] : [{ _cnd: { gte: since } }] } } };
}

/**
 * Phone, Default Region and Tenant; `show` limits them (Verify OTP shows them only when verifying by phone).
 * Default Region is a country list from `listSince` on; older versions keep the text field their flows were saved with.
 */
export function phoneFields(phoneDescription: string, show?: IDisplayOptions['show'], listSince?: number): INodeProperties[] {
  const displayOptions = show ? { displayOptions: { show } } : {};
  const regionText: INodeProperties[] =
    listSince === undefined
      ? []
      : [
          {
            displayName: 'Default Region',
            name: 'defaultRegion',
            type: 'string',
            default: '',
            placeholder: 'FR',
            description: 'Two-letter country used for numbers written without +, e.g. FR for 06 12 34 56 78',
            ...fromVersion(listSince, show, true),
          },
        ];
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
      ...fromVersion(listSince, show),
    },
    ...regionText,
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
