/** The chaos run's judge (chaos/verdict.ts) can fail a run: lost codes, wrong end states, unexplained duplicates, no recovery. */
import { SimFeed } from '../../bench/lib/sim-feed';
import type { OtpSessionStatus } from '../../contract';
import type { FaultWindow } from '../../chaos/faults';
import type { SessionRecord } from '../../chaos/load';
import { acceptance } from '../../chaos/report';
import type { ChaosResult } from '../../chaos/types';
import { judge, judgeSession } from '../../chaos/verdict';

const T0 = 1_700_000_000_000;

function session(i: number, extra: Partial<SessionRecord> = {}): SessionRecord {
  return {
    i,
    phone: `+3361000000${i}`,
    startedAt: T0 + i * 1000,
    startedMono: i * 1000,
    endedAt: T0 + i * 1000 + 50,
    status: 'sent',
    verifyStarted: true,
    verifyDone: true,
    verifyValid: true,
    verifyOutcome: 'verified',
    ...extra,
  };
}

function feedWith(records: SessionRecord[], sms: Record<string, number>, latencyMs = 40): SimFeed {
  const feed = new SimFeed('http://unused');
  for (const r of records) {
    const n = sms[r.phone] ?? 1;
    if (n === 0) continue;
    feed.submitsByPhone.set(
      r.phone,
      Array.from({ length: n }, (_, k) => ({
        seq: 0,
        to: r.phone,
        at: r.startedAt + latencyMs + k * 20_000,
        mono: r.startedMono + latencyMs + k * 20_000,
        status: 0,
        id: `${r.i}-${k}`,
      })),
    );
    feed.inboxByPhone.set(
      r.phone,
      Array.from({ length: n }, (_, k) => ({
        seq: 0,
        to: r.phone,
        text: 'Acme: your code is 123456',
        at: r.startedAt + latencyMs + k * 20_000,
        messageIds: [`${r.i}-${k}`],
      })),
    );
  }
  return feed;
}

const pending = (delivery: 'pending' | 'submitted' | 'failed'): OtpSessionStatus => ({
  sessionId: 's',
  tenant: 't',
  maskedPhone: '+33•••••000',
  code: {
    seq: 1,
    profile: 'login@x',
    channel: 'sms',
    state: 'active',
    delivery,
    segments: 1,
    issuedAt: '',
    expiresAt: '',
    attemptsRemaining: 5,
    escalatedTo: [],
  },
  sendsInWindow: 1,
  events: [],
});

test('a code that never reached the inbox without a final typed failure is lost; a failed delivery is not', () => {
  const r = session(1);
  const feed = feedWith([r], { [r.phone]: 0 });
  expect(judgeSession(r, feed, pending('submitted')).verdict).toBe('lost');
  expect(judgeSession(r, feed, null).verdict).toBe('lost');
  expect(judgeSession(r, feed, pending('failed')).verdict).toBe('failed');
  expect(judgeSession({ ...r, status: 'overloaded', reason: 'request_too_old' }, feed, null)).toMatchObject({
    verdict: 'refused',
    detail: 'overloaded:request_too_old',
  });
});

test('the right code not verifying, a send never answered and an untyped error are wrong end states', () => {
  const r = session(2, { verifyValid: false, verifyOutcome: 'invalid_code' });
  expect(judgeSession(r, feedWith([r], {}), null).verdict).toBe('wrong');
  const silent = session(3, { endedAt: undefined, status: undefined });
  expect(judgeSession(silent, feedWith([silent], { [silent.phone]: 0 }), null)).toMatchObject({ verdict: 'wrong', detail: 'send never answered' });
  const untyped = session(4, { status: undefined, error: 'Error', errorTyped: false });
  expect(judgeSession(untyped, feedWith([untyped], { [untyped.phone]: 0 }), null).verdict).toBe('wrong');
});

test('a duplicate is explained by the fault it was in flight at, else it fails the run; recovery comes after the last bad send', () => {
  const records = Array.from({ length: 40 }, (_, i) => session(i));
  const window: FaultWindow = { kind: 'worker-kill-submit', start: T0 + 10_000, end: T0 + 12_000, note: '' };
  // Session 11 was in flight at the crash and got a second SMS; session 30 got one no fault explains.
  const slow = records.map((r) => r);
  const feed = feedWith(slow, { [records[11].phone]: 2, [records[30].phone]: 2 });
  // Sends up to 15 s after the start are slow: recovery is after the last of them.
  for (const r of records.slice(12, 16)) feed.submitsByPhone.get(r.phone)![0].mono = r.startedMono + 900;
  const result = judge({ records, feed, windows: [window], statuses: new Map(), loadStart: T0, loadEnd: T0 + 40_000, thresholdMs: 500 });
  const fault = result.faults.find((f) => f.kind === 'worker-kill-submit')!;
  expect(fault.duplicates).toBe(1);
  expect(result.totals.unexplainedDuplicates).toBe(1);
  expect(fault.recoveryS).toBe(3.3);
  const failures = acceptance({
    ...result,
    unexpectedExits: [],
    logs: { lines: 0, fullNumbers: 0, codes: 0, longLines: 0, samples: [] },
  } as unknown as ChaosResult);
  expect(failures.join('; ')).toMatch(/1 duplicate SMS no fault explains/);
});
