/**
 * Judges a chaos run: what became of each session (verified, refused, failed,
 * lost, wrong), which fault window explains each duplicate SMS, latency
 * during and after each fault, and the time to recover.
 */
import { maskPhone } from '../contract/keys';
import type { OtpSessionStatus } from '../contract';
import type { SimFeed } from '../bench/lib/sim-feed';
import { count, percentile, summarize } from '../bench/lib/stats';
import type { FaultWindow } from './faults';
import type { SessionRecord } from './load';
import type { ChaosResult, FaultFigures, SessionVerdict } from './types';

export interface JudgeInput {
  records: SessionRecord[];
  feed: SimFeed;
  windows: FaultWindow[];
  /** The status of every session that has no SMS in the inbox, read after the drain (null: no session). */
  statuses: Map<string, OtpSessionStatus | null | 'unreadable'>;
  loadStart: number;
  loadEnd: number;
  thresholdMs: number;
}

interface Judged {
  record: SessionRecord;
  verdict: SessionVerdict;
  /** Why, for wrong and lost sessions and refusals. */
  detail: string;
  sms: number;
  latencyMs: number;
}

/** A duplicate is explained by a fault whose window, widened by this much, holds the first submit (in flight at the fault). */
const IN_FLIGHT_SLACK_MS = 5000;
/** … or whose window, plus the retry schedule's last step and the receipt timeout, holds the duplicate (a retry after a receipt the fault lost). */
/** Sends started this close before the next fault may meet it on their way: they are left out of "after" and of recovery. */
const NEXT_FAULT_GUARD_MS = 1000;
const RETRY_HORIZON_MS = 80_000;

export function judgeSession(r: SessionRecord, feed: SimFeed, status: OtpSessionStatus | null | 'unreadable' | undefined): Omit<Judged, 'latencyMs'> {
  const sms = feed.inboxByPhone.get(r.phone)?.length ?? 0;
  const base = { record: r, sms };
  if (sms > 0) {
    if (!r.verifyDone) return { ...base, verdict: 'wrong', detail: 'verify never answered' };
    if (r.verifyValid) return { ...base, verdict: 'verified', detail: '' };
    return {
      ...base,
      verdict: 'wrong',
      detail: r.verifyOutcome ? `verify of the code in the SMS answered ${r.verifyOutcome}` : `verify threw ${r.verifyError ?? 'nothing'}`,
    };
  }
  if (r.endedAt === undefined) return { ...base, verdict: 'wrong', detail: 'send never answered' };
  if (r.error && !r.errorTyped) return { ...base, verdict: 'wrong', detail: `untyped error ${r.error}` };
  const code = status && status !== 'unreadable' ? status.code : undefined;
  // A code issued for this session (the send may have timed out and run later) is judged by its delivery.
  if (code) {
    if (code.delivery === 'failed') return { ...base, verdict: 'failed', detail: `delivery failed (${code.deliveryStat ?? 'no stat'})` };
    if (code.channel !== 'sms') return { ...base, verdict: 'verified', detail: `channel ${code.channel}` };
    return { ...base, verdict: 'lost', detail: `code ${code.state}, delivery ${code.delivery}, no SMS; send ${r.status ?? r.error}` };
  }
  if (status === 'unreadable') return { ...base, verdict: 'lost', detail: `no SMS and the status could not be read; send ${r.status ?? r.error}` };
  if (r.status === 'sent') return { ...base, verdict: 'lost', detail: 'answered sent, no code in the session, no SMS' };
  return { ...base, verdict: 'refused', detail: r.status !== undefined ? `${r.status}:${r.reason ?? ''}` : (r.error ?? 'unknown') };
}

function latencyOf(r: SessionRecord, feed: SimFeed): number {
  const s = feed.accepted(r.phone)[0];
  return s ? s.mono - r.startedMono : Infinity;
}

/** A send counts toward recovery when it was neither refused nor failed and reached the SMSC under the threshold. */
function succeeded(j: Judged, thresholdMs: number): boolean {
  return j.verdict === 'verified' && j.latencyMs < thresholdMs;
}

/**
 * Seconds after `from` until the first moment from which every sliding 5 s
 * window (sends started before `to`) has p99 send→submit under the threshold
 * and only sends that succeeded; null when that moment never comes before `to`.
 */
export function recovery(judged: Judged[], from: number, to: number, thresholdMs: number): number | null {
  const step = 250;
  const win = 5000;
  const span = judged.filter((j) => j.record.startedAt >= from && j.record.startedAt < to);
  const windowOk = (w: number) => {
    const inWin = span.filter((j) => j.record.startedAt >= w && j.record.startedAt < w + win);
    if (!inWin.length) return true;
    const lat = inWin.map((j) => (succeeded(j, thresholdMs) ? j.latencyMs : Infinity)).sort((a, b) => a - b);
    return inWin.every((j) => j.verdict === 'verified') && percentile(lat, 99) < thresholdMs;
  };
  let lastFail: number | undefined;
  for (let w = from; w < to; w += step) if (!windowOk(w)) lastFail = w;
  if (lastFail === undefined) return 0;
  const t = lastFail + step;
  if (t >= to) return null;
  return Math.round(((t - from) / 1000) * 10) / 10;
}

export function judge(input: JudgeInput): Pick<ChaosResult, 'faults' | 'totals' | 'problems' | 'timeline'> {
  const { feed, windows, thresholdMs } = input;
  const judged: Judged[] = input.records.map((r) => ({ ...judgeSession(r, feed, input.statuses.get(r.phone)), latencyMs: latencyOf(r, feed) }));
  const spans = [{ kind: 'baseline' as const, start: input.loadStart, end: input.loadStart, note: 'before the first fault' }, ...windows].map((w, k, all) => ({
    ...w,
    spanEnd: all[k + 1]?.start ?? input.loadEnd,
  }));

  // Each duplicate SMS to the fault that explains it.
  const dupBy = new Map<number, number>();
  let unexplained = 0;
  let totalDups = 0;
  let maxSms = 0;
  for (const j of judged) {
    maxSms = Math.max(maxSms, j.sms);
    if (j.sms < 2) continue;
    const firstSubmit = feed.accepted(j.record.phone)[0]?.at ?? j.record.startedAt;
    const copies = (feed.inboxByPhone.get(j.record.phone) ?? []).slice(1);
    for (const copy of copies) {
      totalDups++;
      let k = windows.findIndex((w) => firstSubmit >= w.start - IN_FLIGHT_SLACK_MS && firstSubmit <= w.end + IN_FLIGHT_SLACK_MS);
      if (k < 0) k = windows.findIndex((w) => copy.at >= w.start && copy.at <= w.end + RETRY_HORIZON_MS && firstSubmit <= w.end);
      if (k < 0) unexplained++;
      else dupBy.set(k, (dupBy.get(k) ?? 0) + 1);
    }
  }

  const faults: FaultFigures[] = spans.map((s, k) => {
    const mine = judged.filter((j) => j.record.startedAt >= s.start && j.record.startedAt < s.spanEnd);
    const refused: Record<string, number> = {};
    const wrongKinds: Record<string, number> = {};
    for (const j of mine) {
      if (j.verdict === 'refused') count(refused, j.detail);
      if (j.verdict === 'wrong') count(wrongKinds, j.detail.replace(/\d+/g, 'N'));
    }
    const lat = (from: number, to: number) => {
      const xs = mine.filter((j) => j.record.startedAt >= from && j.record.startedAt <= to && j.verdict !== 'refused' && j.verdict !== 'failed');
      return summarize(
        xs.filter((j) => Number.isFinite(j.latencyMs)).map((j) => j.latencyMs),
        xs.filter((j) => !Number.isFinite(j.latencyMs)).length,
      );
    };
    const isBaseline = s.kind === 'baseline';
    return {
      kind: s.kind,
      note: s.note,
      injectedAtS: Math.round(((s.start - input.loadStart) / 1000) * 10) / 10,
      windowS: Math.round(((s.end - s.start) / 1000) * 10) / 10,
      sessions: mine.length,
      sent: mine.filter((j) => j.record.status === 'sent').length,
      refused,
      failed: mine.filter((j) => j.verdict === 'failed').length,
      lost: mine.filter((j) => j.verdict === 'lost').length,
      wrong: mine.filter((j) => j.verdict === 'wrong').length,
      wrongKinds,
      duplicates: isBaseline ? 0 : (dupBy.get(k - 1) ?? 0),
      during: lat(s.start, s.end),
      after: lat(s.end + 1, s.spanEnd - (k + 1 < spans.length ? NEXT_FAULT_GUARD_MS : 0)),
      recoveryS: isBaseline ? 0 : recovery(judged, s.end, s.spanEnd - (k + 1 < spans.length ? NEXT_FAULT_GUARD_MS : 0), thresholdMs),
    };
  });

  const verdicts: Record<SessionVerdict, number> = { verified: 0, refused: 0, failed: 0, lost: 0, wrong: 0 };
  for (const j of judged) verdicts[j.verdict]++;
  const measured = judged.filter((j) => j.verdict !== 'refused' && j.verdict !== 'failed');
  return {
    faults,
    totals: {
      sessions: judged.length,
      sent: judged.filter((j) => j.record.status === 'sent').length,
      verdicts,
      duplicates: totalDups,
      unexplainedDuplicates: unexplained,
      maxSmsPerNumber: maxSms,
      sendToSubmit: summarize(
        measured.filter((j) => Number.isFinite(j.latencyMs)).map((j) => j.latencyMs),
        measured.filter((j) => !Number.isFinite(j.latencyMs)).length,
      ),
    },
    timeline: judged.map((j) => ({
      atS: Math.round((j.record.startedAt - input.loadStart) / 10) / 100,
      latencyMs: Number.isFinite(j.latencyMs) ? Math.round(j.latencyMs * 10) / 10 : null,
      verdict: j.verdict,
      answer: j.record.status !== undefined ? `${j.record.status}${j.record.reason ? `:${j.record.reason}` : ''}` : (j.record.error ?? 'none'),
    })),
    problems: judged
      .filter((j) => j.verdict === 'lost' || j.verdict === 'wrong')
      .slice(0, 50)
      .map((j) => ({
        phone: maskPhone(j.record.phone),
        verdict: j.verdict,
        detail: `${j.detail}; sms ${j.sms}, started +${((j.record.startedAt - input.loadStart) / 1000).toFixed(1)} s`,
      })),
  };
}
