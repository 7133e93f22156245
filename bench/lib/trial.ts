/**
 * One open-loop trial: sends fired at fixed arrival times that never wait for
 * replies, then every figure of the trial from the send records and the
 * simulator's feeds.
 */
import type { Client } from '@temporalio/client';
import type { ProcSampler } from './proc-stats';
import { monotonicMs, type SimFeed } from './sim-feed';
import { count, distribution, percentile, sleep, summarize } from './stats';
import { errorType, type Target } from './targets';
import type { HistoryFigures, NumbersMode, TrialResult, WindowFigures } from './types';

export interface TrialSpec {
  label: string;
  target: Target;
  numbers: NumbersMode;
  /** Phone of the i-th send. */
  phone: (i: number) => string;
  /** The phones a hot trial draws from (for duplicate counting). */
  hotPool?: string[];
  tenant: string;
  phases: { rate: number; seconds: number }[];
  verify: boolean;
  /** A user's reading and typing time: verify this long after the SMS is in the inbox. */
  verifyAfterMs: number;
  thresholdMs: number;
  /** Stop as soon as the verdict is certain (rate search). */
  abortOnFail: boolean;
  windows: boolean;
  /** Sessions whose receipt latency is read with the status query; 0 = none. */
  receiptSample: number;
  /** Count history events of the workflows this trial started on that task queue, per workflow of that type. */
  history?: { taskQueue: string; sessionType: string };
  /** Longest wait for answers after the last scheduled send, s. */
  drainS: number;
}

export interface TrialContext {
  feed: SimFeed;
  sampler: ProcSampler;
  temporal: Client;
  /** Set when a stack process died. */
  failure: () => Error | undefined;
  log: (msg: string) => void;
}

interface SendRecord {
  i: number;
  phone: string;
  /** Intended arrival, performance.now() domain. */
  dueAt: number;
  /** Wall clock of the call (ms epoch). */
  startedAt: number;
  /** Host monotonic clock of the call, ms: compared with the simulator's `mono`. */
  startedMono: number;
  lateMs: number;
  endedAt?: number;
  status?: string;
  reason?: string;
  messageId?: string;
  channel?: string;
  error?: string;
  submitAt?: number;
  submitMono?: number;
  verifyStarted?: boolean;
  verifyMs?: number;
  verifyDone?: boolean;
}

const isRefused = (r: SendRecord) => r.status !== undefined && r.status !== 'sent';
/** Sends that should make an SMS: answered "sent" over SMS. */
const isSentSms = (r: SendRecord) => r.status === 'sent' && (r.channel === undefined || r.channel === 'sms');

export interface TrialRun {
  result: TrialResult;
  /** Duplicates counted again from what the simulator has seen by now (late retries). */
  duplicatesNow(): number;
}

export async function runTrial(spec: TrialSpec, ctx: TrialContext): Promise<TrialRun> {
  const { feed } = ctx;
  const times: number[] = [];
  let offset = 0;
  for (const p of spec.phases) {
    const n = Math.round(p.rate * p.seconds);
    for (let j = 0; j < n; j++) times.push(offset + (j * 1000) / p.rate);
    offset += p.seconds * 1000;
  }
  const scheduleMs = offset;
  const planned = times.length;
  const records: SendRecord[] = [];
  const byPhone = new Map<string, SendRecord[]>();
  const pending = new Set<Promise<void>>();
  const errors: Record<string, number> = {};
  const errorSamples: Record<string, string> = {};
  const fail = (type: string, message: string) => {
    count(errors, type);
    errorSamples[type] ??= message.slice(0, 300);
  };

  const submitOf = (r: SendRecord): number | undefined => {
    if (r.submitAt !== undefined) return r.submitAt;
    const s = spec.numbers === 'distinct' ? feed.accepted(r.phone)[0] : r.messageId ? feed.submitsById.get(r.messageId.toLowerCase()) : undefined;
    r.submitAt = s?.at;
    r.submitMono = s?.mono;
    return r.submitAt;
  };

  // Verify once the SMS is in the handset and the send has answered, as a user would.
  const maybeVerify = (r: SendRecord) => {
    if (!spec.verify || !spec.target.verify || r.verifyStarted || !isSentSms(r)) return;
    const inbox = feed.inboxByPhone.get(r.phone) ?? [];
    const sms =
      spec.numbers === 'distinct'
        ? inbox[0]
        : inbox.find((m) => r.messageId !== undefined && m.messageIds.some((id) => id.toLowerCase() === r.messageId!.toLowerCase()));
    if (!sms) return;
    r.verifyStarted = true;
    const code = /code is (\d+)/.exec(sms.text)?.[1];
    if (!code) {
      fail('verify:no_code_in_sms', sms.text);
      r.verifyDone = true;
      return;
    }
    const verify = spec.target.verify;
    if (!verify) return;
    const typed = spec.verifyAfterMs > 0 ? new Promise<void>((res) => setTimeout(res, spec.verifyAfterMs)) : Promise.resolve();
    let t0 = 0;
    const p = typed
      .then(() => {
        t0 = performance.now();
        return verify(r.phone, code, spec.tenant);
      })
      .then(
        (v) => {
          r.verifyMs = performance.now() - t0;
          if (!v.valid) fail(`verify_invalid:${v.outcome}`, `verify answered ${v.outcome}`);
        },
        (err: unknown) => fail(`verify:${errorType(err)}`, err instanceof Error ? err.message : String(err)),
      )
      .finally(() => {
        r.verifyDone = true;
        pending.delete(p);
      });
    pending.add(p);
  };
  feed.onInbox = (m) => {
    for (const r of byPhone.get(m.to) ?? []) maybeVerify(r);
  };

  const duplicates = (): number => {
    if (spec.numbers === 'distinct') return [...byPhone.keys()].reduce((a, phone) => a + Math.max(0, feed.accepted(phone).length - 1), 0);
    const submits = (spec.hotPool ?? []).reduce((a, phone) => a + feed.accepted(phone).length, 0);
    return Math.max(0, submits - records.filter(isSentSms).length);
  };

  const fire = (i: number, dueAt: number, now: number, wallBase: number) => {
    const phone = spec.phone(i);
    const r: SendRecord = { i, phone, dueAt, startedAt: wallBase + now, startedMono: monotonicMs(), lateMs: now - dueAt };
    records.push(r);
    const list = byPhone.get(phone);
    if (list) list.push(r);
    else byPhone.set(phone, [r]);
    const p = spec.target
      .send(phone, spec.tenant)
      .then(
        (o) => {
          r.status = o.status;
          r.reason = o.reason;
          r.messageId = o.messageId;
          r.channel = o.channel;
          maybeVerify(r);
        },
        (err: unknown) => {
          r.error = errorType(err);
          fail(r.error, err instanceof Error ? err.message : String(err));
        },
      )
      .finally(() => {
        r.endedAt = wallBase + performance.now();
        pending.delete(p);
      });
    pending.add(p);
  };

  const startedAtIso = new Date().toISOString();
  const wallBase = Date.now() - performance.now();
  const t0 = performance.now() + 100;
  const wallStart = wallBase + t0;
  let aborted: string | undefined;
  let nextCheck = t0 + 1000;
  const allowedBad = planned - Math.ceil(0.99 * planned);
  let k = 0;
  while (k < planned && !aborted) {
    const now = performance.now();
    // Catch up on every arrival that is due: the schedule never waits for replies.
    while (k < planned && t0 + times[k] <= now) {
      fire(k, t0 + times[k], performance.now(), wallBase);
      k++;
    }
    if (spec.abortOnFail && now >= nextCheck) {
      nextCheck = now + 500;
      const wallNow = wallBase + now;
      // A send whose SMS has not come 250 ms (feed lag) after the threshold is certainly over it.
      const bad = records.filter(
        (r) =>
          !isRefused(r) && (submitOf(r) !== undefined ? r.submitMono! - r.startedMono >= spec.thresholdMs : wallNow - r.startedAt >= spec.thresholdMs + 250),
      ).length;
      const errs = Object.values(errors).reduce((a, b) => a + b, 0);
      if (bad > allowedBad) aborted = `${bad} sends over ${spec.thresholdMs} ms by ${((now - t0) / 1000).toFixed(0)} s (p99 needs at most ${allowedBad})`;
      else if (errs > 0) aborted = `${errs} error(s) by ${((now - t0) / 1000).toFixed(0)} s: ${Object.keys(errors).join(', ')}`;
      else if (duplicates() > 0) aborted = `duplicate SMS by ${((now - t0) / 1000).toFixed(0)} s`;
    }
    const failure = ctx.failure();
    if (failure) throw failure;
    if (k < planned && !aborted) {
      const due = t0 + times[k];
      await sleep((spec.abortOnFail ? Math.min(due, nextCheck) : due) - performance.now());
    }
  }
  const scheduleEndWall = wallBase + performance.now();
  if (aborted) ctx.log(`  aborted: ${aborted}`);

  // Drain: answers first, then SMS and verifies, until done or no progress.
  const drainEnd = performance.now() + spec.drainS * 1000;
  while (pending.size && performance.now() < drainEnd && !ctx.failure()) await sleep(100);
  let lastProgress = performance.now();
  let lastOutstanding = -1;
  for (;;) {
    await feed.poll();
    const outstanding = records.filter((r) => (isSentSms(r) && submitOf(r) === undefined) || (r.verifyStarted && !r.verifyDone)).length + pending.size;
    if (outstanding === 0 || ctx.failure()) break;
    if (outstanding !== lastOutstanding) {
      lastOutstanding = outstanding;
      lastProgress = performance.now();
    }
    if (performance.now() - lastProgress > 5000 || performance.now() > drainEnd + 15_000) break;
    await sleep(200);
  }
  feed.onInbox = undefined;
  for (const r of records) submitOf(r);

  const statuses: Record<string, number> = {};
  const refusals: Record<string, number> = {};
  for (const r of records) {
    count(statuses, r.status ?? (r.error ? 'error' : 'no_answer'));
    if (isRefused(r)) count(refusals, `${r.status}:${r.reason ?? ''}`);
  }
  const measured = records.filter((r) => !isRefused(r));
  const toSubmit = measured.filter((r) => r.submitMono !== undefined).map((r) => r.submitMono! - r.startedMono);
  const sendCall = records.filter((r) => r.endedAt !== undefined && !r.error).map((r) => r.endedAt! - r.startedAt);
  const noSms = measured.filter((r) => r.submitAt === undefined);
  const answered = records.filter((r) => r.endedAt !== undefined);
  const lastAnswer = Math.max(wallStart, ...answered.map((r) => r.endedAt!));
  const submitTimes = records.map((r) => r.submitAt).filter((x): x is number => x !== undefined);
  const lastSubmit = Math.max(wallStart, ...submitTimes);
  const r1 = (v: number) => Math.round(v * 100) / 100;
  const dups = duplicates();
  const offeredRate = planned / (scheduleMs / 1000);

  const result: TrialResult = {
    label: spec.label,
    target: spec.target.name,
    numbers: spec.numbers,
    tenant: spec.target.name === 'product' ? spec.tenant : undefined,
    phases: spec.phases,
    offeredRate: r1(offeredRate),
    planned,
    fired: records.length,
    firedRate: r1(records.length / Math.max(0.001, (scheduleEndWall - wallStart) / 1000)),
    achievedRate: r1(answered.length / Math.max(0.001, (lastAnswer - wallStart) / 1000)),
    deliveredRate: r1(submitTimes.length / Math.max(0.001, (lastSubmit - wallStart) / 1000)),
    lateness: summarize(records.map((r) => r.lateMs)),
    sendToSubmit: summarize(toSubmit, noSms.length),
    sendCall: summarize(sendCall),
    statuses,
    refusals,
    // Copies: sends still failing after the drain must not change a result already taken.
    errors: { ...errors },
    errorSamples: { ...errorSamples },
    duplicates: dups,
    sentWithoutSms: records.filter((r) => isSentSms(r) && r.submitAt === undefined).length,
    sessionsLost: noSms.length,
    unansweredWithin2s: records.filter((r) => r.endedAt === undefined || r.error !== undefined || r.endedAt - r.startedAt > 2000).length,
    neverAnswered: records.filter((r) => r.endedAt === undefined).length,
    resources: ctx.sampler.figures(wallStart, scheduleEndWall),
    startedAt: startedAtIso,
    durationS: r1((scheduleEndWall - wallStart) / 1000),
  };
  if (spec.verify && spec.target.verify) result.verify = summarize(records.filter((r) => r.verifyMs !== undefined).map((r) => r.verifyMs!));
  if (aborted) result.aborted = aborted;
  if (spec.abortOnFail || spec.windows) {
    const reasons: string[] = [];
    const p99 = result.sendToSubmit.p99;
    if (records.length < planned) reasons.push(`stopped after ${records.length}/${planned} sends`);
    if (p99 === null || p99 >= spec.thresholdMs) reasons.push(`p99 send->submit ${p99 === null ? 'missing SMS' : `${p99} ms`} >= ${spec.thresholdMs} ms`);
    const errs = Object.values(errors).reduce((a, b) => a + b, 0);
    if (errs) reasons.push(`${errs} error(s)`);
    if (dups) reasons.push(`${dups} duplicate SMS`);
    result.pass = reasons.length === 0;
    if (reasons.length) result.failReasons = reasons;
  }
  if (spec.windows) result.windows = windows(records, t0, spec, (r) => (r.submitMono === undefined ? Infinity : r.submitMono - r.startedMono));
  if (!spec.abortOnFail) result.distributions = { sendToSubmit: distribution(toSubmit), sendCall: distribution(sendCall) };
  if (spec.receiptSample > 0 && spec.target.recordedReceipts) result.receipt = await receiptLatency(spec, records.filter(isSentSms), feed);
  if (spec.history)
    result.history = await history(ctx, spec.history, wallStart, new Set(records.filter(isSentSms).map((r) => r.phone)).size, records.filter(isSentSms).length);
  return { result, duplicatesNow: duplicates };
}

function windows(records: SendRecord[], t0: number, spec: TrialSpec, latency: (r: SendRecord) => number): WindowFigures[] {
  const out: WindowFigures[] = [];
  const total = spec.phases.reduce((a, p) => a + p.seconds, 0);
  for (let s = 0; s < Math.ceil(total); s++) {
    const inWindow = records.filter((r) => r.dueAt - t0 >= s * 1000 && r.dueAt - t0 < (s + 1) * 1000);
    let acc = 0;
    const phase = spec.phases.find((p) => s < (acc += p.seconds));
    const lat = inWindow
      .filter((r) => !isRefused(r))
      .map(latency)
      .sort((a, b) => a - b);
    const fin = (v: number) => (Number.isFinite(v) ? Math.round(v * 10) / 10 : null);
    out.push({
      second: s,
      offeredRate: phase?.rate ?? 0,
      sends: inWindow.length,
      sent: inWindow.filter((r) => r.status === 'sent').length,
      refused: inWindow.filter(isRefused).length,
      errors: inWindow.filter((r) => r.error).length,
      p50: lat.length ? fin(percentile(lat, 50)) : null,
      p99: lat.length ? fin(percentile(lat, 99)) : null,
    });
  }
  return out;
}

/** Receipt sent by the SMSC -> the receipt the session recorded, over a random sample of sessions. */
async function receiptLatency(spec: TrialSpec, sent: SendRecord[], feed: SimFeed): Promise<ReturnType<typeof summarize>> {
  const recordedReceipts = spec.target.recordedReceipts;
  const sample = [...sent].sort(() => Math.random() - 0.5).slice(0, spec.receiptSample);
  const values: number[] = [];
  let missing = 0;
  let next = 0;
  await feed.poll();
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < sample.length) {
        const r = sample[next++];
        let recorded;
        try {
          recorded = recordedReceipts ? await recordedReceipts(r.phone, spec.tenant) : [];
        } catch {
          missing++;
          continue;
        }
        const wanted = r.messageId?.toLowerCase();
        let found: number | undefined;
        for (const e of recorded) {
          const id = e.messageId?.toLowerCase();
          if (spec.numbers === 'hot' && id && wanted && id !== wanted) continue;
          const candidates = (id ? feed.receiptsById.get(id) : undefined) ?? feed.receiptsByPhone.get(r.phone) ?? [];
          // The last receipt the SMSC sent before the session recorded it (the SMSC resends when asked to retry).
          const sentAt = candidates
            .filter((c) => c.at <= e.at + 1)
            .map((c) => c.at)
            .pop();
          if (sentAt !== undefined) found = e.at - sentAt;
          break;
        }
        if (found === undefined) missing++;
        else values.push(found);
      }
    }),
  );
  return summarize(values, missing);
}

/** History events of every workflow the trial started on the task queue, per session. */
async function history(
  ctx: TrialContext,
  on: { taskQueue: string; sessionType: string },
  wallStart: number,
  expectedSessions: number,
  sends: number,
): Promise<HistoryFigures> {
  const query = `TaskQueue = '${on.taskQueue}' AND StartTime >= '${new Date(wallStart - 1000).toISOString()}'`;
  type Row = { workflowId: string; runId: string; type: string; historyLength: number; running: boolean };
  let rows: Row[] = [];
  // Visibility is eventually consistent: wait until it lists the sessions the trial started.
  for (let attempt = 0; attempt < 20; attempt++) {
    rows = [];
    for await (const wf of ctx.temporal.workflow.list({ query })) {
      rows.push({ workflowId: wf.workflowId, runId: wf.runId, type: wf.type, historyLength: wf.historyLength, running: wf.status.name === 'RUNNING' });
    }
    if (rows.filter((r) => r.type === on.sessionType).length >= expectedSessions) break;
    await sleep(500);
  }
  // Visibility's historyLength of a running workflow can lag; describe reads the current one.
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < rows.length) {
        const row = rows[next++];
        if (!row.running) continue;
        try {
          const d = await ctx.temporal.workflow.getHandle(row.workflowId, row.runId).describe();
          row.historyLength = d.historyLength;
        } catch {
          // Gone since the list: keep the listed figure.
        }
      }
    }),
  );
  const workflows: HistoryFigures['workflows'] = {};
  for (const r of rows) {
    const w = (workflows[r.type] ??= { count: 0, events: 0 });
    w.count++;
    w.events += r.historyLength;
  }
  const totalEvents = rows.reduce((a, r) => a + r.historyLength, 0);
  const sessions = new Set(rows.filter((r) => r.type === on.sessionType).map((r) => r.workflowId)).size;
  const per = (n: number) => (n ? Math.round((totalEvents / n) * 10) / 10 : null);
  return {
    workflows,
    totalEvents,
    sessions,
    eventsPerSession: per(sessions),
    sends,
    eventsPerSend: per(sends),
    source: 'visibility list, describe for running workflows',
  };
}
