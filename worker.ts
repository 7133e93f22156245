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
import { createServer, type Server } from 'node:http';
import { createTransport } from 'nodemailer';
import { SmscRouter } from './smpp/smsc';

export interface OtpWorkerOverrides {
  /** Reuse a prebuilt bundle (tests bundle once per run). */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Extra Worker options, e.g. a shorter shutdown grace time in tests. */
  workerOptions?: Partial<WorkerOptions>;
}

export interface RunningOtpWorker {
  worker: Worker;
  smsc: SmscRouter;
  /** URL of GET /status when OTP_STATUS_PORT is set. */
  statusUrl?: string;
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

  const smsc = new SmscRouter(config.routes);
  // Any bind of any route, on any worker: the receipt goes to its durable mailbox,
  // keyed by the route and the canonical message id, and is acknowledged after that.
  smsc.onReceipt(async (r, route) => {
    const receipt: DeliveryReceipt = { messageId: r.messageId, stat: r.stat, outcome: r.outcome, err: r.err, receivedAt: new Date().toISOString() };
    await client.workflow.signalWithStart(RECEIPT_MAILBOX_WORKFLOW, {
      workflowId: receiptMailboxId(route.name, route.receiptKey(r)),
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
      callbackKey: config.keys.callback,
      mail: {
        transport: createTransport({
          host: config.smtp.host,
          port: config.smtp.port,
          secure: config.smtp.secure,
          auth: config.smtp.user ? { user: config.smtp.user, pass: config.smtp.password ?? '' } : undefined,
          connectionTimeout: 5000,
          greetingTimeout: 5000,
        }),
        from: config.smtp.from,
      },
    }),
    ...(overrides.workflowBundle ? { workflowBundle: overrides.workflowBundle } : { workflowsPath: require.resolve('./workflows') }),
    ...overrides.workerOptions,
  });

  let status: Server | undefined;
  let statusUrl: string | undefined;
  if (config.statusPort) {
    // Bind state is observable: routes, binds, window use, throttling and reconnect counts.
    status = createServer((req, res) => {
      if (req.url === '/status') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ taskQueue: config.temporal.taskQueue, worker: worker.getState(), routes: smsc.describe() }));
      } else {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end('{"error":"try GET /status"}');
      }
    });
    await new Promise<void>((resolve) => status!.listen(config.statusPort, '127.0.0.1', resolve));
    statusUrl = `http://127.0.0.1:${config.statusPort}/status`;
  }

  // Graceful: the worker stops polling and finishes its activities, then binds drain their windows and unbind.
  const done = worker.run().finally(async () => {
    status?.close();
    await smsc.close();
    await connection.close();
    await clientConnection.close();
  });
  let stopping: Promise<void> | undefined;
  return {
    worker,
    smsc,
    statusUrl,
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
  if (config.usingDevKeys) console.warn('worker: using dev-only keys (set OTP_CODE_KEY, OTP_HASH_KEY, OTP_PAYLOAD_KEYS, OTP_CALLBACK_KEY for real use)');
  const running = await startWorker(config);
  const routes = config.routes.map((r) => `${r.name} ${r.tls ? 'smpps' : 'smpp'}://${r.host}:${r.port}`).join(', ');
  console.log(`worker: polling task queue "${config.temporal.taskQueue}" on ${config.temporal.address}, SMSC routes: ${routes}${running.statusUrl ? `, status on ${running.statusUrl}` : ''}`);
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
