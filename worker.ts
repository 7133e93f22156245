/**
 * The OTP worker: owns the SMPP binds and a Temporal client, builds the
 * activities around them, and routes every delivery receipt into its
 * durable mailbox workflow. Run with `node dist/worker.js` (npm start does).
 */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { RECEIPT_MAILBOX_WORKFLOW, mailboxReceiptSignal, receiptMailboxId, type DeliveryReceipt } from './contract';
import { createActivities } from './activities';
import { otpDataConverter } from './client';
import { loadConfig, ConfigError, type OtpConfig } from './lib/config';
import { SmscClient } from './smpp/smsc';

export interface OtpWorkerOverrides {
  /** Reuse a prebuilt bundle (tests bundle once per run). */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Extra Worker options, e.g. a shorter shutdown grace time in tests. */
  workerOptions?: Partial<WorkerOptions>;
}

export interface RunningOtpWorker {
  worker: Worker;
  smsc: SmscClient;
  client: Client;
  /** Resolves when the worker has stopped (after shutdown()). */
  done: Promise<void>;
  /** Stops polling, lets running activities finish, unbinds, closes connections. */
  shutdown(): Promise<void>;
}

export async function startWorker(config: OtpConfig, overrides: OtpWorkerOverrides = {}): Promise<RunningOtpWorker> {
  const dataConverter = otpDataConverter(config.keys.payload);
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const clientConnection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection: clientConnection, namespace: config.temporal.namespace, dataConverter });

  const smsc = new SmscClient({ ...config.smsc });
  smsc.onReceipt(async (r) => {
    const receipt: DeliveryReceipt = { ...r, receivedAt: new Date().toISOString() };
    await client.workflow.signalWithStart(RECEIPT_MAILBOX_WORKFLOW, {
      workflowId: receiptMailboxId(smsc.name, r.messageId),
      taskQueue: config.temporal.taskQueue,
      signal: mailboxReceiptSignal,
      signalArgs: [receipt],
    });
  });
  smsc.start();

  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    dataConverter,
    activities: createActivities({
      smsc,
      client,
      taskQueue: config.temporal.taskQueue,
      codeKey: config.keys.code,
      hashKey: config.keys.hash,
      brand: config.brand,
      senderId: config.smsc.senderId,
      profiles: config.profiles,
    }),
    ...(overrides.workflowBundle ? { workflowBundle: overrides.workflowBundle } : { workflowsPath: require.resolve('./workflows') }),
    ...overrides.workerOptions,
  });

  const done = worker.run().finally(async () => {
    await smsc.close();
    await connection.close();
    await clientConnection.close();
  });
  let stopping: Promise<void> | undefined;
  return {
    worker,
    smsc,
    client,
    done,
    shutdown() {
      stopping ??= (async () => {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await done;
      })();
      return stopping;
    },
  };
}

async function main(): Promise<void> {
  let config: OtpConfig;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`worker: configuration error: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  if (config.usingDevKeys) console.warn('worker: using dev-only keys (set OTP_CODE_KEY, OTP_HASH_KEY, OTP_PAYLOAD_KEYS for real use)');
  const running = await startWorker(config);
  console.log(`worker: polling task queue "${config.temporal.taskQueue}" on ${config.temporal.address}, SMSC ${config.smsc.host}:${config.smsc.port}`);
  const stop = () => void running.shutdown();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await running.done;
}

if (require.main === module) {
  main().catch((err) => {
    console.error('worker: fatal:', err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
