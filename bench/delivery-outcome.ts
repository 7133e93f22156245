/**
 * `npm run bench -- --carrier-mix undeliv=0.10,silent=0.05,delay=1-3s`: the
 * delivery-outcome benchmark (issue 15). The simulator plays a carrier that
 * loses a share of messages (sim/carrier-mix.ts); sessions start open-loop
 * through the typed client with a profile that falls back to email; a
 * simulated user verifies as soon as the code reaches any channel that really
 * delivered it (an SMS on the handset, an email in the mailbox). It reports
 * how many sessions had a code within 5, 30 and 120 s, time to code, and what
 * the SMS cost per verified session. See bench/README.md for the flags.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { connectOtpClient } from '../client';
import { loadConfig } from '../config/config';
import { PRESETS, type OtpProfile } from '../policy/profile';
import { formatCarrierMix, parseCarrierMix, type CarrierMix } from '../sim/carrier-mix';
import { OutcomeFeeds, type Arrival } from './delivery-outcome-feeds';
import { deliveryFigures, deliveryTable, type Channel, type DeliveryOutcomeFigures, type SessionRecord } from './delivery-outcome-figures';
import { machineInfo } from './lib/machine';
import { ProcSampler, machineCpu } from './lib/proc-stats';
import { monotonicMs } from './lib/sim-feed';
import { BenchStack } from './lib/stack';
import { sleep } from './lib/stats';
import type { BenchResult, ResourceFigures } from './lib/types';

/** The domain of the sessions' fallback addresses (the profile accepts callers' emails in it). */
const BENCH_EMAIL_DOMAIN = 'example.com';

/**
 * The policy profile every session sends with: SMS first, then the same code by
 * email, at once on an UNDELIV or REJECTD receipt (escalateOnStats, the
 * default) and 10 s after the submit without a DELIVRD receipt (the least
 * escalateAfterSeconds allows), so a silent carrier escalates too. One constant:
 * when profiles get a channel chain with deadlines, switch this to one.
 */
export const DELIVERY_OUTCOME_PROFILE = {
  name: 'bench-chain-sms-email',
  settings: {
    extends: 'login',
    fallbackEmailDomains: [BENCH_EMAIL_DOMAIN],
    // The channel chain (sessions v7): email at once on UNDELIV or a refusal at submit, else 8 s without DELIVRD; no SMS retry after that.
    chain: [
      { channel: 'sms', deadlineSeconds: 8 },
      { channel: 'email', deadlineSeconds: 60 },
    ],
    // The bench measures delivery, not the tenant's rate policy.
    tenantSendsPerMinute: 0,
  } satisfies Partial<OtpProfile> & { extends: string },
} as const;

/** A staggered SMS retry can still leave this long after a send (the profile's last retry, plus slack): the run watches that long for them. */
const RETRY_TAIL_S = Math.max(0, ...PRESETS.login.retrySchedule) + 5;

const USAGE = `usage: npm run bench -- --carrier-mix SPEC [--rate N] [--duration S] [--drain S] [--json FILE] [--verbose]
  SPEC: undeliv=P,silent=P,delay=A-Bs[,seed=N], e.g. undeliv=0.10,silent=0.05,delay=1-3s`;

interface Options {
  mix: CarrierMix;
  rate: number;
  duration: number;
  drain: number;
  json?: string;
  verbose: boolean;
}

/** True when the bench's arguments ask for this mode. */
export function isDeliveryOutcomeRun(argv: string[]): boolean {
  return argv.some((a) => a === '--carrier-mix' || a.startsWith('--carrier-mix='));
}

/** The flags, or the usage and exit 2: every error here (an unknown flag, a bad number, a bad mix) is the caller's. */
function parseOptions(argv: string[]): Options {
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        'carrier-mix': { type: 'string', default: '' },
        rate: { type: 'string', default: '2' },
        duration: { type: 'string', default: '60' },
        drain: { type: 'string', default: '125' },
        json: { type: 'string' },
        verbose: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    });
    if (values.help) {
      console.log(USAGE);
      process.exit(0);
    }
    const positive = (name: string, v: string): number => {
      const n = Number(v);
      if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number (got "${v}")`);
      return n;
    };
    return {
      mix: parseCarrierMix(values['carrier-mix']),
      rate: positive('rate', values.rate),
      duration: positive('duration', values.duration),
      drain: positive('drain', values.drain),
      json: values.json,
      verbose: values.verbose,
    };
  } catch (err) {
    console.error(`bench: ${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    process.exit(2);
  }
}

export interface DeliveryOutcomeResult extends Pick<BenchResult, 'version' | 'startedAt' | 'finishedAt' | 'command' | 'machine'> {
  kind: 'delivery-outcome';
  config: {
    carrierMix: string;
    rate: number;
    durationS: number;
    drainS: number;
    profile: typeof DELIVERY_OUTCOME_PROFILE;
    server: string;
    taskQueue: string;
  };
  figures: DeliveryOutcomeFigures;
  resources: Record<string, ResourceFigures>;
  notes: string[];
}

const log = (msg: string) => console.log(`[bench] ${msg}`);

/** Reads the code out of an SMS or an email as a person would (the login template: "… code is 123456 …"). */
const codeIn = (text: string): string | undefined => /code is ([0-9A-Z]{4,10})/.exec(text)?.[1];

export async function runDeliveryOutcome(argv: string[]): Promise<void> {
  const opts = parseOptions(argv);
  const runId = randomBytes(3).toString('hex');
  const startedAt = new Date().toISOString();
  const machine = machineInfo();
  // Measured before the stack starts: other sessions on a shared machine show here.
  machine.cpuBusyAtStartPct = await machineCpu();
  log(`machine: ${machine.nproc} CPU, ${machine.cpuBusyAtStartPct ?? '?'} % of a core busy before the stack started`);
  const external = process.env.TEMPORAL_ADDRESS || undefined;
  const stack = new BenchStack({
    runId,
    temporalAddress: external,
    baselines: false,
    smscTps: 0,
    receiptDelayMs: 50,
    profiles: JSON.stringify({ [DELIVERY_OUTCOME_PROFILE.name]: DELIVERY_OUTCOME_PROFILE.settings }),
    verbose: opts.verbose,
  });
  const sampler = new ProcSampler();
  let interrupted = false;
  const cleanUp = async () => {
    sampler.stop();
    await stack.stop();
  };
  process.once('SIGINT', () => {
    interrupted = true;
    log('interrupted: stopping the stack');
    void cleanUp().then(() => process.exit(130));
  });

  try {
    log(external ? `using the Temporal server at ${external}` : 'starting a Temporal dev server, the simulator (with its SMTP mailbox) and the worker…');
    await stack.start();
    const mixSpec = formatCarrierMix(opts.mix);
    const put = await fetch(`${stack.simHttpUrl}/carrier-mix`, { method: 'PUT', body: mixSpec });
    if (!put.ok) throw new Error(`PUT /carrier-mix: HTTP ${put.status} ${await put.text()}`);
    log(`stack up: server ${stack.address}, simulator ${stack.simHttpUrl}; carrier mix ${mixSpec}; profile ${DELIVERY_OUTCOME_PROFILE.name}`);
    sampler.watch('worker', stack.pid('worker'));
    sampler.watch('smsc-sim', stack.pid('smsc-sim'));
    sampler.watch('server', stack.pid('server'));
    sampler.watch('generator', process.pid);
    sampler.start();

    const otp = await connectOtpClient(loadConfig(stack.workerEnv, 'client'));
    const tenant = `bench-${runId}`;
    const sessions: SessionRecord[] = [];
    const byPhone = new Map<string, SessionRecord>();
    const byEmail = new Map<string, SessionRecord>();
    const pending = new Set<Promise<void>>();
    const track = (p: Promise<void>) => {
      pending.add(p);
      void p.finally(() => pending.delete(p));
    };

    // The simulated user: the first code on any channel is read and typed in at once.
    const arrive = (s: SessionRecord | undefined, channel: Channel, a: Arrival) => {
      if (!s || s.reached) return;
      s.reached = { channel, mono: a.mono };
      const code = codeIn(a.text);
      if (!code) {
        s.verify = 'no code in the text';
        return;
      }
      track(
        otp.verify(s.phone, code, { tenant }).then(
          (v) => void (s.verify = v.outcome),
          (err: unknown) => void (s.verify = `error:${err instanceof Error ? err.name : 'unknown'}`),
        ),
      );
    };
    const feeds = new OutcomeFeeds(stack.simHttpUrl);
    feeds.onSms = (a) => arrive(byPhone.get(a.to), 'sms', a);
    feeds.onMail = (a) => {
      const s = byEmail.get(a.to);
      if (s) s.emails++;
      arrive(s, 'email', a);
    };
    let following = true;
    const follower = (async () => {
      while (following) {
        try {
          await feeds.poll();
        } catch (err) {
          log(`simulator feeds: ${err instanceof Error ? err.message : String(err)}`);
        }
        await sleep(100);
      }
    })();

    const planned = Math.round(opts.rate * opts.duration);
    log(`${planned} sessions at ${opts.rate}/s for ${opts.duration} s, then up to ${opts.drain} s for codes, verifies and late retries`);
    const fire = (i: number, lateMs: number) => {
      const phone = `+336${20_000_000 + i}`;
      const s: SessionRecord = { phone, email: `user${i}@${BENCH_EMAIL_DOMAIN}`, sentMono: monotonicMs(), lateMs, emails: 0 };
      sessions.push(s);
      byPhone.set(phone, s);
      byEmail.set(s.email, s);
      track(
        otp.send(phone, { tenant, profile: DELIVERY_OUTCOME_PROFILE.name, email: s.email }).then(
          (r) => {
            // Read as plain fields: a refusal status the contract does not list yet is still a refusal.
            const fields: Record<string, unknown> = { ...r };
            s.status = String(fields.status);
            s.reason = typeof fields.reason === 'string' ? fields.reason : undefined;
          },
          (err: unknown) => void (s.error = err instanceof Error ? err.name : 'unknown'),
        ),
      );
    };
    const t0 = monotonicMs() + 100;
    const runFrom = Date.now();
    let nextLog = t0 + 10_000;
    for (let i = 0; i < planned; ) {
      const now = monotonicMs();
      // Open loop: every arrival that is due leaves now, whatever is still in flight.
      while (i < planned && t0 + (i * 1000) / opts.rate <= now) {
        fire(i, now - (t0 + (i * 1000) / opts.rate));
        i++;
      }
      if (now >= nextLog) {
        nextLog += 10_000;
        log(`  ${sessions.length} sent, ${sessions.filter((s) => s.reached).length} with a code`);
      }
      await sleep(Math.min(20, t0 + (i * 1000) / opts.rate - monotonicMs()));
    }
    const lastSend = sessions.at(-1)?.sentMono ?? monotonicMs();
    // Drain: until every session has its code and verify and no retry can still leave, or --drain.
    let settled = false;
    for (;;) {
      const since = (monotonicMs() - lastSend) / 1000;
      settled = sessions.every((s) => (s.status !== undefined && s.status !== 'sent') || s.error !== undefined || s.verify !== undefined);
      if (since >= opts.drain || (settled && pending.size === 0 && since >= RETRY_TAIL_S)) break;
      if (monotonicMs() >= nextLog) {
        nextLog += 10_000;
        log(`  drain ${Math.round(since)} s: ${sessions.filter((s) => s.reached).length}/${sessions.length} with a code, ${pending.size} calls in flight`);
      }
      await sleep(250);
    }
    following = false;
    await follower;
    await feeds.poll();
    await Promise.race([Promise.allSettled([...pending]), sleep(10_000)]);

    const figures = deliveryFigures(sessions, feeds.submitsByPhone);
    const drainedS = (monotonicMs() - lastSend) / 1000;
    const result: DeliveryOutcomeResult = {
      kind: 'delivery-outcome',
      version: 1,
      startedAt,
      finishedAt: new Date().toISOString(),
      command: `npm run bench -- ${argv.join(' ')}`.trim(),
      machine,
      config: {
        carrierMix: mixSpec,
        rate: opts.rate,
        durationS: opts.duration,
        drainS: opts.drain,
        profile: DELIVERY_OUTCOME_PROFILE,
        server: external ? `external (${external})` : 'dev server started by the bench (SQLite file)',
        taskQueue: stack.taskQueue,
      },
      figures,
      resources: sampler.figures(runFrom, Date.now()),
      notes: [
        'Time to code: from the send call to the SMS on the handset or the email in the mailbox (the simulator stamps both on the host monotonic clock).',
        'A silent or undeliverable SMS never reaches the handset: such a session counts as reached only through a channel that delivered.',
        `SMS segments per verified session: every submit_sm the SMSC saw for the run's sessions over the sessions whose verify answered "verified".`,
        ...(drainedS < 120
          ? [
              settled
                ? `The run stopped ${Math.round(drainedS)} s after the last send, every session verified or refused: no later code could change the 120 s figure.`
                : `The run stopped ${Math.round(drainedS)} s after the last send (--drain) with sessions still waiting: the 120 s figure is a lower bound.`,
            ]
          : []),
        ...(feeds.gaps ? [`The simulator dropped ${feeds.gaps} records before they were read.`] : []),
      ],
    };
    console.log('');
    console.log(deliveryTable(figures));
    if (opts.json) {
      mkdirSync(dirname(opts.json), { recursive: true });
      writeFileSync(opts.json, JSON.stringify(result, null, 1));
      log(`wrote ${opts.json}`);
    }
  } finally {
    if (!interrupted) await cleanUp();
  }
}
