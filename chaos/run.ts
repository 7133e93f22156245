/**
 * One chaos run: the stack in its own processes (bench/lib/stack.ts), an
 * open-loop load from this process, faults injected in turn, a drain, then
 * the verdict on every session. Used by `npm run chaos` (chaos/main.ts) and
 * test/chaos.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { connectOtpClient, type OtpClient } from '../client';
import type { OtpSessionStatus } from '../contract';
import { loadConfig } from '../config/config';
import { machineInfo } from '../bench/lib/machine';
import { ProcSampler, machineCpu } from '../bench/lib/proc-stats';
import { SimFeed } from '../bench/lib/sim-feed';
import { BenchStack } from '../bench/lib/stack';
import { sleep } from '../bench/lib/stats';
import { productTarget } from '../bench/lib/targets';
import { FAULT_DESCRIPTIONS, inject, type FaultKind, type FaultWindow } from './faults';
import { OpenLoad } from './load';
import { SimControl } from './sim-control';
import type { ChaosResult, ChaosSettings } from './types';
import { LogScan } from './log-scan';
import { judge } from './verdict';

/** A run's settings, plus what only this process needs. */
export interface ChaosOptions extends ChaosSettings {
  /** Seconds of load before the first fault (the baseline). */
  warmupS: number;
  verbose: boolean;
  log: (msg: string) => void;
}

/** mulberry32: a small seeded PRNG, so a run's fault moments can be replayed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function runChaos(opts: ChaosOptions): Promise<ChaosResult> {
  const { log } = opts;
  const runId = randomBytes(3).toString('hex');
  const startedAt = new Date().toISOString();
  const machine = machineInfo();
  machine.cpuBusyAtStartPct = await machineCpu(1000);
  // The tenant's rate policy would refuse a steady load; chaos measures faults, not the policy.
  const logs = new LogScan();
  const sampler = new ProcSampler();
  const stack = new BenchStack({
    runId,
    baselines: false,
    smscTps: 0,
    receiptDelayMs: opts.receiptDelayMs,
    profiles: JSON.stringify({ login: { tenantSendsPerMinute: 1_000_000 } }),
    verbose: opts.verbose,
    onLine: (child, line) => logs.add(child, line),
  });
  let otp: OtpClient | undefined;
  let liveFeed: SimFeed | undefined;
  let supervising = false;
  let fatal: Error | undefined;
  try {
    log(`starting the stack (dev server on a SQLite file, simulator, worker)…`);
    await stack.start();
    otp = await connectOtpClient(loadConfig(stack.workerEnv, 'client'));
    liveFeed = new SimFeed(stack.simHttpUrl);
    liveFeed.start();
    const sim = new SimControl(stack.simHttpUrl);
    // CPU of the stack against the whole machine: on a shared machine, other load explains some latency.
    sampler.watch('server', stack.pid('server'));
    sampler.watch('smsc-sim', stack.pid('smsc-sim'));
    sampler.watch('worker', stack.pid('worker'));
    sampler.watch('generator', process.pid);
    sampler.start();
    const tenant = `chaos-${runId}`;
    const target = productTarget(otp);

    // Warm-up outside the figures: first workflow tasks, binds, caches.
    for (let i = 0; i < 3; i++) await target.send(`+33699${String(900_000 + i)}`, `${tenant}-warm`).catch(() => undefined);

    const load = new OpenLoad({
      rate: opts.rate,
      durationS: opts.durationS,
      phone: (i) => `+336${String(20_000_000 + i)}`,
      target,
      tenant,
      feed: liveFeed,
      verifyAfterMs: opts.verifyAfterMs,
      verify: (phone, code, idempotencyKey) => otp!.verify(phone, code, { tenant, idempotencyKey }),
    });
    const loadStart = Date.now();
    const running = load.run();
    log(`load: ${opts.rate}/s for ${opts.durationS} s (${load.planned} sessions), faults: ${opts.faults.join(', ') || 'none'}`);

    // A supervisor, as production has one: a worker that dies by itself is recorded (a defect) and started again.
    const unexpectedExits: string[] = [];
    supervising = true;
    const supervisor = (async () => {
      while (supervising) {
        const failure = stack.failure;
        if (failure) {
          stack.failure = undefined;
          unexpectedExits.push(failure.message.slice(0, 2000));
          log(`UNEXPECTED: ${failure.message.split('\n')[0]}`);
          if (!/^worker /.test(failure.message)) {
            fatal = failure;
            return;
          }
          await stack.startWorker().catch((err: unknown) => log(`could not restart the worker: ${String(err)}`));
        }
        await sleep(500);
      }
    })();
    const random = seeded(opts.seed);
    const slot = opts.faults.length ? (opts.durationS - opts.warmupS) / opts.faults.length : 0;
    const windows: FaultWindow[] = [];
    const ctx = { stack, sim, feed: liveFeed, load, log };
    for (let k = 0; k < opts.faults.length; k++) {
      const kind = opts.faults[k];
      // Somewhere in the first fifth of its slot: the rest is left to recover.
      const due = loadStart + (opts.warmupS + k * slot + random() * slot * 0.2) * 1000;
      const prevEnd = windows.at(-1)?.end ?? 0;
      await sleep(Math.max(due, prevEnd + 3000) - Date.now());
      log(`+${((Date.now() - loadStart) / 1000).toFixed(1)} s  ${kind}: ${FAULT_DESCRIPTIONS[kind]}`);
      if (fatal) throw fatal;
      const w = await inject(kind, ctx);
      windows.push(w);
      // Restarted processes have new pids.
      sampler.watch('worker', stack.pid('worker'));
      sampler.watch('server', stack.pid('server'));
      log(`           over after ${((w.end - w.start) / 1000).toFixed(1)} s (${w.note})`);
    }
    await running;
    const loadEnd = Date.now();
    log(`load done at +${((loadEnd - loadStart) / 1000).toFixed(1)} s; draining (at most ${opts.drainS} s)…`);

    // Drain: answers, SMS still to come (retries), verifies.
    await load.settle(30_000);
    const drainEnd = Date.now() + opts.drainS * 1000;
    for (;;) {
      await liveFeed.poll();
      load.verifyLate();
      const outstanding = load.records.filter(
        (r) => r.endedAt === undefined || (r.status === 'sent' && !liveFeed!.inboxByPhone.has(r.phone)) || (r.verifyStarted && !r.verifyDone),
      ).length;
      if (fatal) throw fatal;
      if (outstanding === 0 || Date.now() > drainEnd) break;
      await sleep(1000);
    }
    // Late copies (a retry already under way) land within a few seconds.
    await sleep(5000);
    await load.settle(20_000);
    await liveFeed.poll();

    // Sessions without an SMS: what does the session itself say?
    const statuses = new Map<string, OtpSessionStatus | null | 'unreadable'>();
    for (const r of load.records) {
      if (liveFeed.inboxByPhone.has(r.phone)) continue;
      let status: OtpSessionStatus | null | 'unreadable' = 'unreadable';
      for (let attempt = 0; attempt < 3 && status === 'unreadable'; attempt++) {
        status = await otp.status(r.phone, { tenant }).catch(() => 'unreadable' as const);
        if (status === 'unreadable') await sleep(1000);
      }
      statuses.set(r.phone, status);
    }
    supervising = false;
    await supervisor;
    const verdict = judge({ records: load.records, feed: liveFeed, windows, statuses, loadStart, loadEnd, thresholdMs: opts.thresholdMs });
    verdict.faults.forEach((f, k) => {
      const from = loadStart + f.injectedAtS * 1000;
      const next = verdict.faults[k + 1];
      const r = sampler.figures(from, next ? loadStart + next.injectedAtS * 1000 : loadEnd);
      const stackCpu = ['server', 'smsc-sim', 'worker', 'generator'].reduce((a, l) => a + (r[l]?.cpuMeanPct ?? 0), 0);
      f.cpu = { machinePct: r.machine?.cpuMeanPct ?? null, stackPct: Math.round(stackCpu) };
    });
    return {
      startedAt,
      machine,
      options: {
        rate: opts.rate,
        durationS: opts.durationS,
        faults: opts.faults,
        seed: opts.seed,
        thresholdMs: opts.thresholdMs,
        receiptDelayMs: opts.receiptDelayMs,
        verifyAfterMs: opts.verifyAfterMs,
        drainS: opts.drainS,
      },
      ...verdict,
      errorSamples: load.errorSamples,
      unexpectedExits,
      logs: logs.findings(
        new Set(load.records.map((r) => r.phone)),
        new Set([...liveFeed.inboxByPhone.values()].flatMap((ms) => ms.map((m) => /code is (\d+)/.exec(m.text)?.[1] ?? '')).filter(Boolean)),
      ),
      feedGaps: liveFeed.gaps,
    };
  } finally {
    supervising = false;
    sampler.stop();
    await liveFeed?.stop();
    await stack.stop();
    // Closed after the stack: no call is left retrying against it.
    await otp?.temporal.connection.close().catch(() => undefined);
  }
}
