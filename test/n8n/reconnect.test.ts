/**
 * n8n is a long-lived process: after Temporal restarts, the nodes' next request
 * must reach it as soon as it answers, not after gRPC's shared reconnect
 * backoff (which kept n8n "not reachable" for about 100 s).
 */
import { Connection } from '@temporalio/client';
import { freePort, startDevServer, type DevServer } from '../../dev/temporal-server';
import { connectTemporal } from '../../nodes/shared/transport';

const creds = (address: string) => ({ address, namespace: 'default', taskQueue: 'otp' });

async function describe(connect: () => Promise<Connection>): Promise<true> {
  const connection = await connect();
  try {
    await connection.workflowService.describeNamespace({ namespace: 'default' });
    return true;
  } finally {
    await connection.close();
  }
}

let server: DevServer | undefined;
afterAll(async () => {
  await server?.stop();
});

test('after a Temporal restart, the first request once the server answers goes through', async () => {
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const viaNodes = () => describe(() => connectTemporal(creds(address), address));
  server = await startDevServer({ port, headless: true });
  expect(await viaNodes()).toBe(true);

  await server.stop();
  server = undefined;
  // Requests while it is down fail (and, with a shared subchannel, would push its backoff out).
  for (let i = 0; i < 3; i++) await expect(viaNodes()).rejects.toThrow();

  server = await startDevServer({ port, headless: true });
  // An independent probe (a subchannel of its own, whatever the nodes use) says when the server answers again...
  const probe = () => describe(() => Connection.connect({ address, connectTimeout: '2 seconds', channelArgs: { 'grpc.use_local_subchannel_pool': 1 } }));
  for (let answered = false; !answered; ) answered = await probe().catch(() => false);
  // ...and the nodes' very next request must succeed.
  expect(await viaNodes()).toBe(true);
}, 120_000);
