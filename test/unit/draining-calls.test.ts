/**
 * lib/draining-calls.ts against a real gRPC server on loopback: a call in its retry backoff keeps
 * drain() waiting, and ends without another retry, so the channel can then close safely.
 */
import * as grpc from '@grpc/grpc-js';
import { drainingCalls } from '../../lib/draining-calls';

const method = '/otp.test.Probe/Call';
const identity = (b: Buffer) => b;

let server: grpc.Server;
let address: string;
let attempts = 0;
/** What the server answers, attempt by attempt (then OK). */
let answers: grpc.status[] = [];

beforeAll(async () => {
  server = new grpc.Server();
  server.register(
    method,
    (call: grpc.ServerUnaryCall<Buffer, Buffer>, reply: grpc.sendUnaryData<Buffer>) => {
      const code = answers[attempts++];
      if (code === undefined) reply(null, Buffer.from('ok'));
      else reply({ code, details: 'busy' });
    },
    identity,
    identity,
    'unary',
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  address = `127.0.0.1:${port}`;
});
afterAll(() => server.forceShutdown());
beforeEach(() => {
  attempts = 0;
});

function call(client: grpc.Client): Promise<{ code: grpc.status; ms: number }> {
  const started = Date.now();
  return new Promise((resolve) =>
    client.makeUnaryRequest(method, identity, identity, Buffer.from('x'), (err) => resolve({ code: err?.code ?? grpc.status.OK, ms: Date.now() - started })),
  );
}

test('a call retries as the client does by default when nothing drains', async () => {
  answers = [grpc.status.UNAVAILABLE, grpc.status.UNAVAILABLE];
  const calls = drainingCalls();
  const client = new grpc.Client(address, grpc.credentials.createInsecure(), { interceptors: calls.interceptors });
  expect((await call(client)).code).toBe(grpc.status.OK);
  expect(attempts).toBe(3);
  expect(calls.inFlight).toBe(0);
  client.close();
});

test('drain() waits for a call in its backoff, which ends on its next answer without retrying again', async () => {
  answers = [grpc.status.RESOURCE_EXHAUSTED, grpc.status.RESOURCE_EXHAUSTED, grpc.status.RESOURCE_EXHAUSTED];
  const calls = drainingCalls();
  const client = new grpc.Client(address, grpc.credentials.createInsecure(), { interceptors: calls.interceptors });
  const result = call(client);
  while (attempts < 1) await new Promise((r) => setTimeout(r, 5));
  // The answer reaches the client in milliseconds; its backoff on RESOURCE_EXHAUSTED is 0.8-1.2 s.
  await new Promise((r) => setTimeout(r, 300));
  // In its backoff now: closing the channel here would strand the retry's timer.
  expect(calls.inFlight).toBe(1);
  await calls.drain(5000);
  expect(calls.inFlight).toBe(0);
  expect(attempts).toBe(2);
  expect((await result).code).toBe(grpc.status.RESOURCE_EXHAUSTED);
  client.close();
});

test('drain() gives up after its timeout', async () => {
  answers = [grpc.status.RESOURCE_EXHAUSTED];
  const calls = drainingCalls();
  const client = new grpc.Client(address, grpc.credentials.createInsecure(), { interceptors: calls.interceptors });
  const result = call(client);
  while (attempts < 1) await new Promise((r) => setTimeout(r, 5));
  await new Promise((r) => setTimeout(r, 300)); // in its backoff
  const started = Date.now();
  await calls.drain(50);
  expect(Date.now() - started).toBeLessThan(500);
  expect(calls.inFlight).toBe(1);
  await result;
  client.close();
});
