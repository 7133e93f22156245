/**
 * Node flags and environment every worker process runs with: `npm start`, `npm run worker` (scripts/worker.sh,
 * which evaluates this module's output), the bench and chaos stacks. One definition, so all of them run alike.
 */
import { existsSync, readFileSync } from 'node:fs';

/**
 * - `--max-semi-space-size=4`: the two V8 isolates' young generations stay small under a burst.
 * - `--heap-growing-percent=50`: an old generation may grow to 1.5× what the last full GC left live before the next
 *   one. By default V8 lets it grow up to 4× while its GC keeps up easily, as the workflow thread's always does, and
 *   that slack was most of the worker's RSS over 400 MB.
 * Measured in docs/benchmarks.md ("Worker memory: V8's heap growth and the allocator").
 */
export const WORKER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4', '--heap-growing-percent=50'];

/**
 * Environment every worker process starts with, under the caller's own values (an operator's setting wins).
 * Two glibc malloc arenas instead of 8 per core: the SDK's Rust threads each fill an arena of their own and
 * glibc rarely hands their free pages back. It only matters when the worker runs on glibc's malloc (no jemalloc,
 * see below). The variable only has effect when set before the process starts.
 */
export const WORKER_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };

/**
 * Where distributions install jemalloc's shared library: Debian and Ubuntu (`libjemalloc2`) on x86-64 and arm64,
 * Fedora and RHEL (`jemalloc`), Alpine and source builds.
 */
export const JEMALLOC_PATHS: readonly string[] = [
  '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2',
  '/usr/lib/aarch64-linux-gnu/libjemalloc.so.2',
  '/usr/lib64/libjemalloc.so.2',
  '/usr/lib/libjemalloc.so.2',
  '/usr/local/lib/libjemalloc.so.2',
];

/**
 * OTP_WORKER_ALLOCATOR, read from the environment only (a launcher needs it before the worker starts). `auto`:
 * jemalloc when it is installed, else the C library's malloc; `jemalloc`: refuse to start without it; `system`: the
 * C library's. Why: docs/operations.md, "Worker memory".
 * @default 'auto'
 */
export const WORKER_ALLOCATORS = ['auto', 'jemalloc', 'system'] as const;
export type WorkerAllocator = (typeof WORKER_ALLOCATORS)[number];
export const DEFAULT_WORKER_ALLOCATOR: WorkerAllocator = 'auto';

/** The allocator setting names a value that is not one, or asks for jemalloc where there is none. */
export class WorkerAllocatorError extends Error {
  override readonly name = 'WorkerAllocatorError';
}

/** OTP_WORKER_ALLOCATOR's value, checked; empty or unset is the default. */
export function workerAllocator(value: string | undefined): WorkerAllocator {
  const v = (value ?? '').trim() || DEFAULT_WORKER_ALLOCATOR;
  if (!(WORKER_ALLOCATORS as readonly string[]).includes(v))
    throw new WorkerAllocatorError(`OTP_WORKER_ALLOCATOR must be one of ${WORKER_ALLOCATORS.join(', ')} (got "${v}")`);
  return v as WorkerAllocator;
}

/** The first installed jemalloc, if any. */
export function jemallocPath(exists: (path: string) => boolean = existsSync): string | undefined {
  return JEMALLOC_PATHS.find((p) => exists(p));
}

/** A preload list that already holds a jemalloc (any file name with jemalloc in it). */
const JEMALLOC_FILE = /jemalloc[^/\s:]*\.so/;

/**
 * `env` with WORKER_ENV filled in where `env` leaves the variable unset or empty, and jemalloc preloaded as
 * OTP_WORKER_ALLOCATOR asks. Under `auto` an operator's LD_PRELOAD is left as it is; under `jemalloc` jemalloc is
 * added to it unless it is already there.
 * @throws WorkerAllocatorError for a bad OTP_WORKER_ALLOCATOR, or `jemalloc` with no jemalloc installed.
 */
export function workerEnv(env: NodeJS.ProcessEnv, exists: (path: string) => boolean = existsSync): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env };
  for (const [name, value] of Object.entries(WORKER_ENV)) if (!out[name]) out[name] = value;
  const allocator = workerAllocator(env.OTP_WORKER_ALLOCATOR);
  const preload = out.LD_PRELOAD ?? '';
  if (allocator === 'system' || JEMALLOC_FILE.test(preload) || (allocator === 'auto' && preload)) return out;
  const lib = jemallocPath(exists);
  if (lib) out.LD_PRELOAD = preload ? `${preload}:${lib}` : lib;
  else if (allocator === 'jemalloc')
    throw new WorkerAllocatorError(
      `OTP_WORKER_ALLOCATOR=jemalloc, but jemalloc is not installed (looked for ${JEMALLOC_PATHS.join(', ')}): ` +
        'install it (Debian/Ubuntu: apt-get install libjemalloc2; Fedora/RHEL: dnf install jemalloc) or set OTP_WORKER_ALLOCATOR=auto',
    );
  return out;
}

/** The malloc a process (this one by default) runs on, from its memory map: jemalloc when preloaded, else the C library's. */
export function runningAllocator(pid: number | 'self' = 'self', read: (path: string) => string = (path) => readFileSync(path, 'utf8')): 'jemalloc' | 'system' {
  try {
    return JEMALLOC_FILE.test(read(`/proc/${pid}/maps`)) ? 'jemalloc' : 'system';
  } catch {
    return 'system'; // no /proc (not Linux), or the process is gone: whatever the platform's malloc is
  }
}

/** POSIX shell single quotes: safe for any value. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The shell lines scripts/worker.sh evaluates: an export for each variable workerEnv sets or changes, and the node flags. */
export function shellSetup(env: NodeJS.ProcessEnv, exists: (path: string) => boolean = existsSync): string {
  const out = workerEnv(env, exists);
  const lines = Object.entries(out)
    .filter(([name, value]) => value !== undefined && value !== env[name])
    .map(([name, value]) => `export ${name}=${shellQuote(value!)}`);
  lines.push(`WORKER_NODE_FLAGS=${shellQuote(WORKER_NODE_FLAGS.join(' '))}`);
  return `${lines.join('\n')}\n`;
}

if (require.main === module) {
  try {
    process.stdout.write(shellSetup(process.env));
  } catch (err) {
    console.error(`worker: configuration error: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(2);
  }
}
