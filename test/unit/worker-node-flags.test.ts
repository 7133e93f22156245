/**
 * Every worker launcher (npm start, npm run worker, the bench and chaos stacks) starts the worker with the
 * flags and environment of lib/worker-node-flags.ts: jemalloc when installed, as OTP_WORKER_ALLOCATOR asks.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../config/config';
import {
  JEMALLOC_PATHS,
  WORKER_ENV,
  WORKER_NODE_FLAGS,
  WorkerAllocatorError,
  jemallocPath,
  runningAllocator,
  shellQuote,
  shellSetup,
  workerEnv,
} from '../../lib/worker-node-flags';

const ROOT = join(__dirname, '..', '..');
const installed = (path: string) => (p: string) => p === path;
const none = () => false;
const DEBIAN = JEMALLOC_PATHS[0];
const FEDORA = '/usr/lib64/libjemalloc.so.2';

/** Runs scripts/worker.sh with a stand-in `node` that runs the real one for the flags module and prints how it would start the worker. */
function runWorkerScript(env: NodeJS.ProcessEnv): { status: number | null; stdout: string; stderr: string } {
  const bin = mkdtempSync(join(tmpdir(), 'worker-sh-'));
  writeFileSync(
    join(bin, 'node'),
    '#!/bin/sh\nif [ "$1" = dist/lib/worker-node-flags.js ]; then exec "$REAL_NODE" "$@"; fi\nprintf \'args=%s\\nLD_PRELOAD=%s\\nMALLOC_ARENA_MAX=%s\\n\' "$*" "${LD_PRELOAD:-}" "${MALLOC_ARENA_MAX:-}"\n',
  );
  chmodSync(join(bin, 'node'), 0o755);
  const run = spawnSync('sh', [join(ROOT, 'scripts', 'worker.sh'), '--inspect-me'], {
    encoding: 'utf8',
    env: { PATH: `${bin}:${process.env.PATH}`, REAL_NODE: process.execPath, ...env },
  });
  rmSync(bin, { recursive: true, force: true });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

test('npm run worker runs scripts/worker.sh', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string>; files: string[] };
  expect(pkg.scripts.worker).toMatch(/&& sh scripts\/worker\.sh$/);
  expect(pkg.files).toContain('scripts/worker.sh');
});

test('scripts/worker.sh starts the built worker with the node flags and environment of this module', () => {
  const system = runWorkerScript({ OTP_WORKER_ALLOCATOR: 'system' });
  expect(system.stdout).toBe(`args=${WORKER_NODE_FLAGS.join(' ')} dist/worker.js --inspect-me\nLD_PRELOAD=\nMALLOC_ARENA_MAX=${WORKER_ENV.MALLOC_ARENA_MAX}\n`);
  const auto = runWorkerScript({ MALLOC_ARENA_MAX: '4' });
  expect(auto.stdout).toBe(`args=${WORKER_NODE_FLAGS.join(' ')} dist/worker.js --inspect-me\nLD_PRELOAD=${jemallocPath() ?? ''}\nMALLOC_ARENA_MAX=4\n`);
});

test('scripts/worker.sh refuses a bad OTP_WORKER_ALLOCATOR before the worker starts', () => {
  const bad = runWorkerScript({ OTP_WORKER_ALLOCATOR: 'tcmalloc' });
  expect(bad.status).toBe(2);
  expect(bad.stdout).toBe('');
  expect(bad.stderr).toContain('OTP_WORKER_ALLOCATOR must be one of auto, jemalloc, system (got "tcmalloc")');
});

test("the environment fills in what the caller leaves unset or empty, and never overrides an operator's value", () => {
  expect(workerEnv({ PATH: '/bin' }, none)).toEqual({ PATH: '/bin', ...WORKER_ENV });
  expect(workerEnv({ MALLOC_ARENA_MAX: '8' }, none).MALLOC_ARENA_MAX).toBe('8');
  expect(workerEnv({ MALLOC_ARENA_MAX: '' }, none).MALLOC_ARENA_MAX).toBe(WORKER_ENV.MALLOC_ARENA_MAX);
  expect(workerEnv({ MALLOC_ARENA_MAX: undefined }, none).MALLOC_ARENA_MAX).toBe(WORKER_ENV.MALLOC_ARENA_MAX);
});

test('auto (the default) preloads the first jemalloc installed, and runs on glibc where there is none', () => {
  expect(workerEnv({}, installed(DEBIAN)).LD_PRELOAD).toBe(DEBIAN);
  expect(workerEnv({ OTP_WORKER_ALLOCATOR: 'auto' }, installed(FEDORA)).LD_PRELOAD).toBe(FEDORA);
  expect(workerEnv({ OTP_WORKER_ALLOCATOR: '' }, installed(FEDORA)).LD_PRELOAD).toBe(FEDORA);
  expect(workerEnv({}, none).LD_PRELOAD).toBeUndefined();
  expect(workerEnv({ LD_PRELOAD: '' }, installed(DEBIAN)).LD_PRELOAD).toBe(DEBIAN);
});

test("system keeps the C library's malloc, and an operator's LD_PRELOAD is left as it is", () => {
  expect(workerEnv({ OTP_WORKER_ALLOCATOR: 'system' }, installed(DEBIAN)).LD_PRELOAD).toBeUndefined();
  expect(workerEnv({ LD_PRELOAD: '/opt/profiler.so' }, installed(DEBIAN)).LD_PRELOAD).toBe('/opt/profiler.so');
  // Asked for, jemalloc joins the operator's preloads, unless one of them is a jemalloc already.
  expect(workerEnv({ OTP_WORKER_ALLOCATOR: 'jemalloc', LD_PRELOAD: '/opt/jemalloc.so' }, none).LD_PRELOAD).toBe('/opt/jemalloc.so');
  expect(workerEnv({ OTP_WORKER_ALLOCATOR: 'jemalloc', LD_PRELOAD: '/opt/profiler.so' }, installed(DEBIAN)).LD_PRELOAD).toBe(`/opt/profiler.so:${DEBIAN}`);
  expect(() => workerEnv({ OTP_WORKER_ALLOCATOR: 'jemalloc', LD_PRELOAD: '/opt/profiler.so' }, none)).toThrow(WorkerAllocatorError);
});

test('jemalloc asked for and not installed, or an unknown allocator, is a typed error that names the fix', () => {
  expect(() => workerEnv({ OTP_WORKER_ALLOCATOR: 'jemalloc' }, none)).toThrow(WorkerAllocatorError);
  expect(() => workerEnv({ OTP_WORKER_ALLOCATOR: 'jemalloc' }, none)).toThrow(/apt-get install libjemalloc2/);
  expect(workerEnv({ OTP_WORKER_ALLOCATOR: 'jemalloc' }, installed(DEBIAN)).LD_PRELOAD).toBe(DEBIAN);
  expect(() => workerEnv({ OTP_WORKER_ALLOCATOR: 'tcmalloc' }, installed(DEBIAN))).toThrow(/must be one of auto, jemalloc, system \(got "tcmalloc"\)/);
  // The worker's own configuration check says the same, as a ConfigError.
  expect(() => loadConfig({ OTP_WORKER_ALLOCATOR: 'tcmalloc' })).toThrow(ConfigError);
  expect(loadConfig({}).allocator).toBe('auto');
  expect(loadConfig({ OTP_WORKER_ALLOCATOR: 'system' }).allocator).toBe('system');
});

test('OTP_WORKER_ALLOCATOR in the config file is refused: the launcher, which reads only the environment, would ignore it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'allocator-file-'));
  const file = join(dir, 'otp.json');
  writeFileSync(file, JSON.stringify({ OTP_WORKER_ALLOCATOR: 'system' }));
  try {
    expect(() => loadConfig({ OTP_CONFIG_FILE: file })).toThrow(/read from the environment only/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the shell setup exports what workerEnv sets and the node flags, and leaves the caller's own values out", () => {
  const run = (setup: string) =>
    execFileSync('sh', ['-c', `${setup}\nprintf '%s|%s|%s\\n' "$LD_PRELOAD" "$MALLOC_ARENA_MAX" "$WORKER_NODE_FLAGS"`], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH },
    });
  expect(run(shellSetup({}, installed(DEBIAN)))).toBe(`${DEBIAN}|${WORKER_ENV.MALLOC_ARENA_MAX}|${WORKER_NODE_FLAGS.join(' ')}\n`);
  expect(shellSetup({ MALLOC_ARENA_MAX: '4' }, none)).not.toContain('MALLOC_ARENA_MAX');
  expect(shellSetup({ OTP_WORKER_ALLOCATOR: 'system' }, installed(DEBIAN))).not.toContain('LD_PRELOAD');
});

test('shell quoting keeps any value whole', () => {
  const value = 'it\'s $HOME `id` \\ "x"\n2';
  expect(execFileSync('sh', ['-c', `v=${shellQuote(value)}; printf '%s' "$v"`], { encoding: 'utf8' })).toBe(value);
});

test('the allocator a process runs on is read from its memory map', () => {
  expect(runningAllocator(42, () => '7f00-7f09 r--p 0 fe:00 1 /usr/lib/x86_64-linux-gnu/libjemalloc.so.2\n')).toBe('jemalloc');
  expect(runningAllocator(42, () => '7f00-7f09 r--p 0 fe:00 1 /usr/lib/x86_64-linux-gnu/libc.so.6\n')).toBe('system');
  expect(
    runningAllocator(42, () => {
      throw new Error('ENOENT');
    }),
  ).toBe('system');
  // Any jemalloc file name counts, as in workerEnv's check of LD_PRELOAD.
  expect(runningAllocator(42, () => '7f00-7f09 r--p 0 fe:00 1 /opt/jemalloc-5.3.so\n')).toBe('jemalloc');
});
