/**
 * `npm run bench`: open-loop benchmark of the OTP send path. This process is
 * only the load generator; the Temporal server, the worker, the simulator and
 * the baseline's worker run in their own processes (bench/lib/stack.ts).
 * Sends leave at fixed arrival times and never wait for replies. See
 * bench/README.md for the flags.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { connectOtpClient, OTP_SESSION_WORKFLOW, type OtpClient } from '../client';
import { loadConfig, type OtpConfig } from '../config/config';
import { temporalCliPath } from '../dev/temporal-server';
import { BASELINE_WORKFLOW, LOGIN_BASELINE_WORKFLOW } from './baseline/contract';
import { renderChart } from './chart';
import { machineInfo } from './lib/machine';
import { ProcSampler, machineCpu } from './lib/proc-stats';
import { ratios } from './lib/ratios';
import { TARGET_ORDER, humanReport, markdownReport } from './lib/report';
import { SimFeed } from './lib/sim-feed';
import { BenchStack } from './lib/stack';
import { scrapeMetrics } from '../lib/metrics-scrapes';
import { runningAllocator } from '../lib/worker-node-flags';
import { numberInRange, rangeAt } from '../sim/sample-numbers';
import { sleep } from './lib/stats';
import { isDeliveryOutcomeRun, runDeliveryOutcome } from './delivery-outcome';
import { bareSmppTarget, leastDurableLoginTarget, leastDurableTarget, productTarget, type BareSmpp, type Target } from './lib/targets';
import { runTrial, type TrialContext, type TrialRun, type TrialSpec } from './lib/trial';
import type { BenchResult, NumbersMode, OverloadResult, SearchResult, TargetName, TrialResult } from './lib/types';

const USAGE = `usage: npm run bench -- [--rate N] [--duration S] [--numbers distinct|hot] [--hot-numbers N]
                      [--search] [--overload] [--baselines on|off] [--verify on|off] [--verify-after MS]
                      [--json FILE] [--svg FILE] [--smsc-tps N] [--tenant-rate N] [--receipt-delay MS]
                      [--receipt-sample N] [--search-from N] [--threshold MS] [--drain S] [--server-pid PID]
                      [--countries fr|mixed] [--scrapes FILE] [--verbose]`;

interface Options {
  rate: number;
  duration: number;
  numbers: NumbersMode;
  hotNumbers: number;
  search: boolean;
  overload: boolean;
  baselines: boolean;
  verify: boolean;
  verifyAfterMs: number;
  json?: string;
  svg?: string;
  smscTps: number;
  tenantRate: number;
  receiptDelay: number;
  receiptSample: number;
  searchFrom: number;
  threshold: number;
  drain: number;
  serverPid?: number;
  countries: 'fr' | 'mixed';
  scrapes?: string;
  verbose: boolean;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      rate: { type: 'string', default: '10' },
      duration: { type: 'string', default: '60' },
      numbers: { type: 'string', default: 'distinct' },
      'hot-numbers': { type: 'string', default: '20' },
      search: { type: 'boolean', default: false },
      overload: { type: 'boolean', default: false },
      baselines: { type: 'string', default: 'on' },
      verify: { type: 'string', default: 'on' },
      'verify-after': { type: 'string', default: '0' },
      json: { type: 'string' },
      svg: { type: 'string' },
      'smsc-tps': { type: 'string', default: '0' },
      'tenant-rate': { type: 'string', default: '1000000' },
      'receipt-delay': { type: 'string', default: process.env.SIM_RECEIPT_DELAY_MS || '50' },
      'receipt-sample': { type: 'string', default: '300' },
      'search-from': { type: 'string', default: '5' },
      threshold: { type: 'string', default: '500' },
      drain: { type: 'string', default: '30' },
      'server-pid': { type: 'string' },
      countries: { type: 'string', default: 'fr' },
      scrapes: { type: 'string' },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const positive = (name: string, v: string, integer = false): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n)))
      throw new UsageError(`--${name} must be a positive ${integer ? 'integer' : 'number'} (got "${v}")`);
    return n;
  };
  const nonNegative = (name: string, v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${name} must be an integer >= 0 (got "${v}")`);
    return n;
  };
  const onOff = (name: string, v: string): boolean => {
    if (v !== 'on' && v !== 'off') throw new UsageError(`--${name} must be "on" or "off" (got "${v}")`);
    return v === 'on';
  };
  if (values.numbers !== 'distinct' && values.numbers !== 'hot') throw new UsageError(`--numbers must be "distinct" or "hot" (got "${values.numbers}")`);
  if (values.countries !== 'fr' && values.countries !== 'mixed') throw new UsageError(`--countries must be "fr" or "mixed" (got "${values.countries}")`);
  return {
    rate: positive('rate', values.rate),
    duration: positive('duration', values.duration),
    numbers: values.numbers,
    hotNumbers: positive('hot-numbers', values['hot-numbers'], true),
    search: values.search,
    overload: values.overload,
    baselines: onOff('baselines', values.baselines),
    verify: onOff('verify', values.verify),
    verifyAfterMs: nonNegative('verify-after', values['verify-after']),
    json: values.json,
    svg: values.svg,
    smscTps: nonNegative('smsc-tps', values['smsc-tps']),
    tenantRate: nonNegative('tenant-rate', values['tenant-rate']),
    receiptDelay: nonNegative('receipt-delay', values['receipt-delay']),
    receiptSample: nonNegative('receipt-sample', values['receipt-sample']),
    searchFrom: positive('search-from', values['search-from']),
    threshold: positive('threshold', values.threshold),
    drain: positive('drain', values.drain),
    serverPid: values['server-pid'] !== undefined ? positive('server-pid', values['server-pid'], true) : undefined,
    countries: values.countries,
    scrapes: values.scrapes,
    verbose: values.verbose,
  };
}

class UsageError extends Error {}

const log = (msg: string) => console.log(`[bench] ${msg}`);

async function main(): Promise<void> {
  let opts: Options;
  try {
    opts = parseOptions(process.argv.slice(2));
  } catch (err) {
    if (err instanceof UsageError || (err instanceof Error && 'code' in err && String((err as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS'))) {
      console.error(`bench: ${err.message}\n${USAGE}`);
      process.exit(2);
    }
    throw err;
  }
  const runId = randomBytes(3).toString('hex');
  const startedAt = new Date().toISOString();
  const machine = machineInfo();
  const external = process.env.TEMPORAL_ADDRESS || undefined;
  log(`machine: ${machine.nproc} CPU (${machine.cpuModel}), ${machine.memoryGB} GB RAM, load ${machine.loadAverage.map((l) => l.toFixed(2)).join(' ')}`);
  // Measured, not the load average: that decays over minutes and still counts a bench that just ended.
  const idleCpu = await machineCpu();
  machine.cpuBusyAtStartPct = idleCpu;
  const busyAtStart = idleCpu !== null && idleCpu > 25 * machine.nproc;
  if (busyAtStart)
    log(
      `warning: before the stack started, other processes already used ${idleCpu}% of a core (${machine.nproc} CPUs); figures will show it (see "other CPU")`,
    );
  const profiles = opts.tenantRate > 0 ? JSON.stringify({ login: { tenantSendsPerMinute: opts.tenantRate } }) : undefined;
  const stack = new BenchStack({
    runId,
    temporalAddress: external,
    baselines: opts.baselines,
    smscTps: opts.smscTps,
    receiptDelayMs: opts.receiptDelay,
    profiles: process.env.OTP_PROFILES ?? profiles,
    metrics: opts.scrapes !== undefined,
    verbose: opts.verbose,
  });
  const sampler = new ProcSampler();
  let otp: OtpClient | undefined;
  let bare: BareSmpp | undefined;
  let feed: SimFeed | undefined;
  let interrupted = false;
  const cleanUp = async () => {
    sampler.stop();
    await feed?.stop();
    await bare?.close();
    // The Temporal connection is left to process exit: closing it under calls still retrying throws from a timer.
    await stack.stop();
  };
  process.once('SIGINT', () => {
    interrupted = true;
    log('interrupted: stopping the stack');
    void cleanUp().then(() => process.exit(130));
  });

  try {
    log(
      external
        ? `using the Temporal server at ${external} (TEMPORAL_ADDRESS)`
        : 'starting a Temporal dev server (SQLite in a temp dir), the simulator and the workers…',
    );
    await stack.start();
    log(`stack up: server ${stack.address}, simulator ${stack.simHttpUrl}, task queue ${stack.taskQueue}`);
    sampler.watch('worker', stack.pid('worker'));
    const workerPid = stack.pid('worker');
    const workerMalloc = workerPid ? runningAllocator(workerPid) : undefined;
    sampler.watch('baseline-worker', stack.pid('baseline-worker'));
    sampler.watch('smsc-sim', stack.pid('smsc-sim'));
    sampler.watch('server', opts.serverPid ?? stack.pid('server'));
    sampler.watch('generator', process.pid);
    sampler.start();

    const config: OtpConfig = loadConfig(stack.workerEnv, 'client');
    otp = await connectOtpClient(config);
    feed = new SimFeed(stack.simHttpUrl);
    feed.start();
    const product = productTarget(otp);
    const leastDurable = opts.baselines ? leastDurableTarget(otp, config, stack.baselineTaskQueue, runId) : undefined;
    const leastDurableLogin = opts.baselines ? leastDurableLoginTarget(otp, config, stack.baselineTaskQueue, runId) : undefined;
    bare = opts.baselines ? await bareSmppTarget(config) : undefined;

    const ctx: TrialContext = { feed, sampler, temporal: otp.temporal, failure: () => stack.failure, log };
    // Numbers never repeat within a run: a distinct trial's duplicates are its own.
    let nextNumber = 0;
    // French mobiles, or (--countries mixed) five countries by weight, for a dashboard by country.
    const newPhone = () => {
      const n = nextNumber++;
      return opts.countries === 'mixed' ? numberInRange(rangeAt((n * 0.618034) % 1), 10_000_000 + n) : `+336${String(10_000_000 + n)}`;
    };
    let trialNo = 0;
    const spec = (target: Target, label: string, phases: TrialSpec['phases'], extra: Partial<TrialSpec> = {}): TrialSpec => {
      const tenant = `bench-${runId}-${++trialNo}`;
      const numbers = extra.numbers ?? opts.numbers;
      const hotPool = numbers === 'hot' ? Array.from({ length: opts.hotNumbers }, newPhone) : undefined;
      const phones = new Map<number, string>();
      return {
        label,
        target,
        numbers,
        hotPool,
        phone: (i) => {
          if (hotPool) return hotPool[i % hotPool.length];
          let p = phones.get(i);
          if (!p) phones.set(i, (p = newPhone()));
          return p;
        },
        tenant,
        phases,
        // The simulated user verifies every target that has a verify (product, least-durable login), the same way and after the same delay.
        verify: opts.verify && target.verify !== undefined,
        verifyAfterMs: opts.verifyAfterMs,
        thresholdMs: opts.threshold,
        abortOnFail: false,
        windows: false,
        receiptSample: 0,
        drainS: opts.drain,
        ...extra,
      };
    };
    const targets = [product, leastDurable, leastDurableLogin, bare].filter((t): t is Target => t !== undefined);
    // Baselines go first: the product's sessions keep timers (receipt wait, expiry) that would load the server during their trials.
    const mainOrder = [leastDurable, leastDurableLogin, bare, product].filter((t): t is Target => t !== undefined);
    const sessionTypes: Partial<Record<TargetName, { taskQueue: string; sessionType: string }>> = {
      product: { taskQueue: stack.taskQueue, sessionType: OTP_SESSION_WORKFLOW },
      'least-durable': { taskQueue: stack.baselineTaskQueue, sessionType: BASELINE_WORKFLOW },
      'least-durable-login': { taskQueue: stack.baselineTaskQueue, sessionType: LOGIN_BASELINE_WORKFLOW },
    };

    log('warm-up: a few sends through each target (caches, binds, first workflow tasks)');
    for (const t of targets) {
      const { result: w } = await runTrial(spec(t, `warm-up ${t.name}`, [{ rate: 2, seconds: 3 }], { numbers: 'distinct' }), ctx);
      const problems = Object.keys(w.errors).length || w.sessionsLost;
      log(
        `  ${t.name}: send->submit p50 ${w.sendToSubmit.p50} ms${problems ? `; errors ${JSON.stringify(w.errors)} ${JSON.stringify(w.errorSamples)}, lost ${w.sessionsLost}` : ''}`,
      );
    }
    await sleep(1000);

    // Before a trial, let the previous one's backlog clear: its late work would be billed to this one.
    const settle = async () => {
      const until = Date.now() + 30_000;
      while (Date.now() < until) {
        if (['server', 'worker', 'baseline-worker'].every((l) => (sampler.recentCpu(l, 2) ?? 0) < 25)) return;
        await sleep(1000);
      }
      log('  the stack was still busy 30 s after the last trial; going on');
    };
    const runs: TrialRun[] = [];
    const trial = async (s: TrialSpec): Promise<TrialResult> => {
      await settle();
      const run = await runTrial(s, ctx);
      runs.push(run);
      return run.result;
    };
    const trials: TrialResult[] = [];
    // --scrapes: the product worker's /metrics every 3 s through the main trials, for the dashboard (scripts/metrics-dashboard.ts render).
    let scraper: ReturnType<typeof scrapeMetrics> | undefined;
    for (const t of mainOrder) {
      if (t.name === 'product' && stack.metricsUrl) scraper = scrapeMetrics(stack.metricsUrl, 3, log);
      log(`main trial: ${t.name} at ${opts.rate}/s for ${opts.duration} s (${opts.numbers} numbers)`);
      const r = await trial(
        spec(t, `${t.name} @ ${opts.rate}/s`, [{ rate: opts.rate, seconds: opts.duration }], {
          receiptSample: t.recordedReceipts ? opts.receiptSample : 0,
          history: sessionTypes[t.name],
        }),
      );
      log(
        `  send->submit p50 ${r.sendToSubmit.p50} p99 ${r.sendToSubmit.p99} ms; call p99 ${r.sendCall.p99} ms; errors ${JSON.stringify(r.errors)}; refusals ${JSON.stringify(r.refusals)}`,
      );
      trials.push(r);
      await sleep(2000);
    }
    if (scraper && opts.scrapes) {
      await sleep(6000); // the last receipts and verifies land in two more scrapes
      const recording = await scraper.stop();
      mkdirSync(dirname(opts.scrapes), { recursive: true });
      writeFileSync(opts.scrapes, JSON.stringify(recording));
      log(
        `${recording.scrapes.length} metrics scrapes written to ${opts.scrapes} (render: node dist/scripts/metrics-dashboard.js render --in ${opts.scrapes} --out FILE.svg)`,
      );
    }

    let search: BenchResult['search'];
    if (opts.search) {
      const searchFor = async (t: Target): Promise<SearchResult> => {
        const done: TrialResult[] = [];
        const attempt = async (rate: number): Promise<boolean> => {
          log(`search ${t.name}: ${rate}/s for ${opts.duration} s`);
          const r = await trial(
            spec(t, `search ${t.name} @ ${rate}/s`, [{ rate, seconds: opts.duration }], {
              numbers: 'distinct',
              abortOnFail: true,
              drainS: Math.min(opts.drain, 30),
            }),
          );
          log(`  ${r.pass ? 'pass' : `FAIL (${(r.failReasons ?? []).join('; ')})`}: p99 ${r.sendToSubmit.p99} ms`);
          done.push(r);
          await sleep(3000);
          return r.pass === true;
        };
        // Ramp by doubling until a failure, then bisect to within 10 %.
        let lo = 0;
        let hi: number | null = null;
        let rate = opts.searchFrom;
        while (hi === null && rate <= 5000) {
          if (await attempt(rate)) {
            lo = rate;
            rate *= 2;
          } else hi = rate;
        }
        if (lo === 0 && hi !== null) {
          for (rate = hi / 2; rate >= 0.5; rate /= 2) {
            if (await attempt(rate)) {
              lo = rate;
              break;
            }
            hi = rate;
          }
        }
        while (lo > 0 && hi !== null && hi / lo > 1.1) {
          const mid = Math.round(((lo + hi) / 2) * 10) / 10;
          if (await attempt(mid)) lo = mid;
          else hi = mid;
        }
        return { target: t.name, rate: lo, failedAt: hi, thresholdMs: opts.threshold, trials: done };
      };
      // Baselines first, as in the main trials.
      const leastDurableSearch = leastDurable ? await searchFor(leastDurable) : undefined;
      const leastDurableLoginSearch = leastDurableLogin ? await searchFor(leastDurableLogin) : undefined;
      search = { product: await searchFor(product), leastDurable: leastDurableSearch, leastDurableLogin: leastDurableLoginSearch };
    }

    let overload: OverloadResult | undefined;
    const found = search ? search.product.rate : opts.rate;
    if (opts.overload && found > 0) {
      const burst = { rate: found * 2, seconds: 30 };
      const after = { rate: found / 2, seconds: 20 };
      log(`overload: ${burst.rate}/s for ${burst.seconds} s, then ${after.rate}/s for ${after.seconds} s`);
      const overloadTrial = await trial(
        spec(product, `overload product`, [burst, after], { numbers: 'distinct', windows: true, drainS: Math.max(opts.drain, 60) }),
      );
      const windows = overloadTrial.windows ?? [];
      let recoverySeconds: number | null = null;
      for (let s = burst.seconds; s < windows.length; s++) {
        if (windows.slice(s).every((w) => w.p99 !== null && w.p99 < opts.threshold)) {
          recoverySeconds = s - burst.seconds;
          break;
        }
      }
      overload = { target: 'product', foundRate: found, burst, after, trial: overloadTrial, recoverySeconds };
    } else if (opts.overload) log('overload skipped: the rate search found no passing rate');

    // Late retries show up after a trial ends: recount duplicates over the whole run.
    await sleep(2000);
    await feed.poll();
    for (const run of runs) run.result.duplicatesAtEnd = run.duplicatesNow();

    const result: BenchResult = {
      version: 1,
      startedAt,
      finishedAt: new Date().toISOString(),
      command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
      machine,
      config: {
        rate: opts.rate,
        durationS: opts.duration,
        numbers: opts.numbers,
        hotNumbers: opts.hotNumbers,
        baselines: opts.baselines,
        verify: opts.verify,
        verifyAfterMs: opts.verifyAfterMs,
        search: opts.search,
        overload: opts.overload,
        thresholdMs: opts.threshold,
        smscTps: opts.smscTps,
        receiptDelayMs: opts.receiptDelay,
        tenantSendsPerMinute: process.env.OTP_PROFILES ? 'from OTP_PROFILES' : opts.tenantRate > 0 ? String(opts.tenantRate) : 'profile default',
        server: external ? `external (${external})` : 'dev server started by the bench (SQLite file)',
        workerMalloc,
        taskQueue: stack.taskQueue,
        baselineTaskQueue: stack.baselineTaskQueue,
      },
      // Reported product first, whatever order they ran in.
      trials: [...trials].sort((a, b) => TARGET_ORDER.indexOf(a.target) - TARGET_ORDER.indexOf(b.target)),
      search,
      overload,
      ratios: ratios(trials, search),
      notes: [
        `All processes share ${machine.nproc} cores; the generator's lateness shows when it fell behind its schedule.`,
        `The product worker runs with the login profile's tenantSendsPerMinute = ${opts.tenantRate || 'default'} so the bench measures capacity, not the tenant rate policy (--tenant-rate).`,
        `SMSC_TPS = ${opts.smscTps || '0 (unlimited)'} for every SMPP client; simulator receipt delay ${opts.receiptDelay} ms.`,
        ...(busyAtStart
          ? [
              `The machine was already busy when the run started (${idleCpu}% of a core used by other processes, ${machine.nproc} CPUs); "other CPU" shows load outside the stack per trial.`,
            ]
          : []),
        ...(feed.gaps ? [`The simulator dropped ${feed.gaps} records before the generator read them (its records are bounded).`] : []),
      ],
    };
    console.log('');
    console.log(humanReport(result));
    console.log('\n----- markdown for docs/benchmarks.md -----\n');
    console.log(markdownReport(result));
    console.log('\n----- end of markdown -----');
    if (opts.json) {
      mkdirSync(dirname(opts.json), { recursive: true });
      writeFileSync(opts.json, JSON.stringify(result, null, 1));
      log(`wrote ${opts.json}`);
    }
    if (opts.svg) {
      mkdirSync(dirname(opts.svg), { recursive: true });
      writeFileSync(opts.svg, renderChart(result));
      log(`wrote ${opts.svg}`);
    }
  } finally {
    if (!interrupted) await cleanUp();
  }
}

// --carrier-mix is the delivery-outcome bench, a mode of its own (bench/delivery-outcome.ts).
const args = process.argv.slice(2);
(isDeliveryOutcomeRun(args) ? runDeliveryOutcome(args) : main()).then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
