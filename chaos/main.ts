/**
 * `npm run chaos`: sessions at a steady rate while faults are injected, then
 * every code read from the simulator's inbox is verified. This process is only
 * the load generator; the server, the simulator and the worker are children.
 * Flags: chaos/README.md. Exits 1 when the acceptance fails.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { FAULT_KINDS, parseFaults } from './faults';
import { acceptance, textTable, totalsLine } from './report';
import { runChaos } from './run';

const USAGE = `usage: npm run chaos -- [--rate N] [--duration S] [--faults all|a,b,…] [--seed N] [--json FILE]
                      [--threshold MS] [--receipt-delay MS] [--verify-after MS] [--drain S] [--warmup S] [--verbose]
faults: ${FAULT_KINDS.join(', ')}`;

const log = (msg: string) => console.log(`[chaos] ${msg}`);

function number(name: string, v: string, min: number): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number >= ${min} (got "${v}")`);
  return n;
}

async function main(): Promise<void> {
  let opts;
  try {
    const { values } = parseArgs({
      args: process.argv.slice(2),
      options: {
        rate: { type: 'string', default: '3' },
        duration: { type: 'string', default: '240' },
        faults: { type: 'string', default: 'all' },
        seed: { type: 'string', default: String(Date.now() % 1_000_000) },
        json: { type: 'string' },
        threshold: { type: 'string', default: '500' },
        'receipt-delay': { type: 'string', default: '1000' },
        'verify-after': { type: 'string', default: '1000' },
        drain: { type: 'string', default: '90' },
        warmup: { type: 'string', default: '10' },
        verbose: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    });
    if (values.help) {
      console.log(USAGE);
      process.exit(0);
    }
    opts = {
      rate: number('rate', values.rate, 0.1),
      durationS: number('duration', values.duration, 10),
      faults: parseFaults(values.faults),
      seed: Math.floor(number('seed', values.seed, 0)),
      json: values.json,
      thresholdMs: number('threshold', values.threshold, 1),
      receiptDelayMs: number('receipt-delay', values['receipt-delay'], 0),
      verifyAfterMs: number('verify-after', values['verify-after'], 0),
      drainS: number('drain', values.drain, 0),
      warmupS: number('warmup', values.warmup, 0),
      verbose: values.verbose,
    };
    if (opts.warmupS >= opts.durationS) throw new Error('--warmup must be shorter than --duration');
  } catch (err) {
    console.error(`chaos: ${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    process.exit(2);
  }
  log(`seed ${opts.seed}`);
  const result = await runChaos({ ...opts, log });
  console.log(`\n${textTable(result)}\n\n${totalsLine(result)}`);
  for (const p of result.problems) console.log(`  ${p.verdict}: ${p.phone} ${p.detail}`);
  console.log(
    `logs: ${result.logs.lines} lines from the stack; ${result.logs.fullNumbers} with a full number, ${result.logs.codes} with a code, ${result.logs.longLines} over 4000 characters`,
  );
  for (const l of result.logs.samples) console.log(`  ${l}`);
  if (Object.keys(result.errorSamples).length) console.log(`errors: ${JSON.stringify(result.errorSamples, null, 1)}`);
  if (opts.json) {
    mkdirSync(dirname(opts.json), { recursive: true });
    writeFileSync(opts.json, JSON.stringify(result, null, 1));
    log(`JSON written to ${opts.json}`);
  }
  const failures = acceptance(result);
  console.log(
    failures.length
      ? `\nACCEPTANCE FAILED: ${failures.join('; ')}`
      : '\nacceptance: 0 lost, 0 wrong end states, every duplicate explained, recovery ≤ 10 s after each fault',
  );
  process.exit(failures.length ? 1 : 0);
}

main().catch((err) => {
  console.error('chaos: fatal:', err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
