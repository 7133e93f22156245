/**
 * OtpClient.catalog(): what the workers polling a task queue know, for the
 * n8n nodes' dropdowns. Against the real stack, and against a task queue no
 * worker polls.
 */
import { CATALOG_WORKFLOW_ID_PREFIX, OtpClient, OtpRequestError, type OtpCatalog } from '../client';
import { startStack, TEST_PROFILES, type TestStack } from './helpers/stack';
import { waitFor } from './helpers/wait';

const HOOK = 'https://hooks.example.com/otp-delivery?token=s3cret';
let stack: TestStack;

beforeAll(async () => {
  stack = await startStack(
    {},
    {
      OTP_PROFILES: JSON.stringify({
        ...TEST_PROFILES,
        hooked: {
          extends: 'login',
          deliveryWebhookUrl: HOOK,
          fallbackWebhookUrl: 'https://hooks.example.com/fallback',
          templates: { 'pt-BR': '{brand}: seu código é {code}.' },
          sandbox: { numbers: ['+33600000001'] },
        },
        'short-alnum': { extends: 'login', alphabet: 'alphanumeric', ttlSeconds: 90, sandbox: { code: 'ACDEFG' } },
      }),
    },
  );
});
afterAll(async () => {
  await stack?.stop();
});

test('the catalog lists every profile the workers know, with its locales, default locale and channels, and nothing secret', async () => {
  const catalog: OtpCatalog = await stack.otp.catalog();
  expect(catalog.taskQueue).toBe(stack.config.temporal.taskQueue);
  expect(catalog.defaultProfile).toBe('login');
  expect(catalog.profiles.map((p) => p.name)).toEqual([
    'login',
    'transaction',
    'recovery',
    'fast',
    'fast-lock3',
    'fast-lock1',
    'fast-len8',
    'fast-ttl60',
    'hooked',
    'short-alnum',
  ]);
  const byName = Object.fromEntries(catalog.profiles.map((p) => [p.name, p]));
  expect(byName.login).toEqual({
    name: 'login',
    revision: 'login@f96d5f5c4260',
    purpose: 'login',
    description: 'login: 6-digit code, valid 5 min',
    locales: ['en', 'fr', 'ru'],
    defaultLocale: 'en',
    channels: ['sms'],
    allowCustomChannel: false,
    hasDeliveryWebhook: false,
    requireContext: false,
    codeLength: 6,
    ttlSeconds: 300,
  });
  expect(byName.transaction).toMatchObject({
    purpose: 'transaction',
    locales: ['en', 'fr'],
    requireContext: true,
    description: 'transaction: 6-digit code, valid 5 min, needs a context line',
  });
  expect(byName.recovery).toMatchObject({ purpose: 'recovery', codeLength: 8, description: 'recovery: 8-digit code, valid 10 min' });
  expect(byName.fast).toMatchObject({ allowCustomChannel: true, channels: ['sms', 'custom'], hasDeliveryWebhook: false });
  expect(byName.hooked).toMatchObject({ locales: ['en', 'fr', 'ru', 'pt-BR'], channels: ['sms', 'webhook'], hasDeliveryWebhook: true });
  expect(byName['short-alnum'].description).toBe('login: 6-character code, valid 90 s');
  // Revisions are the ones sends record.
  expect(byName['fast-lock3'].revision).toBe(`fast-lock3@${stack.config.profiles.get('fast-lock3')!.revision}`);
  // No URLs, tokens or sandbox numbers.
  const text = JSON.stringify(catalog);
  for (const secret of ['hooks.example.com', 's3cret', '+33600000001', 'ACDEFG', 'http']) expect(text).not.toContain(secret);
});

test('each call is its own short workflow under a catalog id, finished once answered', async () => {
  await stack.otp.catalog();
  // Visibility trails completion a little: look again for up to 3 s.
  const runs = await waitFor(
    async () => {
      const found: { id: string; status: string }[] = [];
      for await (const wf of stack.otp.temporal.workflow.list({ query: `TaskQueue = '${stack.config.temporal.taskQueue}' AND WorkflowType = 'otpCatalog'` }))
        found.push({ id: wf.workflowId, status: wf.status.name });
      return found;
    },
    (found) => found.length >= 2 && found.every((r) => r.status === 'COMPLETED'),
    'visibility to list the finished catalog runs',
    3000,
    100,
  );
  expect(runs.length).toBeGreaterThanOrEqual(2);
  for (const r of runs) {
    expect(r.status).toBe('COMPLETED');
    expect(r.id).toMatch(new RegExp(`^${CATALOG_WORKFLOW_ID_PREFIX}[0-9a-f-]{36}$`));
  }
});

test('with no worker polling the task queue, the catalog fails within its timeout and names the cause', async () => {
  const orphan = new OtpClient({
    client: stack.otp.temporal,
    address: stack.config.temporal.address,
    taskQueue: 'otp-catalog-nobody-polls',
    hashKey: stack.config.keys.hash[0],
    sealPublicKey: stack.config.keys.sealPublic,
    callTimeoutMs: 1500,
  });
  const started = Date.now();
  const err = await orphan.catalog().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(OtpRequestError);
  expect(err).toMatchObject({ type: 'Timeout', message: expect.stringMatching(/^no OTP worker is polling task queue 'otp-catalog-nobody-polls' on /) });
  expect(Date.now() - started).toBeLessThan(8000);
});
