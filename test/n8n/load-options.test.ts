/**
 * The nodes' dropdowns: Profile and Locale load from the workers' catalog
 * (a real stack), and say why when no worker answers.
 */
import type { ILoadOptionsFunctions, INode } from 'n8n-workflow';
import { getLocales, getProfiles } from '../../nodes/shared/methods/loadOptions';
import { startStack, temporalAddress, type TestStack } from '../helpers/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

/** What n8n hands a loadOptions method: the node's credentials and its current parameters. */
function context(taskQueue: string, parameters: Record<string, unknown>): ILoadOptionsFunctions {
  const node = { name: 'Send OTP', type: 'n8n-nodes-temporal-otp.sendOtp', typeVersion: 2, parameters } as unknown as INode;
  return {
    getNode: () => node,
    getCredentials: async () => ({ address: temporalAddress(), namespace: 'default', taskQueue }),
    getCurrentNodeParameter: (name: string) => name.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], parameters),
    getNodeParameter: (name: string) => parameters[name],
  } as unknown as ILoadOptionsFunctions;
}

test("Profile lists the workers' profiles with a one-line description", async () => {
  const options = await getProfiles.call(context(stack.config.temporal.taskQueue, {}));
  expect(options.map((o) => o.value)).toEqual(expect.arrayContaining(['login', 'transaction', 'recovery', 'fast']));
  expect(options.find((o) => o.value === 'login')).toEqual({ name: 'login', value: 'login', description: 'login: 6-digit code, valid 5 min' });
});

test("Locale lists the chosen profile's templates by language name, the profile's default first", async () => {
  const options = await getLocales.call(context(stack.config.temporal.taskQueue, { profile: 'login' }));
  expect(options).toEqual([
    { name: 'Profile Default: English (en)', value: '' },
    { name: 'English (en)', value: 'en' },
    { name: 'French (fr)', value: 'fr' },
    { name: 'Russian (ru)', value: 'ru' },
  ]);
  // Version 1 keeps Profile inside Options.
  expect((await getLocales.call(context(stack.config.temporal.taskQueue, { options: { profile: 'transaction' } }))).map((o) => o.value)).toEqual([
    '',
    'en',
    'fr',
  ]);
  await expect(getLocales.call(context(stack.config.temporal.taskQueue, { profile: 'nope' }))).rejects.toThrow('The workers have no profile "nope"');
});

test('with no worker polling, the dropdown says why instead of waiting', async () => {
  await expect(getProfiles.call(context('otp-nobody-polls-dropdowns', {}))).rejects.toThrow(
    /Could not list the workers' profiles: no OTP worker is polling task queue 'otp-nobody-polls-dropdowns'/,
  );
}, 30_000);
