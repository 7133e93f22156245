/** The n8n nodes' descriptions: defaults agree with the client's, the region list, versions. */
import type { INodeProperties } from 'n8n-workflow';
import { DEFAULT_CALL_TIMEOUT_MS } from '../../client';
import { regionOptions, requestOptionFields } from '../../nodes/shared/fields';
import { SendOtp } from '../../nodes/SendOtp/SendOtp.node';
import { VerifyOtp } from '../../nodes/VerifyOtp/VerifyOtp.node';

test("the Timeout option's default is the client's call timeout", () => {
  const timeout = requestOptionFields.find((p) => p.name === 'timeoutSeconds')!;
  expect(timeout.default).toBe(DEFAULT_CALL_TIMEOUT_MS / 1000);
});

test('Default Region lists every region libphonenumber knows, by name with its calling code, "none" first', () => {
  const options = regionOptions();
  expect(options[0]).toEqual({ name: 'None (Numbers Start With +)', value: '' });
  expect(options).toContainEqual({ name: 'France (+33)', value: 'FR' });
  expect(options).toContainEqual({ name: 'United States (+1)', value: 'US' });
  expect(new Set(options.map((o) => o.value)).size).toBe(options.length);
  expect(options.length).toBeGreaterThan(240);
});

test('Send OTP is version 2 by default and keeps version 1; both nodes carry Options with the timeout and Include Input Fields', () => {
  const send = new SendOtp().description;
  expect(send.version).toEqual([1, 2]);
  expect(send.defaultVersion).toBe(2);
  for (const node of [send, new VerifyOtp().description]) {
    const options = node.properties.find((p) => p.name === 'options')!;
    const names = (options.options as INodeProperties[]).map((o) => o.name);
    expect(names).toEqual(expect.arrayContaining(['timeoutSeconds', 'includeInputFields']));
    expect(node.usableAsTool).toBe(true);
    // Written for an agent choosing a tool: what it does, and what it returns.
    expect(node.description).toMatch(/Returns .*outcome/);
  }
});
