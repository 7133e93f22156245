/**
 * Node flags every worker process runs with (`npm start`, `npm run worker`, the bench and chaos stacks).
 * A 4 MB semi-space keeps the two V8 isolates' young generations small under a burst: at 2× overload the
 * worker peaked at 372–391 MB with it, 392–427 MB without (docs/benchmarks.md), for the same CPU.
 * package.json's `worker` script repeats them (test/unit/workflow-bundle.test.ts holds the two equal).
 */
export const WORKER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];
