/**
 * Node flags every worker process runs with (`npm start`, `npm run worker`, the bench and chaos stacks).
 * A 4 MB semi-space keeps the two V8 isolates' young generations small under a burst: at 2× overload the
 * worker peaked at 372–391 MB with it, 392–427 MB without (docs/benchmarks.md), for the same CPU.
 * package.json's `worker` script repeats them (test/unit/workflow-bundle.test.ts holds the two equal).
 */
export const WORKER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];

/**
 * Environment every worker process starts with, under the caller's own values (an operator's setting wins).
 * Two glibc malloc arenas instead of 8 per core: the SDK's Rust threads each fill an arena of their own and
 * glibc rarely hands their free pages back, so RSS ratchets up with no live data behind it. At 15 sends/s
 * for 150 s the worker's RSS was 330/381 MB mean/peak with it, 347/419 MB without, for the same CPU
 * (one run each, within this machine's noise; docs/benchmarks.md): the standard mitigation, at no measurable cost. The variable only has effect when set before the process starts.
 */
export const WORKER_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };

/** `env` with WORKER_ENV filled in where `env` leaves the variable unset or empty (as the npm script's `${VAR:-default}`). */
export function workerEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env };
  for (const [name, value] of Object.entries(WORKER_ENV)) if (!out[name]) out[name] = value;
  return out;
}
