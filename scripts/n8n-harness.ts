/**
 * A real n8n 2.x for the end-to-end test and the editor screenshot: installed
 * once into a cache (scripts/install-n8n.sh), with this package packed and
 * installed as a community package into a throwaway N8N_USER_FOLDER.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

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
  const nodesDir = join(userFolder, '.n8n', 'nodes');
  mkdirSync(nodesDir, { recursive: true });
  writeFileSync(join(nodesDir, 'package.json'), JSON.stringify({ name: 'installed-nodes', private: true }));
  await run('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error', tarball], { cwd: nodesDir, env, timeout: 600_000 });

  const cli = async (args: string[], timeoutMs = 120_000, extraEnv: NodeJS.ProcessEnv = {}) => {
    try {
      const { stdout, stderr } = await run(join(bin, 'n8n'), args, { env: { ...env, ...extraEnv }, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
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
  };
}
