/**
 * Worker of the least-durable baseline: `node dist/bench/baseline/worker.js`.
 * Same settings as the product worker (config/config.ts: TEMPORAL_ADDRESS,
 * OTP_TASK_QUEUE, SMSC_*, OTP_PAYLOAD_KEYS), its own task queue and SMPP bind.
 */
import { NativeConnection, Runtime, DefaultLogger, Worker } from '@temporalio/worker';
import { otpDataConverter } from '../../client';
import { loadConfig } from '../../config/config';
import { SmscRouter } from '../../smpp/smsc';
import { createBaselineActivities } from './activities';

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const config = loadConfig();
  const smsc = new SmscRouter(config.routes, { info: () => undefined, warn: (msg, meta) => console.warn(`[smpp] ${msg}`, meta ? JSON.stringify(meta) : '') });
  // Receipts are acknowledged and forgotten: this baseline keeps no delivery state.
  smsc.onReceipt(async () => undefined);
  smsc.start();
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    dataConverter: otpDataConverter(config.keys.payload),
    workflowsPath: require.resolve('./workflows'),
    activities: createBaselineActivities(smsc, config.smsc.senderId),
  });
  await smsc.ready(10_000);
  console.log(`baseline worker: polling task queue "${config.temporal.taskQueue}" on ${config.temporal.address}`);
  const stop = () => worker.shutdown();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await worker.run();
  await smsc.close();
  await connection.close();
}

main().catch((err) => {
  console.error('baseline worker: fatal:', err instanceof Error ? err.message : err);
  process.exit(1);
});
