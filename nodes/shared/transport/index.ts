/**
 * Transport for the n8n nodes: a Temporal connection and an OtpClient built from the "Temporal OTP API"
 * credential (read by clientSettings.ts; the credential test is in methods/).
 */
import { Client, Connection } from '@temporalio/client';
import { NodeApiError, NodeOperationError, type IExecuteFunctions, type ILoadOptionsFunctions, type JsonObject } from 'n8n-workflow';
import { OtpClient, otpDataConverter } from '../../../client';
import { clientSettings, transportSecurity, type TemporalOtpCredentials } from './clientSettings';

export { clientSettings, type ClientSettings, type TemporalOtpCredentials } from './clientSettings';

/**
 * gRPC shares one subchannel per address across a process by default, with its
 * reconnect backoff (up to 2 minutes): n8n is long-lived, so after a Temporal
 * restart every new connection would wait that out while the server already
 * answers. A connection of our own starts fresh.
 */
export const RECONNECT_NOW = { 'grpc.use_local_subchannel_pool': 1 } as const;

/** Opens a connection the way the nodes do (exported for the reconnect test). */
export async function connectTemporal(creds: TemporalOtpCredentials, address: string): Promise<Connection> {
  return Connection.connect({ address, ...transportSecurity(creds), connectTimeout: '5 seconds', channelArgs: RECONNECT_NOW });
}

/** A builder-readable reason a connection failed. */
export function unreachable(address: string, err: unknown): string {
  const detail = err instanceof Error ? err.message.split('\n')[0] : String(err);
  return `Temporal server at ${address} is not reachable (${detail})`;
}

/** Runs `fn` with an OtpClient on a connection of its own, closed afterwards. */
export async function withOtpClient<T>(ctx: IExecuteFunctions | ILoadOptionsFunctions, fn: (otp: OtpClient) => Promise<T>): Promise<T> {
  const creds = (await ctx.getCredentials('temporalOtpApi')) as unknown as TemporalOtpCredentials;
  const { settings, problem } = clientSettings(creds);
  if (!settings) throw new NodeOperationError(ctx.getNode(), `Temporal OTP API credentials: ${problem}`);
  let connection: Connection;
  try {
    connection = await connectTemporal(creds, settings.address);
  } catch (err) {
    throw new NodeApiError(ctx.getNode(), { message: (err as Error).message } as JsonObject, {
      message: unreachable(settings.address, err),
      description: 'Check the address in the "Temporal OTP API" credentials, and that your Temporal server and the OTP workers are running.',
    });
  }
  try {
    const client = new Client({ connection, namespace: settings.namespace, dataConverter: otpDataConverter(settings.payloadKeys) });
    return await fn(
      new OtpClient({
        client,
        address: settings.address,
        taskQueue: settings.taskQueue,
        hashKey: settings.hashKey,
        sealPublicKey: settings.sealPublicKey,
      }),
    );
  } finally {
    await connection.close();
  }
}
