/**
 * The delivery-outcome bench's figures, from what each session saw and what
 * the simulator recorded: the share of sessions with a code on some channel
 * within 5, 30 and 120 s, time to code, SMS segments per verified session,
 * messages per session by channel, and the issue 15 targets; and the stdout
 * table.
 */
import type { Behaviour } from '../sim/behaviours';
import type { SubmitSeen } from './delivery-outcome-feeds';
import { percentile } from './lib/stats';

export type Channel = 'sms' | 'email';

/** One simulated user: one send, then a verify as soon as the code shows on any channel. */
export interface SessionRecord {
  phone: string;
  email: string;
  /** When the send call started, host monotonic ms. */
  sentMono: number;
  /** How late the generator fired it behind its schedule, ms. */
  lateMs: number;
  /** The send's answer ("sent" or a refusal status), or undefined while in flight or after an error. */
  status?: string;
  reason?: string;
  /** The send threw: the error's type. */
  error?: string;
  /** The first code on a channel that really delivered it. */
  reached?: { channel: Channel; mono: number };
  /** Emails the mailbox accepted for this session. */
  emails: number;
  /** The verify's outcome ("verified", …), or "error:<type>"; undefined if it never ran. */
  verify?: string;
}

/** Issue 15: what a delivery outcome must reach. */
export const DELIVERY_TARGETS = {
  /** Sessions with a code on some channel within 30 s. */
  reachedWithin30s: 0.999,
  /** SMS segments (submit_sm) per verified session. */
  segmentsPerVerifiedSession: 1.1,
} as const;

/** The time windows of the reach figures, in seconds. */
export const REACH_WINDOWS_S = [5, 30, 120] as const;

export interface TimeToCode {
  /** Sessions counted; those never reached rank as +infinity. */
  n: number;
  neverReached: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
}

export interface DeliveryOutcomeFigures {
  sessions: { planned: number; counted: number; refused: Record<string, number>; errors: Record<string, number> };
  /** Sessions counted: sends not refused (a send that threw counts, unreached). */
  reachedWithin: { seconds: number; sessions: number; share: number }[];
  /** First channel that brought the code; `none`: never within the run. */
  reachedBy: Record<Channel | 'none', number>;
  /** ms from the send call to the code on a channel. */
  timeToCodeMs: TimeToCode;
  /** By what the carrier mix did with the session's first SMS (`none`: no SMS accepted). */
  byFirstSms: Record<string, { sessions: number; reachedWithin30s: number; bySms: number; byEmail: number; timeToCodeMs: TimeToCode }>;
  smsSegments: { submitted: number; accepted: number; perVerifiedSession: number | null };
  /** Messages per counted session by channel: mean and how many sessions had 0, 1, 2, 3+. */
  messagesPerSession: Record<Channel, { mean: number; histogram: Record<'0' | '1' | '2' | '3+', number> }>;
  verify: Record<string, number>;
  verifiedSessions: number;
  generatorLatenessMs: { p99: number | null; max: number | null };
  targets: { name: string; target: string; value: string; holds: boolean }[];
}

const count = (m: Record<string, number>, k: string) => (m[k] = (m[k] ?? 0) + 1);
const r1 = (v: number) => Math.round(v * 10) / 10;

function timeToCode(sessions: SessionRecord[]): TimeToCode {
  const values = sessions.map((s) => (s.reached ? s.reached.mono - s.sentMono : Infinity)).sort((a, b) => a - b);
  const at = (p: number) => {
    const v = values.length ? percentile(values, p) : NaN;
    return Number.isFinite(v) ? r1(v) : null;
  };
  return { n: values.length, neverReached: values.filter((v) => v === Infinity).length, p50: at(50), p90: at(90), p99: at(99), max: at(100) };
}

const reachedWithin = (s: SessionRecord, seconds: number) => s.reached !== undefined && s.reached.mono - s.sentMono <= seconds * 1000;

function perSession(values: number[]): { mean: number; histogram: Record<'0' | '1' | '2' | '3+', number> } {
  const histogram = { '0': 0, '1': 0, '2': 0, '3+': 0 };
  for (const v of values) histogram[v >= 3 ? '3+' : (String(v) as '0' | '1' | '2')]++;
  return { mean: values.length ? Math.round((values.reduce((a, b) => a + b, 0) / values.length) * 1000) / 1000 : 0, histogram };
}

const pct = (share: number) => `${(share * 100).toFixed(2)} %`;

export function deliveryFigures(all: SessionRecord[], submitsByPhone: ReadonlyMap<string, SubmitSeen[]>): DeliveryOutcomeFigures {
  const refused: Record<string, number> = {};
  const errors: Record<string, number> = {};
  for (const s of all) {
    if (s.error) count(errors, s.error);
    else if (s.status !== undefined && s.status !== 'sent') count(refused, s.reason ? `${s.status}:${s.reason}` : s.status);
  }
  const counted = all.filter((s) => s.status === 'sent' || s.error !== undefined);
  const submitsOf = (s: SessionRecord) => submitsByPhone.get(s.phone) ?? [];
  const acceptedOf = (s: SessionRecord) => submitsOf(s).filter((x) => x.status === 0);

  const reachedBy: Record<Channel | 'none', number> = { sms: 0, email: 0, none: 0 };
  for (const s of counted) reachedBy[s.reached?.channel ?? 'none']++;

  const groups = new Map<string, SessionRecord[]>();
  for (const s of counted) {
    const first: Behaviour | 'none' = acceptedOf(s)[0]?.behaviour ?? 'none';
    groups.set(first, [...(groups.get(first) ?? []), s]);
  }
  const byFirstSms: DeliveryOutcomeFigures['byFirstSms'] = {};
  for (const [first, list] of [...groups].sort((a, b) => b[1].length - a[1].length))
    byFirstSms[first] = {
      sessions: list.length,
      reachedWithin30s: list.filter((s) => reachedWithin(s, 30)).length,
      bySms: list.filter((s) => s.reached?.channel === 'sms').length,
      byEmail: list.filter((s) => s.reached?.channel === 'email').length,
      timeToCodeMs: timeToCode(list),
    };

  const verify: Record<string, number> = {};
  for (const s of counted) count(verify, s.verify ?? 'not run');
  const verifiedSessions = verify.verified ?? 0;
  // Every submit_sm the SMSC saw for the run's sessions, verified or not: the segments the operator pays for.
  const submitted = all.reduce((a, s) => a + submitsOf(s).length, 0);
  const accepted = all.reduce((a, s) => a + acceptedOf(s).length, 0);
  const perVerifiedSession = verifiedSessions ? Math.round((submitted / verifiedSessions) * 1000) / 1000 : null;
  const within = REACH_WINDOWS_S.map((seconds) => {
    const n = counted.filter((s) => reachedWithin(s, seconds)).length;
    return { seconds, sessions: n, share: counted.length ? n / counted.length : 0 };
  });
  const lateness = all.map((s) => s.lateMs).sort((a, b) => a - b);
  const within30 = within.find((w) => w.seconds === 30)?.share ?? 0;

  return {
    sessions: { planned: all.length, counted: counted.length, refused, errors },
    reachedWithin: within,
    reachedBy,
    timeToCodeMs: timeToCode(counted),
    byFirstSms,
    smsSegments: { submitted, accepted, perVerifiedSession },
    messagesPerSession: {
      // An SMS message is a single submit or the first segment of a long one.
      sms: perSession(counted.map((s) => acceptedOf(s).filter((x) => x.segment === undefined || x.segment === 1).length)),
      email: perSession(counted.map((s) => s.emails)),
    },
    verify,
    verifiedSessions,
    generatorLatenessMs: { p99: lateness.length ? r1(percentile(lateness, 99)) : null, max: lateness.length ? r1(lateness[lateness.length - 1]) : null },
    targets: [
      {
        name: 'sessions with a code on some channel within 30 s',
        target: `>= ${pct(DELIVERY_TARGETS.reachedWithin30s)}`,
        value: pct(within30),
        holds: counted.length > 0 && within30 >= DELIVERY_TARGETS.reachedWithin30s,
      },
      {
        name: 'SMS segments per verified session',
        target: `<= ${DELIVERY_TARGETS.segmentsPerVerifiedSession}`,
        value: perVerifiedSession === null ? '—' : perVerifiedSession.toFixed(3),
        holds: perVerifiedSession !== null && perVerifiedSession <= DELIVERY_TARGETS.segmentsPerVerifiedSession,
      },
    ],
  };
}

const secs = (v: number | null) => (v === null ? '∞' : `${(v / 1000).toFixed(2)} s`);

/** The figures as aligned label/value lines for stdout. */
export function deliveryTable(f: DeliveryOutcomeFigures): string {
  const rows: [string, string][] = [
    ['sessions (planned / counted)', `${f.sessions.planned} / ${f.sessions.counted}`],
    ...(Object.keys(f.sessions.refused).length ? [['refused', JSON.stringify(f.sessions.refused)] as [string, string]] : []),
    ...(Object.keys(f.sessions.errors).length ? [['errors', JSON.stringify(f.sessions.errors)] as [string, string]] : []),
    ...f.reachedWithin.map((w): [string, string] => [`code on some channel within ${w.seconds} s`, `${pct(w.share)} (${w.sessions})`]),
    ['first channel with the code', `sms ${f.reachedBy.sms}, email ${f.reachedBy.email}, none ${f.reachedBy.none}`],
    [
      'time to code p50 / p90 / p99 / max',
      [f.timeToCodeMs.p50, f.timeToCodeMs.p90, f.timeToCodeMs.p99, f.timeToCodeMs.max].map(secs).join(' / ') +
        (f.timeToCodeMs.neverReached ? ` (${f.timeToCodeMs.neverReached} never)` : ''),
    ],
    ...Object.entries(f.byFirstSms).map(([first, g]): [string, string] => [
      `  first SMS ${first}`,
      `${g.sessions} sessions: ${g.reachedWithin30s} within 30 s (sms ${g.bySms}, email ${g.byEmail}), p50 ${secs(g.timeToCodeMs.p50)}, max ${secs(g.timeToCodeMs.max)}`,
    ]),
    ['SMS segments submitted (accepted)', `${f.smsSegments.submitted} (${f.smsSegments.accepted})`],
    ['SMS segments per verified session', f.smsSegments.perVerifiedSession === null ? '—' : f.smsSegments.perVerifiedSession.toFixed(3)],
    ...(['sms', 'email'] as const).map((c): [string, string] => [
      `${c} messages per session (0/1/2/3+)`,
      `mean ${f.messagesPerSession[c].mean} (${Object.values(f.messagesPerSession[c].histogram).join('/')})`,
    ]),
    ['verify outcomes', JSON.stringify(f.verify)],
    ['generator lateness p99 / max', `${f.generatorLatenessMs.p99 ?? '—'} ms / ${f.generatorLatenessMs.max ?? '—'} ms`],
    ...f.targets.map((t): [string, string] => [`target: ${t.name}`, `${t.value} (${t.target}): ${t.holds ? 'holds' : 'MISSED'}`]),
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}
