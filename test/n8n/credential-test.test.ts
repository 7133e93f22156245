/**
 * The "Temporal OTP API" credential test: a real connection to the real
 * dev server, with messages a builder understands when it fails.
 */
import type { ICredentialTestFunctions } from 'n8n-workflow';
import { freePort } from '../../dev/temporal-server';
import { testTemporalOtpCredentials } from '../../nodes/shared/methods/credentialTest';
import { startStack, temporalAddress, type TestStack } from '../helpers/stack';

const ctx = {} as ICredentialTestFunctions;
let stack: TestStack;
const credential = (data: Record<string, unknown>) => ({
  id: '1',
  name: 'Temporal OTP API',
  type: 'temporalOtpApi',
  data: { namespace: 'default', taskQueue: stack.config.temporal.taskQueue, ...data },
});

beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

test('connects to a running server, finds the namespace and a worker on the task queue', async () => {
  expect(await testTemporalOtpCredentials.call(ctx, credential({ address: temporalAddress() }))).toEqual({
    status: 'OK',
    message: `Connected to ${temporalAddress()}, namespace "default", an OTP worker polls task queue "${stack.config.temporal.taskQueue}"`,
  });
});

test('a task queue no worker polls (a typo, or workers not started) is an error that says so', async () => {
  expect(await testTemporalOtpCredentials.call(ctx, credential({ address: temporalAddress(), taskQueue: 'otp-typo' }))).toEqual({
    status: 'Error',
    message: `Connected to ${temporalAddress()}, but no OTP worker is polling task queue "otp-typo": start the workers, or check the task queue name`,
  });
});

test('an unreachable server is named in the error', async () => {
  const address = `127.0.0.1:${await freePort()}`;
  const result = await testTemporalOtpCredentials.call(ctx, credential({ address }));
  expect(result.status).toBe('Error');
  expect(result.message).toMatch(new RegExp(`^Temporal server at ${address} is not reachable`));
}, 30_000);

test('a missing namespace and a malformed address are told apart', async () => {
  expect(await testTemporalOtpCredentials.call(ctx, credential({ address: temporalAddress(), namespace: 'no-such-namespace' }))).toEqual({
    status: 'Error',
    message: `Namespace "no-such-namespace" does not exist on ${temporalAddress()}`,
  });
  expect(await testTemporalOtpCredentials.call(ctx, credential({ address: 'localhost' }))).toEqual({
    status: 'Error',
    message: 'Address must look like host:port (got "localhost")',
  });
});
