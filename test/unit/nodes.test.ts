/** The n8n nodes' descriptions: defaults agree with the client's, the region list, versions. */
import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { DEFAULT_CALL_TIMEOUT_MS, OTP_SEARCH_STATUSES, type OtpClient } from '../../client';
import { n8nIdentity, senderRevision } from '../../nodes/SendOtp/helpers/senderRevision';
import { execute as listRecentSends } from '../../nodes/SendOtp/actions/otp/listRecentSends.operation';
import { regionOptions, requestOptionFields } from '../../nodes/shared/common.descriptions';
import { callTimeoutMs, defaultRegion } from '../../nodes/shared/helpers/item';
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

test('a Timeout from an expression is held to 1–120 s, and a region from an expression that gave nothing is none', () => {
  const ctx = (options: Record<string, unknown>, region?: unknown) =>
    ({ getNode: () => ({ name: 'Send OTP' }), getNodeParameter: (name: string) => (name === 'options' ? options : region) }) as unknown as IExecuteFunctions;
  expect(callTimeoutMs(ctx({}), 0)).toBe(DEFAULT_CALL_TIMEOUT_MS);
  expect(callTimeoutMs(ctx({ timeoutSeconds: 2.5 }), 0)).toBe(2500);
  for (const bad of [0, -5, 'abc', 1000, null])
    expect(() => callTimeoutMs(ctx({ timeoutSeconds: bad }), 0)).toThrow(/Timeout \(Seconds\) must be a number from 1 to 120/);
  expect(defaultRegion(ctx({}, undefined), 0)).toBeUndefined();
  expect(defaultRegion(ctx({}, ' fr '), 0)).toBe('FR');
});

test('flows saved with older versions keep Default Region as text; newer ones get the country list', () => {
  for (const [node, since] of [
    [new SendOtp().description, 2],
    [new VerifyOtp().description, 1.1],
  ] as const) {
    const regions = node.properties.filter((p) => p.name === 'defaultRegion');
    expect(regions.map((p) => [p.type, p.displayOptions?.show?.['@version']])).toEqual(
      expect.arrayContaining([
        ['options', [{ _cnd: { gte: since } }]],
        ['string', [{ _cnd: { lt: since } }]],
      ]),
    );
  }
});

describe('Send OTP sender revision operations (issue 12)', () => {
  function ctx(params: Record<string, unknown>, identity?: string) {
    return {
      getNode: () => ({ name: 'Send OTP' }),
      getNodeParameter: (name: string, _i: number, fallback?: unknown) => params[name] ?? fallback,
      getCredentials: async () => ({ identity }),
      getWorkflow: () => ({ id: 'wf42' }),
    } as unknown as IExecuteFunctions;
  }
  test("the identity is the credential's, else the flow", async () => {
    expect(await n8nIdentity(ctx({}, ' alice@example.com '))).toBe('alice@example.com');
    expect(await n8nIdentity(ctx({}, ''))).toBe('n8n-flow:wf42');
  });
  test('approve passes the profile, hash, identity and note on; an empty hash is the flow’s error', async () => {
    const calls: unknown[] = [];
    const otp = { approveRevision: async (...args: unknown[]) => (calls.push(args), { profile: 'login', templates: {} }) } as unknown as OtpClient;
    await senderRevision(ctx({ tenant: 'acme', revisionProfile: 'login', contentHash: 'abcdef0123', revisionNote: 'ok' }), otp, 0, 'approveRevision', 'bob');
    expect(calls).toEqual([['login', 'abcdef0123', { tenant: 'acme', by: 'bob', note: 'ok' }]]);
    await expect(senderRevision(ctx({ revisionProfile: 'login' }), otp, 0, 'approveRevision', 'bob')).rejects.toThrow(/Content Hash is empty/);
  });
  test('the phone is asked only by the operations on a session', () => {
    const phone = new SendOtp().description.properties.find((p) => p.name === 'phone')!;
    expect(phone.displayOptions?.show?.operation).toEqual(['send', 'resend', 'cancel', 'getStatus']);
  });
});

describe('Send OTP List Recent Sends (issue 12, the recipients listing)', () => {
  test('passes tenant, profile, status, limit and the next-page token on; empty fields are no filter', async () => {
    const calls: unknown[] = [];
    const page = { sends: [{ sessionId: 'otp-acme-x', maskedPhone: '+33••••••001', status: 'delivered' }], nextPageToken: 'tok' };
    const otp = { recentSends: async (o: unknown) => (calls.push(o), page) } as unknown as OtpClient;
    const params: Record<string, unknown> = { recentTenant: 'acme', recentProfile: ' ', recentStatus: 'delivered', recentLimit: 5, recentNextPage: 'tok0' };
    const ctx = { getNodeParameter: (name: string, _i: number, fallback?: unknown) => params[name] ?? fallback } as unknown as IExecuteFunctions;
    expect(await listRecentSends(ctx, otp, 0)).toEqual(page);
    expect(calls).toEqual([{ tenant: 'acme', profile: undefined, status: 'delivered', pageSize: 5, pageToken: 'tok0' }]);
  });
  test('its fields show for it only, and its statuses are the search attribute statuses', () => {
    const props = new SendOtp().description.properties;
    const status = props.find((p) => p.name === 'recentStatus')!;
    expect(status.displayOptions?.show?.operation).toEqual(['listRecentSends']);
    expect((status.options as { value: string }[]).map((o) => o.value)).toEqual(['', ...OTP_SEARCH_STATUSES]);
  });
});
