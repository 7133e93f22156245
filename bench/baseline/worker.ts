/**
 * Worker of the baselines (least-durable send and least-durable login):
 * `node dist/bench/baseline/worker.js`. Same settings as the product worker
 * (config/config.ts: TEMPORAL_ADDRESS, OTP_TASK_QUEUE, SMSC_*,
 * OTP_PAYLOAD_KEYS), its own task queue and SMPP bind.
 */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, DefaultLogger, Worker } from '@temporalio/worker';
import { otpDataConverter } from '../../client';
import { loadConfig } from '../../config/config';
import { SmscRouter } from '../../smpp/smsc';
import { createBaselineActivities } from './activities';
import { loginReceiptSignal } from './contract';
import { LoginReceiptPairing, messageKey } from './receipt-pairing';

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const config = loadConfig();
  const warn = (msg: string, meta?: object) => console.warn(`[smpp] ${msg}`, meta ? JSON.stringify(meta) : '');
  const smsc = new SmscRouter(config.routes, { info: () => undefined, warn });
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const dataConverter = otpDataConverter(config.keys.payload);
  const clientConnection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection: clientConnection, namespace: config.temporal.namespace, dataConverter });
  const pairing = new LoginReceiptPairing((workflowId, receipt) => client.workflow.getHandle(workflowId).signal(loginReceiptSignal, receipt), {
    warn: (msg) => console.warn(`baseline worker: ${msg}`),
  });
  // A least-durable send's receipt pairs with nothing and is dropped; a login's is signalled to its workflow.
  smsc.onReceipt((r, route) =>
    pairing.route(messageKey(route.name, route.receiptKey(r)), { messageId: r.messageId, stat: r.stat, final: r.outcome !== 'pending' }),
  );
  smsc.start();
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    dataConverter,
    workflowsPath: require.resolve('./workflows'),
    activities: createBaselineActivities(smsc, config.smsc.senderId, pairing),
  });
  await smsc.ready(10_000);
  console.log(`baseline worker: polling task queue "${config.temporal.taskQueue}" on ${config.temporal.address}`);
  const stop = () => worker.shutdown();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await worker.run();
  await smsc.close();
  await clientConnection.close();
  await connection.close();
}

main().catch((err) => {
  console.error('baseline worker: fatal:', err instanceof Error ? err.message : err);
  process.exit(1);
});
