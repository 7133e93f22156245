/**
 * The OTP worker: owns the SMPP binds and a Temporal client, builds the
 * activities around them, and routes every delivery receipt into its
 * durable mailbox workflow. Run with `npm run worker` (scripts/worker.sh: the node flags and malloc of
 * lib/worker-node-flags.ts); npm start does the same.
 */
import { Client, Connection, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { MO_WORKFLOW, type MobileOriginatedInput } from './contract';
import { moWorkflowId, normalizePhone } from './contract/keys';
import { matchKeyword, type ParsedMo } from './smpp/mo';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { DeliveryReceipt } from './contract';
import { createActivities } from './activities';
import { CodeKeyring, SealOpener } from './activities/code';
import { SendAdmission } from './activities/admission';
import { ReceiptLinks } from './activities/receipt-links';
import { LateLinks } from './activities/late-links';
import { VelocityGate } from './activities/velocity-gate';
import { SuppressionList } from './activities/suppression-list';
import { SenderApprovals } from './activities/sender-approvals';
import { otpDataConverter } from './client';
import { workerDataConverter } from './codec/worker-converter';
import { loadConfig, ConfigError, type OtpConfig } from './config/config';
import { drainingCalls } from './lib/draining-calls';
import { checkSearchAttributes } from './lib/search-attributes';
import { createServer, type Server } from 'node:http';
import { createTransport } from 'nodemailer';
import { SmscRouter } from './smpp/smsc';
import { oversubscribedRoutes, workerShare } from './smpp/account-share';
import { OtpMetrics, installSdkMetrics, sdkMetricsAddress, serveMetrics, type MetricsServer } from './lib/metrics';
import { workflowCode } from './lib/workflow-bundle';
import { runningAllocator } from './lib/worker-node-flags';

export interface OtpWorkerOverrides {
  /** Reuse a prebuilt bundle (tests bundle once per run). */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Extra Worker options, e.g. a shorter shutdown grace time in tests. */
  workerOptions?: Partial<WorkerOptions>;
}

/** The caller's bundle, else the build's, else webpack at start (slower, and said so). */
function workflowSource(overrides: OtpWorkerOverrides): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> {
  if (overrides.workflowBundle) return { workflowBundle: overrides.workflowBundle };
  const code = workflowCode();
  if ('workflowBundle' in code) return code;
  console.warn(`worker: bundling the workflows at start, about 2 s (${code.why}); \`npm run build\` in a clone of the repository prebuilds them`);
  return { workflowsPath: code.workflowsPath };
}

export interface RunningOtpWorker {
  worker: Worker;
  smsc: SmscRouter;
  links: ReceiptLinks;
  gate: VelocityGate;
  /** This worker's copy of the STOP list. */
  suppression: SuppressionList;
  /** This worker's copy of sender approvals; absent when OTP_SENDER_APPROVAL=off. */
  approvals?: SenderApprovals;
  admission: SendAdmission;
  /** Mobile-originated messages: received, handed to Temporal, not forwarded, re-sent copies, hand-offs that failed. */
  mo: { received: number; handedOver: number; notForwarded: number; duplicates: number; failures: number };
  /** URL of GET /status when OTP_STATUS_PORT is set. */
  statusUrl?: string;
  /** What the worker records for Prometheus (served when OTP_METRICS_PORT is set). */
  metrics: OtpMetrics;
  /** URL of GET /metrics when OTP_METRICS_PORT is set. */
  metricsUrl?: string;
  client: Client;
  /** Resolves when the worker has stopped (after shutdown()). */
  done: Promise<void>;
  /** Stops polling, lets running activities finish, unbinds, closes connections. */
  shutdown(): Promise<void>;
}

export async function startWorker(config: OtpConfig, overrides: OtpWorkerOverrides = {}): Promise<RunningOtpWorker> {
  // Before the first connection creates the Runtime: only then can the SDK export its own metrics.
  if (config.metrics.port) installSdkMetrics(config.metrics.sdkPort);
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const calls = drainingCalls();
  const clientConnection = await Connection.connect({ address: config.temporal.address, interceptors: calls.interceptors });
  const client = new Client({ connection: clientConnection, namespace: config.temporal.namespace, dataConverter: otpDataConverter(config.keys.payload) });
  // Before anything binds: sessions upsert search attributes, and an unknown one fails every workflow task.
  try {
    if ((await checkSearchAttributes(clientConnection.operatorService, config.temporal.namespace, config.temporal.address)) === 'unchecked') {
      console.warn(
        `worker: the Temporal server at ${config.temporal.address} cannot list search attributes; make sure the session's exist (README, Search attributes)`,
      );
    }
  } catch (err) {
    await clientConnection.close();
    await connection.close();
    throw err;
  }
  // Workflows get sealed codes opened into digests by the worker's codec, never the code.
  const dataConverter = workerDataConverter(config);

  // Route limits are the account's; this process takes its share of them.
  const over = oversubscribedRoutes(config.routes, config.workers);
  if (over.length)
    console.warn(`worker: OTP_WORKERS=${config.workers} exceeds the binds of route(s) ${over.join(', ')}; each worker still opens one bind of each kind`);
  const smsc = new SmscRouter(config.routes.map((r) => workerShare(r, config.workers)));
  const links = new ReceiptLinks({ client, taskQueue: config.temporal.taskQueue, ...config.receipts });
  const late = new LateLinks({ client, taskQueue: config.temporal.taskQueue });
  const gate = new VelocityGate({ client, taskQueue: config.temporal.taskQueue, ...config.velocity });
  const suppression = new SuppressionList({ client, syncMs: config.suppressionSyncMs });
  const approvals = config.senderApproval.mode === 'required' ? new SenderApprovals({ client, syncMs: config.senderApproval.syncMs }) : undefined;
  const admission = new SendAdmission(config.admission);
  const metrics = new OtpMetrics({ smsc, admission });
  // Any bind of any route: straight to the session when this worker submitted the
  // message, else to its durable mailbox; acknowledged only once that is done.
  smsc.onReceipt(async (r, route) => {
    const receipt: DeliveryReceipt = { messageId: r.messageId, stat: r.stat, outcome: r.outcome, err: r.err, receivedAt: new Date().toISOString() };
    const key = route.receiptKey(r);
    await links.route({ route: route.name, key }, receipt);
    // Counted once it is handed on: a receipt that fails here is redelivered by the SMSC and counted then.
    metrics.receipt(route.name, key, r.stat, r.outcome);
  });
  // Mobile-originated messages: handed to a durable workflow before the deliver_sm is acknowledged.
  const mo = { received: 0, handedOver: 0, notForwarded: 0, duplicates: 0, failures: 0 };
  smsc.onMobileOriginated(async (m, route, bind) => {
    mo.received++;
    const sender = moSender(m, config.defaultRegion);
    const kw = sender.e164 ? matchKeyword(m.text, config.mo.stopKeywords, config.mo.startKeywords) : undefined;
    const forward = config.mo.webhookUrl !== undefined;
    if (!forward && !kw) {
      // Never the number or the text in a log.
      mo.notForwarded++;
      console.log(`worker: MO message on ${bind} acknowledged, not forwarded (OTP_MO_WEBHOOK_URL is not set)`);
      return;
    }
    const eventId = moWorkflowId(config.keys.hash[0], route.name, [sender.from, m.to, m.text, m.reference]);
    const input: MobileOriginatedInput = {
      eventId,
      from: sender.from,
      fromIsE164: sender.e164,
      to: m.to,
      text: m.text,
      route: route.name,
      receivedAt: new Date().toISOString(),
      ...(kw ?? {}),
      forward,
    };
    try {
      await client.workflow.start(MO_WORKFLOW, { workflowId: eventId, taskQueue: config.temporal.taskQueue, args: [input] });
      mo.handedOver++;
    } catch (err) {
      // The SMSC re-sent one we already hold: acknowledge it.
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        mo.duplicates++;
        return;
      }
      mo.failures++;
      throw err; // answered ESME_RX_T_APPN: the SMSC re-sends it
    }
  });
  smsc.start();
  links.start();
  gate.start();
  suppression.start();
  approvals?.start();
  approvals?.preload(config.tenant);

  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    dataConverter,
    activities: createActivities({
      smsc,
      client,
      taskQueue: config.temporal.taskQueue,
      codeKeys: new CodeKeyring(config.keys.code),
      idKeys: config.keys.hash,
      seal: new SealOpener(config.keys.sealPrivate),
      outbound: config.outbound,
      moWebhookUrl: config.mo.webhookUrl,
      brand: config.brand,
      senderId: config.smsc.senderId,
      profiles: config.profiles,
      callbackKey: config.keys.callback,
      gate,
      links,
      late,
      suppression,
      approvals,
      admission,
      metrics,
      mail: {
        transport: createTransport({
          host: config.smtp.host,
          port: config.smtp.port,
          secure: config.smtp.secure,
          requireTLS: config.smtp.requireTls,
          ...(config.smtp.ca ? { tls: { ca: config.smtp.ca } } : {}),
          auth: config.smtp.user ? { user: config.smtp.user, pass: config.smtp.password ?? '' } : undefined,
          connectionTimeout: 5000,
          greetingTimeout: 5000,
        }),
        from: config.smtp.from,
      },
    }),
    // Verify outcomes are known only in the session: it reports them through this sink (never during replay).
    sinks: metrics.sinks(),
    maxCachedWorkflows: config.maxCachedWorkflows,
    stickyQueueScheduleToStartTimeout: config.stickyTimeoutMs,
    ...workflowSource(overrides),
    ...overrides.workerOptions,
  });

  let status: Server | undefined;
  let statusUrl: string | undefined;
  if (config.statusPort) {
    // Bind state is observable: routes, binds, window use, throttling and reconnect counts.
    status = createServer((req, res) => {
      if (req.url === '/status') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            taskQueue: config.temporal.taskQueue,
            worker: worker.getState(),
            routes: smsc.describe(),
            sends: { inFlight: admission.current, max: admission.maxInFlight, ...admission.stats },
            mo,
            suppressionList: suppression.stats(),
            senderApproval: approvals ? { mode: 'required', ...approvals.stats() } : { mode: 'off' },
            receipts: { open: links.size, ...links.stats, lateLinked: late.stats.linked, lateLinkFailures: late.stats.failures },
            // Submits without an answer in time, and every SMS that may have gone out twice.
            submits: smsc.stats.snapshot(),
          }),
        );
      } else if (req.method === 'POST' && req.url === '/binds/reset') {
        // Operator, after fixing credentials: binds stopped by refusals try again now.
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ reset: smsc.resetBindRefusals() }));
      } else {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end('{"error":"try GET /status"}');
      }
    });
    await new Promise<void>((resolve) => status!.listen(config.statusPort, '127.0.0.1', resolve));
    statusUrl = `http://127.0.0.1:${config.statusPort}/status`;
  }

  let metricsServer: MetricsServer | undefined;
  if (config.metrics.port) {
    const sdkAddress = sdkMetricsAddress();
    if (!sdkAddress)
      console.warn(
        `worker: the Temporal Runtime exports no Prometheus metrics (created before the worker, or 127.0.0.1:${config.metrics.sdkPort} was taken): /metrics has no temporal_* series`,
      );
    metricsServer = await serveMetrics(metrics, { host: config.metrics.host, port: config.metrics.port, sdkAddress });
  }

  // Graceful: the worker stops polling and finishes its activities, then binds drain their windows and unbind.
  const done = worker.run().finally(async () => {
    status?.close();
    await metricsServer?.close();
    suppression.close();
    approvals?.close();
    // Link open messages in mailboxes and report counts, so whoever comes next misses nothing.
    await Promise.all([links.close(), gate.close()]);
    await smsc.close();
    await connection.close();
    // A call still in its retry backoff would throw from its timer once the channel is closed.
    await calls.drain();
    await clientConnection.close();
  });
  let stopping: Promise<void> | undefined;
  return {
    worker,
    smsc,
    links,
    gate,
    suppression,
    approvals,
    admission,
    mo,
    statusUrl,
    metrics,
    metricsUrl: metricsServer?.url,
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

/** The MO sender in E.164 when it reads as a valid number (TON international, or national in OTP_DEFAULT_REGION). */
function moSender(m: ParsedMo, region?: string): { from: string; e164: boolean } {
  const raw = m.from.trim();
  const candidate = raw.startsWith('+') || (m.fromTon !== 1 && region) ? raw : `+${raw}`;
  try {
    return { from: normalizePhone(candidate, region), e164: true };
  } catch {
    return { from: raw, e164: false };
  }
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
  // Asked for jemalloc but started without it (e.g. plain `node dist/worker.js`): refuse, as the launcher would.
  const allocator = runningAllocator();
  if (config.allocator === 'jemalloc' && allocator !== 'jemalloc') {
    console.error(
      'worker: configuration error: OTP_WORKER_ALLOCATOR=jemalloc, but this process runs without it: start it with npm run worker (scripts/worker.sh) or LD_PRELOAD=libjemalloc.so.2',
    );
    process.exit(2);
  }
  if (config.senderApproval.mode === 'off') console.warn('worker: OTP_SENDER_APPROVAL=off: profile revisions send without approval (development only)');
  if (config.usingDevKeys) console.warn('worker: using dev-only keys (set OTP_CODE_KEY, OTP_HASH_KEY, OTP_PAYLOAD_KEYS, OTP_CALLBACK_KEY for real use)');
  const running = await startWorker(config);
  const routes = config.routes.map((r) => `${r.name} ${r.tls ? 'smpps' : 'smpp'}://${r.host}:${r.port}`).join(', ');
  console.log(
    `worker: polling task queue "${config.temporal.taskQueue}" on ${config.temporal.address}, malloc ${allocator === 'jemalloc' ? 'jemalloc' : 'of the C library (jemalloc is not preloaded: see OTP_WORKER_ALLOCATOR)'}, SMSC routes: ${routes}${running.statusUrl ? `, status on ${running.statusUrl}` : ''}${running.metricsUrl ? `, metrics on ${running.metricsUrl}` : ''}`,
  );
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
