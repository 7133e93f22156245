/**
 * Starts the real Temporal dev server (`temporal server start-dev`) from the
 * binaries that scripts/install-temporal.sh put in .tools/. Used by `npm start`
 * and by the test suite's global setup.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { join, resolve } from 'node:path';
import { Connection } from '@temporalio/client';
import { devServerSearchAttributeArgs, ensureSearchAttributes } from '../lib/search-attributes';

export const PROJECT_ROOT = resolve(__dirname, '..', __dirname.includes(`${join('dist', 'dev')}`) ? '..' : '');

/** Path of the Temporal CLI: TEMPORAL_CLI_PATH, else .tools/bin/temporal. */
export function temporalCliPath(env: NodeJS.ProcessEnv = process.env): string {
  const path = env.TEMPORAL_CLI_PATH || join(PROJECT_ROOT, '.tools', 'bin', 'temporal');
  if (!existsSync(path)) {
    throw new Error(`Temporal CLI not found at ${path}: run "bash scripts/install-temporal.sh" or set TEMPORAL_CLI_PATH`);
  }
  return path;
}

/** Path of the time-skipping test server: TEMPORAL_TEST_SERVER_PATH, else .tools/bin/temporal-test-server. */
export function temporalTestServerPath(env: NodeJS.ProcessEnv = process.env): string {
  const path = env.TEMPORAL_TEST_SERVER_PATH || join(PROJECT_ROOT, '.tools', 'bin', 'temporal-test-server');
  if (!existsSync(path)) {
    throw new Error(`Temporal test server not found at ${path}: run "bash scripts/install-temporal.sh" or set TEMPORAL_TEST_SERVER_PATH`);
  }
  return path;
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

export function waitForPort(host: string, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolveWait, reject) => {
    const attempt = () => {
      const sock = connect({ host, port });
      sock.once('connect', () => {
        sock.destroy();
        resolveWait();
      });
      sock.once('error', () => {
        sock.destroy();
        if (Date.now() > deadline) reject(new Error(`nothing listening on ${host}:${port} after ${timeoutMs} ms`));
        else setTimeout(attempt, 100);
      });
    };
    attempt();
  });
}

export interface DevServerOptions {
  /** gRPC port. Default 7233; 0 picks a free port. */
  port?: number;
  /** Web UI port; omit with headless. Default port + 1000. */
  uiPort?: number;
  headless?: boolean;
  /** SQLite file that keeps state across restarts. Default: in memory. */
  dbFile?: string;
  /** Codec server URL the Web UI uses to decode payloads. */
  codecEndpoint?: string;
  /** Inherit stdio (npm start) or discard it (tests). Default false. */
  verbose?: boolean;
  /**
   * SQLite pragmas for the db file. Default WAL with synchronous=normal: the
   * default rollback journal halves throughput, and WAL still survives a restart.
   */
  sqlitePragmas?: string[];
}

/** @default pragmas of the dev server's SQLite file (Temporal's own SDK stress tests use the same). */
export const DEV_SERVER_SQLITE_PRAGMAS = ['journal_mode=wal', 'synchronous=normal'];

export interface DevServer {
  address: string;
  uiUrl?: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Bytes of update requests a workflow may have in flight (Temporal's default: 20 MB). A worker's reply
 * to a workflow task carries every update it rejected, request included; a few concurrent 1 MB
 * requests (refused by the session's validator) made that reply pass gRPC's 4 MB and fail the session
 * (GrpcMessageTooLarge). Past this the server refuses the update itself. Set it on production servers too.
 */
export const MAX_IN_FLIGHT_UPDATE_PAYLOADS = 1024 * 1024;

export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const cli = temporalCliPath();
  const port = options.port === 0 ? await freePort() : (options.port ?? 7233);
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--log-level', 'warn'];
  args.push('--dynamic-config-value', 'frontend.enableExecuteMultiOperation=true');
  args.push('--dynamic-config-value', 'frontend.enableUpdateWorkflowExecution=true');
  args.push('--dynamic-config-value', `history.maxInFlightUpdatePayloads=${MAX_IN_FLIGHT_UPDATE_PAYLOADS}`);
  // The session's search attributes (contract/search-attributes.ts), in the default namespace; registering them again is a no-op.
  args.push(...devServerSearchAttributeArgs());
  let uiUrl: string | undefined;
  if (options.headless) args.push('--headless');
  else {
    const uiPort = options.uiPort ?? port + 1000;
    args.push('--ui-port', String(uiPort));
    uiUrl = `http://localhost:${uiPort}`;
  }
  if (options.codecEndpoint && !options.headless) args.push('--ui-codec-endpoint', options.codecEndpoint);
  if (options.dbFile) {
    args.push('--db-filename', options.dbFile);
    for (const pragma of options.sqlitePragmas ?? DEV_SERVER_SQLITE_PRAGMAS) args.push('--sqlite-pragma', pragma);
  }
  const child = spawn(cli, args, { stdio: options.verbose ? 'inherit' : 'ignore' });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let failed: Error | undefined;
  child.once('error', (err) => (failed = err));
  try {
    await Promise.race([
      waitForPort('127.0.0.1', port, 30_000),
      exited.then(() => {
        throw failed ?? new Error(`temporal server start-dev exited early (code ${child.exitCode}); is port ${port} already in use?`);
      }),
    ]);
    if (options.dbFile) {
      // A database kept from before the attributes existed ignores the flags: add what it lacks.
      const connection = await Connection.connect({ address: `127.0.0.1:${port}`, connectTimeout: '10 seconds' });
      try {
        await ensureSearchAttributes(connection.operatorService, 'default');
      } finally {
        await connection.close();
      }
    }
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    address: `127.0.0.1:${port}`,
    uiUrl,
    process: child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
    },
  };
}
