/**
 * A real n8n 2.x for the end-to-end tests and the editor screenshot: installed
 * once into a cache (scripts/install-n8n.sh), with this package packed and
 * installed as a community package into a throwaway N8N_USER_FOLDER the way
 * n8n's own installer does it, and `n8n start` serving published flows' webhooks.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './temporal-server';

const run = promisify(execFile);
export const ROOT = join(__dirname, __dirname.includes(join('dist', 'scripts')) ? '../..' : '..');

export interface N8nHarness {
  dir: string;
  /** Absolute path of the n8n binary. */
  bin: string;
  userFolder: string;
  env: NodeJS.ProcessEnv;
  /** Runs an n8n CLI command; rejects with its output on failure. Most CLI output goes through n8n's logger: pass N8N_LOG_LEVEL=info to see it. */
  cli(args: string[], timeoutMs?: number, extraEnv?: NodeJS.ProcessEnv): Promise<string>;
  importCredentials(credentials: unknown[]): Promise<void>;
  importWorkflows(workflows: unknown[]): Promise<void>;
  /** `n8n execute --rawOutput`: the run data of one execution. */
  execute(workflowId: string): Promise<N8nRun>;
  /** Marks an imported flow published (active): `n8n start` then serves its webhooks. */
  publish(workflowId: string): Promise<void>;
  /** `n8n start` on free ports; resolves once the REST API answers. */
  startServer(): Promise<N8nServer>;
  /** This package as n8n installed it. */
  installed: InstalledPackage;
}

export interface InstalledPackage {
  /** `<user folder>/.n8n/nodes/node_modules/<package>` */
  dir: string;
  /** Bytes of the files under dir, its node_modules included (apparent size, as `du -sb`). */
  bytes: number;
  /** Packages under dir's node_modules, however deep. */
  packages: number;
}

export interface WebhookAnswer {
  status: number;
  headers: Headers;
  /** Parsed JSON, or the raw text when the body is not JSON. */
  body: unknown;
}

export interface N8nServer {
  url: string;
  /** POSTs JSON to a production webhook (`/webhook/<path>`). */
  post(path: string, body: unknown): Promise<WebhookAnswer>;
  /** Resolves once n8n serves the webhook: published flows register theirs a moment after the REST API is up. */
  waitForWebhook(path: string, timeoutMs?: number): Promise<void>;
  /** What the server printed so far. */
  output(): string;
  stop(): Promise<void>;
}

export interface N8nRun {
  data: { resultData: { runData: Record<string, { data?: { main: ({ json: Record<string, unknown> }[] | null)[] } }[]>; error?: unknown } };
}

export function installN8n(): string {
  const out = execFileSync('bash', [join(ROOT, 'scripts', 'install-n8n.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return out.trim().split('\n').pop()!;
}

/** Packs this package (dist must be built) and installs the tarball as a community package. */
export async function setUpN8n(): Promise<N8nHarness> {
  const dir = installN8n();
  const bin = join(dir, 'node_modules', '.bin');
  const userFolder = mkdtempSync(join(tmpdir(), 'otp-n8n-'));
  // Jest sets NODE_ENV=test, under which the n8n CLI quietly does nothing: leave it out.
  const { NODE_ENV: _jest, ...inherited } = process.env;
  const env: NodeJS.ProcessEnv = {
    ...inherited,
    PATH: `${bin}:${process.env.PATH}`,
    N8N_USER_FOLDER: userFolder,
    N8N_ENCRYPTION_KEY: 'otp-e2e-encryption-key-0123456789',
    N8N_DIAGNOSTICS_ENABLED: 'false',
    N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
    N8N_TEMPLATES_ENABLED: 'false',
    N8N_PERSONALIZATION_ENABLED: 'false',
    N8N_LOG_LEVEL: 'warn',
    N8N_RUNNERS_ENABLED: 'false',
  };
  const pack = mkdtempSync(join(tmpdir(), 'otp-pack-'));
  await run('npm', ['pack', '--silent', '--pack-destination', pack], { cwd: ROOT, env });
  const tarball = join(pack, readdirSync(pack).find((f) => f.endsWith('.tgz'))!);
  const installed = await installLikeN8n(tarball, join(userFolder, '.n8n', 'nodes'), env);

  const cli = async (args: string[], timeoutMs = 120_000, extraEnv: NodeJS.ProcessEnv = {}) => {
    // `n8n execute` starts a task broker (default port 5679) even with runners off: two n8n at once would collide.
    const broker = { N8N_RUNNERS_BROKER_PORT: String(await freePort()) };
    try {
      const { stdout, stderr } = await run(join(bin, 'n8n'), args, {
        env: { ...env, ...broker, ...extraEnv },
        timeout: timeoutMs,
        maxBuffer: 64 * 1024 * 1024,
      });
      return `${stdout}${stderr ? `\n${stderr}` : ''}`;
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; message: string };
      throw new Error(`n8n ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
    }
  };
  const importJson = async (kind: 'credentials' | 'workflow', data: unknown[]) => {
    const file = join(userFolder, `${kind}-${Date.now()}.json`);
    writeFileSync(file, JSON.stringify(data));
    const out = await cli([`import:${kind}`, `--input=${file}`], 120_000, { N8N_LOG_LEVEL: 'info' });
    if (!/Successfully imported/i.test(out)) throw new Error(`n8n import:${kind} did not report success:\n${out}`);
  };
  return {
    dir,
    bin: join(bin, 'n8n'),
    userFolder,
    env,
    installed,
    cli,
    importCredentials: (c) => importJson('credentials', c),
    importWorkflows: (w) => importJson('workflow', w),
    async execute(workflowId) {
      // The CLI prints the run through its logger, so it needs log level info; the JSON starts at a line "{".
      const out = await cli(['execute', `--id=${workflowId}`, '--rawOutput'], 120_000, { N8N_LOG_LEVEL: 'info' });
      const lines = out.split('\n');
      const first = lines.findIndex((l) => l === '{');
      const last = lines.lastIndexOf('}');
      try {
        return JSON.parse(lines.slice(first, last + 1).join('\n')) as N8nRun;
      } catch {
        throw new Error(`n8n execute printed no run data:\n${out}`);
      }
    },
    async publish(workflowId) {
      await cli(['publish:workflow', `--id=${workflowId}`]);
    },
    startServer: () => startServer(join(bin, 'n8n'), env),
  };
}

/**
 * What n8n 2.x does to install a community package (CommunityPackagesService.downloadPackage):
 * extract the tarball into nodes/node_modules/<name>, drop its dev, peer and optional
 * dependencies, `npm install` inside it with n8n's flags, and record it in nodes/package.json.
 */
async function installLikeN8n(tarball: string, nodesDir: string, env: NodeJS.ProcessEnv): Promise<InstalledPackage> {
  const { name, version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
  const dir = join(nodesDir, 'node_modules', name);
  mkdirSync(dir, { recursive: true });
  await run('tar', ['-xzf', tarball, '-C', dir, '--strip-components=1']);
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
  const { devDependencies: _dev, peerDependencies: _peer, optionalDependencies: _optional, ...kept } = manifest;
  writeFileSync(join(dir, 'package.json'), JSON.stringify(kept, null, 2));
  const flags = ['--audit=false', '--fund=false', '--bin-links=false', '--install-strategy=shallow', '--ignore-scripts=true', '--package-lock=false'];
  await run('npm', ['install', ...flags, '--loglevel=error'], { cwd: dir, env, timeout: 600_000 });
  writeFileSync(join(nodesDir, 'package.json'), JSON.stringify({ name: 'installed-nodes', private: true, dependencies: { [name]: version } }, null, 2));
  return { dir, ...measureInstall(dir) };
}

/** Bytes of every file under dir (symlinks not followed) and the packages in its node_modules. */
export function measureInstall(dir: string): { bytes: number; packages: number } {
  let bytes = 0;
  let packages = 0;
  const walk = (path: string, parent: string, grandparent: string) => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const child = join(path, entry.name);
      if (!entry.isDirectory()) {
        bytes += lstatSync(child).size;
        continue;
      }
      // A package is a folder in node_modules, or in a node_modules/@scope folder.
      const inNodeModules = parent === 'node_modules' || (grandparent === 'node_modules' && parent.startsWith('@'));
      if (inNodeModules && !entry.name.startsWith('@') && !entry.name.startsWith('.')) packages++;
      walk(child, entry.name, parent);
    }
  };
  walk(dir, '', '');
  return { bytes, packages };
}

async function startServer(n8nBin: string, env: NodeJS.ProcessEnv): Promise<N8nServer> {
  const [port, brokerPort] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${port}`;
  // Its own process group, so stop() also ends whatever n8n started.
  const child = spawn(n8nBin, ['start'], {
    env: {
      ...env,
      N8N_PORT: String(port),
      N8N_LISTEN_ADDRESS: '127.0.0.1',
      N8N_HOST: '127.0.0.1',
      N8N_RUNNERS_BROKER_PORT: String(brokerPort),
      N8N_SECURE_COOKIE: 'false',
      N8N_GRACEFUL_SHUTDOWN_TIMEOUT: '5',
      N8N_LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-200_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    process.kill(-child.pid!, 'SIGTERM');
    const killer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 20_000);
    await exited;
    clearTimeout(killer);
  };
  // /healthz answers before the REST API and the webhooks are mounted; /rest/settings after.
  const deadline = Date.now() + 180_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`n8n start exited with ${child.exitCode}:\n${output}`);
    const ok = await fetch(`${url}/rest/settings`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`n8n start did not answer on ${url} within 180 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return {
    url,
    async post(path, body) {
      const res = await fetch(`${url}/webhook/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
      return { status: res.status, headers: res.headers, body: parsed };
    },
    async waitForWebhook(path, timeoutMs = 60_000) {
      const until = Date.now() + timeoutMs;
      // A CORS preflight answers 204 for a registered webhook and an error otherwise, and runs no flow.
      const preflight = { origin: 'http://localhost', 'access-control-request-method': 'POST' };
      while ((await fetch(`${url}/webhook/${path}`, { method: 'OPTIONS', headers: preflight })).status !== 204) {
        if (Date.now() > until) throw new Error(`n8n did not register webhook ${path} within ${timeoutMs} ms:\n${output}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    },
    output: () => output,
    stop,
  };
}
