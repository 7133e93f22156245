/** Transport for the n8n nodes: an OtpClient built from the "Temporal OTP" credentials. */
import { Client, Connection } from '@temporalio/client';
import { NodeOperationError, type IExecuteFunctions } from 'n8n-workflow';
import { OtpClient, otpDataConverter } from '../../client';
import { loadConfig } from '../../lib/config';

export interface TemporalOtpCredentials {
  address: string;
  namespace: string;
  taskQueue: string;
  hashKey?: string;
  payloadKeys?: string;
}

export async function withOtpClient<T>(ctx: IExecuteFunctions, fn: (otp: OtpClient) => Promise<T>): Promise<T> {
  const creds = (await ctx.getCredentials('temporalOtpApi')) as unknown as TemporalOtpCredentials;
  let config;
  try {
    config = loadConfig({
      TEMPORAL_ADDRESS: creds.address,
      TEMPORAL_NAMESPACE: creds.namespace,
      OTP_TASK_QUEUE: creds.taskQueue,
      OTP_HASH_KEY: creds.hashKey || undefined,
      OTP_PAYLOAD_KEYS: creds.payloadKeys || undefined,
    }, 'client');
  } catch (err) {
    throw new NodeOperationError(ctx.getNode(), `Temporal OTP credentials: ${(err as Error).message}`);
  }
  let connection: Connection;
  try {
    connection = await Connection.connect({ address: config.temporal.address, connectTimeout: '5 seconds' });
  } catch {
    throw new NodeOperationError(ctx.getNode(), `Temporal server at ${config.temporal.address} is not reachable`, {
      description: 'Check the address in the "Temporal OTP" credentials and that the OTP stack is running.',
    });
  }
  try {
    const client = new Client({ connection, namespace: config.temporal.namespace, dataConverter: otpDataConverter(config.keys.payload) });
    return await fn(new OtpClient({ client, taskQueue: config.temporal.taskQueue, hashKey: config.keys.hash }));
  } finally {
    await connection.close();
  }
}
