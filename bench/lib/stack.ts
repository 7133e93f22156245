/**
 * The stack under test, every part in its own process: a Temporal dev server
 * (SQLite file in a temp dir, as `npm start` uses) unless TEMPORAL_ADDRESS
 * names one, the SMSC simulator (dist/sim/main.js), the product worker
 * (dist/worker.js) and the least-durable baseline's worker. Free ports, the
 * run's own task queues. A chaos run (chaos/) also kills and restarts the
 * product worker and the dev server on its database file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT, freePort, startDevServer, waitForPort, type DevServer } from '../../dev/temporal-server';
import { sleep } from './stats';
import { WORKER_NODE_FLAGS, workerEnv } from '../../lib/worker-node-flags';

export interface StackOptions {
  runId: string;
  /** Use this server instead of starting a dev server. */
  temporalAddress?: string;
  baselines: boolean;
  smscTps: number;
  receiptDelayMs: number;
  /** OTP_PROFILES for the product worker (raises the tenant's send rate so the bench measures capacity, not the policy). */
  profiles?: string;
  /** Serve the product worker's GET /metrics (OTP_METRICS_PORT on a free port), for `--scrapes`. @default false */
  metrics?: boolean;
  verbose: boolean;
  /** Every line a child writes (a chaos run checks the logs for numbers, codes and dumped histories). */
  onLine?: (child: string, line: string) => void;
}

export interface ChildInfo {
  name: string;
  proc: ChildProcess;
  /** Last lines of its output, shown if it dies. */
  tail: string[];
}

export class BenchStack {
  server?: DevServer;
  address = '';
  simHttpUrl = '';
  simSmppPort = 0;
  taskQueue: string;
  baselineTaskQueue: string;
  /** Env the workers got; the generator's clients load their config from the same. */
  workerEnv: NodeJS.ProcessEnv = {};
  /** The product worker's metrics endpoint, when `metrics` is on. */
  metricsUrl?: string;
  readonly children: ChildInfo[] = [];
  private dataDir?: string;
  private stopping = false;
  /** Set when a child died: the run cannot go on. */
  failure?: Error;
  /** Children whose next exit is ours (a chaos kill or restart), not a failure. */
  private readonly expectedExits = new Set<ChildProcess>();
  /** How the product worker was launched, to launch it again. */
  private productWorker?: { env: NodeJS.ProcessEnv };
  private serverPort = 0;

  constructor(private readonly opts: StackOptions) {
    this.taskQueue = `bench-${opts.runId}`;
    this.baselineTaskQueue = `bench-${opts.runId}-ld`;
  }

  pid(name: string): number | undefined {
    if (name === 'server') return this.server?.process.pid;
    return this.child(name)?.proc.pid;
  }

  /** The running child of that name (a restarted worker replaces one that exited). */
  private child(name: string): ChildInfo | undefined {
    const all = this.children.filter((c) => c.name === name);
    return all.find((c) => c.proc.exitCode === null && c.proc.signalCode === null) ?? all.at(-1);
  }

  async start(): Promise<void> {
    if (this.opts.temporalAddress) this.address = this.opts.temporalAddress;
    else {
      this.dataDir = mkdtempSync(join(tmpdir(), 'otp-bench-'));
      this.serverPort = await freePort();
      this.server = await startDevServer({ port: this.serverPort, headless: true, dbFile: join(this.dataDir, 'temporal.sqlite') });
      this.address = this.server.address;
    }
    const [smpp, http, smtp] = [await freePort(), await freePort(), await freePort()];
    this.simSmppPort = smpp;
    this.simHttpUrl = `http://127.0.0.1:${http}`;
    const env: NodeJS.ProcessEnv = { ...process.env };
    // The bench's SMSC is its simulator: routes from the environment would point elsewhere.
    delete env.SMSC_ROUTES;
    delete env.SMSC_ROUTES_FILE;
    this.launch('smsc-sim', ['sim', 'main.js'], {
      ...env,
      SIM_SMPP_PORT: String(smpp),
      SIM_HTTP_PORT: String(http),
      SIM_SMTP_PORT: String(smtp),
      SIM_RECEIPT_DELAY_MS: String(this.opts.receiptDelayMs),
    });
    await waitForPort('127.0.0.1', smpp, 15_000);
    await waitForPort('127.0.0.1', http, 15_000);
    this.workerEnv = {
      ...env,
      TEMPORAL_ADDRESS: this.address,
      SMSC_HOST: '127.0.0.1',
      SMSC_PORT: String(smpp),
      SMTP_HOST: '127.0.0.1',
      SMTP_PORT: String(smtp),
      SMSC_TPS: String(this.opts.smscTps),
      OTP_STATUS_PORT: '0',
      OTP_TASK_QUEUE: this.taskQueue,
      // The bench measures the send path as `npm start` runs it: no approval step.
      OTP_SENDER_APPROVAL: 'off',
      ...(this.opts.profiles !== undefined ? { OTP_PROFILES: this.opts.profiles } : {}),
    };
    // Metrics only where asked, and only on the product worker: the baseline has none to compare.
    const metrics = this.opts.metrics
      ? { OTP_METRICS_PORT: String(await freePort()), OTP_SDK_METRICS_PORT: String(await freePort()) }
      : { OTP_METRICS_PORT: '0' };
    if (this.opts.metrics) this.metricsUrl = `http://127.0.0.1:${metrics.OTP_METRICS_PORT}/metrics`;
    this.productWorker = { env: { ...this.workerEnv, ...metrics } };
    const ready: Promise<void>[] = [this.launchWorker('worker', ['worker.js'], this.productWorker.env)];
    if (this.opts.baselines)
      ready.push(
        this.launchWorker('baseline-worker', ['bench', 'baseline', 'worker.js'], {
          ...this.workerEnv,
          OTP_METRICS_PORT: '0',
          OTP_TASK_QUEUE: this.baselineTaskQueue,
        }),
      );
    await Promise.all(ready);
  }

  /** Resolves when the worker says it polls (its start-up line), rejects if it exits first. */
  private launchWorker(name: string, script: string[], env: NodeJS.ProcessEnv): Promise<void> {
    const child = this.launch(name, script, env);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name} did not report polling within 120 s:\n${child.tail.join('\n')}`)), 120_000);
      const check = (chunk: Buffer) => {
        if (/polling task queue/.test(chunk.toString())) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.proc.stdout?.on('data', check);
      child.proc.once('exit', () => {
        clearTimeout(timer);
        reject(new Error(`${name} exited during start-up:\n${child.tail.join('\n')}`));
      });
    });
  }

  private launch(name: string, script: string[], env: NodeJS.ProcessEnv): ChildInfo {
    // Both workers, the product's and the baselines', run with the workers' node flags and environment, so the comparison stays fair.
    const worker = script.at(-1) === 'worker.js';
    const flags = worker ? WORKER_NODE_FLAGS : [];
    const proc = spawn(process.execPath, [...flags, join(PROJECT_ROOT, 'dist', ...script)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: worker ? workerEnv(env) : env,
    });
    const child: ChildInfo = { name, proc, tail: [] };
    const keep = (out: NodeJS.WriteStream) => (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        child.tail.push(line);
        this.opts.onLine?.(name, line);
        if (child.tail.length > 30) child.tail.shift();
        if (this.opts.verbose) out.write(`[${name}] ${line}\n`);
      }
    };
    proc.stdout?.on('data', keep(process.stdout));
    proc.stderr?.on('data', keep(process.stderr));
    proc.once('exit', (code, signal) => {
      if (this.stopping || this.expectedExits.delete(proc)) return;
      this.failure ??= new Error(`${name} exited unexpectedly (${signal ?? `code ${code}`}):\n${child.tail.join('\n')}`);
      console.error(`[bench] ${this.failure.message}`);
    });
    this.children.push(child);
    return child;
  }

  /** SIGKILLs (a crash) or SIGTERMs (a graceful stop) the product worker; resolves once it has exited. */
  async stopWorker(signal: 'SIGKILL' | 'SIGTERM'): Promise<void> {
    const child = this.child('worker');
    if (!child) throw new Error('no product worker');
    this.expectedExits.add(child.proc);
    if (signal === 'SIGKILL') {
      const exited =
        child.proc.exitCode !== null || child.proc.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => child.proc.once('exit', () => r()));
      child.proc.kill('SIGKILL');
      await exited;
    } else await stopChild(child.proc);
    this.children.splice(this.children.indexOf(child), 1);
  }

  /** Starts the product worker again with the env it first had; resolves when it polls. */
  async startWorker(): Promise<void> {
    if (!this.productWorker) throw new Error('the stack has not started');
    // A worker that died by itself is replaced, not kept beside the new one.
    for (const c of this.children.filter((x) => x.name === 'worker' && (x.proc.exitCode !== null || x.proc.signalCode !== null)))
      this.children.splice(this.children.indexOf(c), 1);
    await this.launchWorker('worker', ['worker.js'], this.productWorker.env);
  }

  /** Stops the dev server (SIGTERM) and starts it again on the same port and database file. */
  async restartServer(): Promise<void> {
    if (!this.server || !this.dataDir) throw new Error('the dev server is external: it cannot be restarted from here');
    await this.server.stop();
    this.server = await startDevServer({ port: this.serverPort, headless: true, dbFile: join(this.dataDir, 'temporal.sqlite') });
  }

  /** Workers first, then the simulator, then the server. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    for (const child of [...this.children].reverse()) await stopChild(child.proc);
    await this.server?.stop();
    if (this.dataDir) rmSync(this.dataDir, { recursive: true, force: true });
  }
}

async function stopChild(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  proc.kill('SIGTERM');
  const killed = await Promise.race([exited.then(() => true), sleep(15_000).then(() => false)]);
  if (!killed) {
    proc.kill('SIGKILL');
    await exited;
  }
}
