/**
 * `npm start`: the full local stack on embedded defaults.
 *   - Temporal dev server (gRPC 7233, Web UI 8233, SQLite in data/ so a restart keeps state, the session's search attributes registered),
 *     unless TEMPORAL_ADDRESS points at a server of your own;
 *   - the SMSC simulator (SMPP 2775, phone inbox on HTTP 2780), unless OTP_START_SIMULATOR=false;
 *   - the worker, with its Prometheus endpoint on 9464 unless OTP_METRICS_PORT is set.
 * Ctrl-C stops every child process, worker first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startCodecServer, type RunningCodecServer } from '../codec/codec-server';
import { ConfigError, loadConfig } from '../config/config';
import { AesGcmPayloadCodec } from '../codec/payload-codec';
import { OTP_SEARCH_ATTRIBUTE_KEYS } from '../contract';
import { PROJECT_ROOT, startDevServer, waitForPort, type DevServer } from '../dev/temporal-server';
import { WORKER_NODE_FLAGS, WorkerAllocatorError, workerEnv } from '../lib/worker-node-flags';

/** `npm start`'s development switch: the one place approval is off by default (set OTP_SENDER_APPROVAL=required to try it). */
const EMBEDDED_SENDER_APPROVAL = 'off';

interface Child {
  name: string;
  proc: ChildProcess;
}

const children: Child[] = [];
let server: DevServer | undefined;
let codecServer: RunningCodecServer | undefined;
let stopping = false;
/** The embedded stack exports metrics by default (the port OpenTelemetry's Prometheus exporter uses); a production worker's default is off. */
const START_METRICS_PORT = '9464';

function prefix(name: string, stream: NodeJS.ReadableStream | null, out: NodeJS.WriteStream): void {
  let buf = '';
  stream?.on('data', (chunk: Buffer) => {
    buf += chunk.toString();
    const lines = buf.split('\n');
    buf = lines.pop() ?? '';
    for (const line of lines) out.write(line.startsWith(`[${name}]`) ? `${line}\n` : `[${name}] ${line}\n`);
  });
}

function launch(name: string, script: string, env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const worker = script === 'worker.js';
  const flags = worker ? WORKER_NODE_FLAGS : [];
  const proc = spawn(process.execPath, [...flags, join(PROJECT_ROOT, 'dist', script)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: worker ? workerEnv(env) : env,
  });
  prefix(name, proc.stdout, process.stdout);
  prefix(name, proc.stderr, process.stderr);
  proc.once('exit', (code, signal) => {
    if (!stopping) {
      console.error(`[start] ${name} exited unexpectedly (${signal ?? `code ${code}`}); stopping the stack`);
      void shutdown(1);
    }
  });
  children.push({ name, proc });
  return proc;
}

/** How long `npm start` waits for the worker to poll before it says the stack is up. */
const WORKER_READY_TIMEOUT_MS = 60_000;

/** Resolves once the child prints a line matching `pattern` (it keeps printing as before); rejects after `timeoutMs`. */
function outputLine(proc: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => {
      proc.stdout?.off('data', onData);
      reject(new Error(`the worker did not start polling within ${timeoutMs / 1000} s (see its output above)`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      seen = (seen + chunk.toString('utf8')).slice(-4096);
      if (!pattern.test(seen)) return;
      clearTimeout(timer);
      proc.stdout?.off('data', onData);
      resolve();
    };
    proc.stdout?.on('data', onData);
  });
}

function stopChild({ name, proc }: Child): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const killer = setTimeout(() => {
      console.error(`[start] ${name} did not stop in 10 s; killing it`);
      proc.kill('SIGKILL');
    }, 10_000);
    proc.once('exit', () => {
      clearTimeout(killer);
      resolve();
    });
    proc.kill('SIGTERM');
  });
}

async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log('[start] stopping: worker, simulator, Temporal server');
  for (const child of [...children].reverse()) await stopChild(child);
  await server?.stop();
  await codecServer?.close();
  process.exit(code);
}

async function main(): Promise<void> {
  const external = process.env.TEMPORAL_ADDRESS;
  const config = loadConfig();
  // The worker's allocator is chosen here, before anything starts: a bad or unmet OTP_WORKER_ALLOCATOR stops the launch now.
  try {
    workerEnv(process.env);
  } catch (err) {
    if (err instanceof WorkerAllocatorError) throw new ConfigError(err.message);
    throw err;
  }
  process.once('SIGINT', () => void shutdown(0));
  process.once('SIGTERM', () => void shutdown(0));

  codecServer = await startCodecServer({
    codec: new AesGcmPayloadCodec(config.keys.payload, { plaintext: 'pass' }),
    port: config.codecServer.port,
    token: config.codecServer.token,
    allowOrigin: config.codecServer.allowOrigin,
    allowEncode: config.codecServer.allowEncode,
  });
  if (!external) {
    const dataDir = join(PROJECT_ROOT, 'data');
    mkdirSync(dataDir, { recursive: true });
    const [, port] = config.temporal.address.split(':');
    server = await startDevServer({
      port: Number(port),
      uiPort: Number(port) + 1000,
      dbFile: join(dataDir, 'temporal.sqlite'),
      codecEndpoint: codecServer.uiEndpoint,
    });
  }
  const simulate = process.env.OTP_START_SIMULATOR !== 'false';
  if (simulate) {
    // The simulator listens where the worker will look for the SMSC.
    launch('smsc-sim', join('sim', 'main.js'), {
      ...process.env,
      SIM_SMPP_PORT: process.env.SIM_SMPP_PORT || String(config.smsc.port),
      SIM_SMTP_PORT: process.env.SIM_SMTP_PORT || String(config.smtp.port),
    });
    await waitForPort(config.smsc.host, config.smsc.port, 10_000);
  }
  const metricsPort = process.env.OTP_METRICS_PORT ?? (config.metrics.port ? String(config.metrics.port) : START_METRICS_PORT);
  // The embedded stack sends with no approval step; production workers keep the default, required.
  const senderApproval = process.env.OTP_SENDER_APPROVAL || EMBEDDED_SENDER_APPROVAL;
  const worker = launch('worker', 'worker.js', { ...process.env, OTP_METRICS_PORT: metricsPort, OTP_SENDER_APPROVAL: senderApproval });
  // "Up" means a send is taken at once: a send made before the worker polls would wait, and be refused as too old.
  await outputLine(worker, /worker: polling task queue/, WORKER_READY_TIMEOUT_MS);
  const metricsHost = config.metrics.host === '0.0.0.0' ? '127.0.0.1' : config.metrics.host;

  const lines = [
    '',
    'OTP stack is up:',
    `  Temporal gRPC     ${config.temporal.address}${external ? ' (external, from TEMPORAL_ADDRESS)' : ' (dev server, state in data/temporal.sqlite)'}`,
    server?.uiUrl ? `  Temporal Web UI   ${server.uiUrl}/namespaces/${config.temporal.namespace}/workflows` : undefined,
    server ? `  Search attributes ${OTP_SEARCH_ATTRIBUTE_KEYS.map((k) => k.name).join(', ')} (e.g. OtpStatus = "failed" in the Web UI)` : undefined,
    `  Codec server      ${codecServer.url} (lets the Web UI decrypt payloads${config.codecServer.token ? '; bearer token required' : ''})`,
    simulate
      ? `  SMSC simulator    smpp://${config.smsc.host}:${config.smsc.port}  (system_id ${config.smsc.systemId})`
      : `  SMSC              smpp://${config.smsc.host}:${config.smsc.port}`,
    simulate ? `  Phone inbox       http://127.0.0.1:${process.env.SIM_HTTP_PORT || 2780}/messages?to=+33612345678` : undefined,
    simulate
      ? `  Mailbox (SMTP)    smtp://127.0.0.1:${config.smtp.port}, read at http://127.0.0.1:${process.env.SIM_HTTP_PORT || 2780}/mail?to=you@example.com`
      : undefined,
    `  Worker            task queue "${config.temporal.taskQueue}"`,
    metricsPort !== '0' ? `  Metrics           http://${metricsHost}:${metricsPort}/metrics (Prometheus; Temporal SDK series included)` : undefined,
    `  Sender approval   ${senderApproval}${senderApproval === 'off' ? ' (development switch; production workers default to required)' : ': npm run otp -- profile propose login --by you@example.com'}`,
    '',
    'Try:  npm run otp -- send +33612345678',
    'Stop: Ctrl-C',
    '',
  ].filter((l): l is string => l !== undefined);
  console.log(lines.join('\n'));
}

main().catch((err: unknown) => {
  console.error(`[start] ${err instanceof ConfigError ? 'configuration error: ' : ''}${err instanceof Error ? err.message : String(err)}`);
  void shutdown(1);
});
