/**
 * Transport for the n8n nodes: a Temporal connection and an OtpClient built
 * from the "Temporal OTP API" credentials (the credential test is in methods/).
 */
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import { NodeApiError, NodeOperationError, type IExecuteFunctions, type ILoadOptionsFunctions, type JsonObject } from 'n8n-workflow';
import { OtpClient, otpDataConverter } from '../../client';
import { loadConfig, type OtpConfig } from '../../config/config';

export interface TemporalOtpCredentials {
  address: string;
  namespace: string;
  taskQueue: string;
  tls?: boolean;
  serverCa?: string;
  clientCert?: string;
  clientPrivateKey?: string;
  apiKey?: string;
  hashSecret?: string;
  payloadSecrets?: string;
  sealPublicKey?: string;
  /** Who sender approval calls act as (an operator's e-mail); empty: the flow. */
  identity?: string;
}

/** Setting names in the worker's vocabulary -> the credential's field labels. */
const FIELD_LABELS: [RegExp, string][] = [
  [/TEMPORAL_ADDRESS/g, 'Address'],
  [/TEMPORAL_NAMESPACE/g, 'Namespace'],
  [/OTP_TASK_QUEUE/g, 'Task Queue'],
  [/OTP_HASH_KEY/g, 'Hash Key'],
  [/OTP_PAYLOAD_KEYS/g, 'Payload Keys'],
  [/OTP_SEAL_PUBLIC_KEY/g, 'Seal Public Key'],
];

/** Settings from credentials, checked by the same rules as the worker's; a problem names the credential field. */
export function configFrom(creds: TemporalOtpCredentials): { config: OtpConfig; problem?: undefined } | { config?: undefined; problem: string } {
  try {
    return { config: loadConfigFrom(creds) };
  } catch (err) {
    return { problem: FIELD_LABELS.reduce((m, [re, label]) => m.replace(re, label), (err as Error).message) };
  }
}

function loadConfigFrom(creds: TemporalOtpCredentials): OtpConfig {
  return loadConfig(
    {
      TEMPORAL_ADDRESS: creds.address?.trim(),
      TEMPORAL_NAMESPACE: creds.namespace?.trim(),
      OTP_TASK_QUEUE: creds.taskQueue?.trim(),
      OTP_HASH_KEY: creds.hashSecret || undefined,
      OTP_PAYLOAD_KEYS: creds.payloadSecrets || undefined,
      OTP_SEAL_PUBLIC_KEY: creds.sealPublicKey?.trim() || undefined,
    },
    'client',
  );
}

function connectionOptions(creds: TemporalOtpCredentials, address: string): ConnectionOptions {
  const useTls = creds.tls || !!creds.apiKey;
  const tls = useTls
    ? {
        serverRootCACertificate: creds.serverCa ? Buffer.from(creds.serverCa) : undefined,
        clientCertPair:
          creds.clientCert && creds.clientPrivateKey ? { crt: Buffer.from(creds.clientCert), key: Buffer.from(creds.clientPrivateKey) } : undefined,
      }
    : undefined;
  return { address, tls, apiKey: creds.apiKey || undefined, connectTimeout: '5 seconds', channelArgs: RECONNECT_NOW };
}

/**
 * gRPC shares one subchannel per address across a process by default, with its
 * reconnect backoff (up to 2 minutes): n8n is long-lived, so after a Temporal
 * restart every new connection would wait that out while the server already
 * answers. A connection of our own starts fresh.
 */
export const RECONNECT_NOW = { 'grpc.use_local_subchannel_pool': 1 } as const;

/** Opens a connection the way the nodes do (exported for the reconnect test). */
export async function connectTemporal(creds: TemporalOtpCredentials, address: string): Promise<Connection> {
  return Connection.connect(connectionOptions(creds, address));
}

/** A builder-readable reason a connection failed. */
export function unreachable(address: string, err: unknown): string {
  const detail = err instanceof Error ? err.message.split('\n')[0] : String(err);
  return `Temporal server at ${address} is not reachable (${detail})`;
}

/** Runs `fn` with an OtpClient on a connection of its own, closed afterwards. */
export async function withOtpClient<T>(ctx: IExecuteFunctions | ILoadOptionsFunctions, fn: (otp: OtpClient) => Promise<T>): Promise<T> {
  const creds = (await ctx.getCredentials('temporalOtpApi')) as unknown as TemporalOtpCredentials;
  const { config, problem } = configFrom(creds);
  if (!config) throw new NodeOperationError(ctx.getNode(), `Temporal OTP API credentials: ${problem}`);
  let connection: Connection;
  try {
    connection = await connectTemporal(creds, config.temporal.address);
  } catch (err) {
    throw new NodeApiError(ctx.getNode(), { message: (err as Error).message } as JsonObject, {
      message: unreachable(config.temporal.address, err),
      description: 'Check the address in the "Temporal OTP API" credentials, and that your Temporal server and the OTP workers are running.',
    });
  }
  try {
    const client = new Client({ connection, namespace: config.temporal.namespace, dataConverter: otpDataConverter(config.keys.payload) });
    return await fn(
      new OtpClient({
        client,
        address: config.temporal.address,
        taskQueue: config.temporal.taskQueue,
        hashKey: config.keys.hash[0],
        sealPublicKey: config.keys.sealPublic,
      }),
    );
  } finally {
    await connection.close();
  }
}
