/**
 * Flow control under hostile timing, over real TCP against the simulator's
 * hostile mode (sim/hostile-timing.ts), without Temporal: late and missing
 * submit_sm_resp (no duplicate SMS), refused and dropped binds (no login
 * storm), throttling pauses, and long messages that fail part-way.
 */
import { SMPP_STATUS } from '../smpp/errors';
import { SmscRouter } from '../smpp/smsc';
import { quiet, SEND, smppKit, until } from './helpers/smpp';

const LONG = `Acme ${'long text '.repeat(25)}`; // two segments
const { cleanup, sim, route } = smppKit();

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a slow or missing submit_sm_resp never duplicates the SMS', () => {
  test('a response later than responseTimeoutMs is waited for, not re-sent: one SMS, under its real id', async () => {
    const s = await sim();
    s.timing.setDestination('+33611120001', { responseDelayMs: 1200 });
    const r = route(s, { responseTimeoutMs: 300, submitDeadlineMs: 5000 });
    await r.ready();
    const sent = await r.submitText('+33611120001', 'Acme: code 123456', SEND);
    expect(s.submits.filter((x) => x.to === '+33611120001')).toHaveLength(1);
    expect(s.messages('+33611120001')).toHaveLength(1);
    expect(sent.messageIds).toEqual([s.submits.find((x) => x.to === '+33611120001')!.id]);
    expect(r.stats.snapshot()).toMatchObject({ inDoubtTotal: 1, lateAnswers: 1, possibleDuplicates: 0 });
  });

  test('an unanswered submit keeps its window slot, gets a stand-in id, and its late answer is still matched', async () => {
    const s = await sim();
    s.timing.setDestination('+33611120002', { responseDelayMs: null });
    const r = route(s, { responseTimeoutMs: 200, submitDeadlineMs: 600, window: 1 });
    await r.ready();
    const sent = await r.submitText('+33611120002', 'Acme: code 123456', SEND);
    expect(sent.messageIds[0]).toMatch(/^indoubt-/);
    expect(s.submits.filter((x) => x.to === '+33611120002')).toHaveLength(1);
    // The SMSC still counts it: so do we.
    expect(r.binds[0].describe()).toMatchObject({ outstanding: 1, inDoubt: 1 });
    expect(sent.late).toHaveLength(1);
    expect(s.timing.releaseResponses()).toBe(1);
    const answer = await sent.late[0].answer;
    expect(answer).toEqual({ kind: 'accepted', messageId: s.submits.find((x) => x.to === '+33611120002')!.id });
    expect(sent.late[0].messageId).toBe(sent.messageIds[0]);
    await until(() => r.binds[0].describe().outstanding === 0 || undefined, 'slot back');
    expect(r.stats.snapshot()).toMatchObject({ inDoubt: 0, lateAnswers: 1, unconfirmedParts: 1, possibleDuplicates: 0 });
  });

  test('a bind torn down with a submit in doubt: the submit is lost, its slot freed once, and only then may it go again', async () => {
    const s = await sim();
    s.timing.setDestination('+33611120006', { responseDelayMs: null });
    const r = route(s, { responseTimeoutMs: 150, submitDeadlineMs: 400 });
    await r.ready();
    const sent = await r.submitText('+33611120006', 'x', SEND);
    s.dropAllConnections();
    expect(await sent.late[0].answer).toEqual({ kind: 'lost' });
    expect(r.binds[0].describe().outstanding).toBe(0);
    expect(r.stats.snapshot()).toMatchObject({ inDoubt: 0, lost: 1 });
  });

  test('an in-doubt submit is not sent again on another route', async () => {
    const a = await sim();
    const b = await sim();
    a.timing.setDestination('+33611120003', { responseDelayMs: null });
    const router = new SmscRouter(
      [
        { name: 'a', host: '127.0.0.1', port: a.smppPort, systemId: 'otp', password: 'secret', responseTimeoutMs: 200, submitDeadlineMs: 500 },
        { name: 'b', host: '127.0.0.1', port: b.smppPort, systemId: 'otp', password: 'secret' },
      ],
      quiet,
    );
    router.start();
    cleanup.push(() => router.close());
    await router.ready();
    const sent = await router.submitText('+33611120003', 'Acme: code 123456', SEND);
    expect(sent.route).toBe('a');
    expect(a.submits.filter((x) => x.to === '+33611120003')).toHaveLength(1);
    expect(b.submits).toHaveLength(0);
    expect(router.stats.possibleDuplicates).toBe(0);
    a.timing.releaseResponses(); // lets close() drain the slot the in-doubt submit holds
  });

  test('resubmitInDoubt trades duplicates for latency: every copy sent again is counted', async () => {
    const s = await sim();
    s.timing.setDestination('+33611120004', { responseDelayMs: null });
    const r = route(s, { responseTimeoutMs: 150, submitDeadlineMs: 700, resubmitInDoubt: true });
    await r.ready();
    await expect(r.submitText('+33611120004', 'x', SEND)).rejects.toMatchObject({ name: 'SmppUnconfirmedError' });
    const copies = s.submits.filter((x) => x.to === '+33611120004').length;
    expect(copies).toBeGreaterThan(1);
    expect(r.stats.possibleDuplicates).toBe(copies - 1);
    s.timing.releaseResponses();
  });

  test('the whole submit, failover included, ends by the caller deadline', async () => {
    const a = await sim({ behaviours: { '+33611120005': 'throttle' } });
    const b = await sim();
    const router = new SmscRouter(
      [
        {
          name: 'a',
          host: '127.0.0.1',
          port: a.smppPort,
          systemId: 'otp',
          password: 'secret',
          submitDeadlineMs: 5000,
          throttleInitialMs: 20,
          throttleMaxMs: 20,
        },
        { name: 'b', host: '127.0.0.1', port: b.smppPort, systemId: 'otp', password: 'secret' },
      ],
      quiet,
    );
    router.start();
    cleanup.push(() => router.close());
    await router.ready();
    // "a" throttles; its own 5 s deadline would leave "b" sending after the caller (an activity) gave up and was retried.
    const deadline = Date.now() + 300;
    await router.submitText('+33611120005', 'x', { ...SEND, deadline }).catch(() => undefined);
    expect(a.submits.length).toBeGreaterThan(0);
    // Causal, not a latency budget: what was sent left before the deadline (slack for the loopback hop only).
    expect([...a.submits, ...b.submits].filter((x) => x.at > deadline + 200)).toEqual([]);
  });
});

describe('bind refusals', () => {
  test('refused credentials back off for minutes by default, and the reason is in the status and the error', async () => {
    const s = await sim();
    const r = route(s, { password: 'wrong' });
    await expect(r.ready(500)).rejects.toThrow('bind refused by the SMSC: invalid password (0x0E)');
    await until(() => r.refusals.count === 1 || undefined, 'first refusal');
    expect(r.describe().bindRefusals).toMatchObject({ refusals: 1, stopped: false, reason: 'bind refused by the SMSC: invalid password (0x0E)' });
    expect(r.describe().bindRefusals.nextBindInMs).toBeGreaterThan(60_000);
    expect(r.binds[0].describe().lastError).toBe('bind refused by the SMSC: invalid password (0x0E)');
    await expect(r.ready(200)).rejects.toThrow(/^no bind to route "r": bind refused by the SMSC: invalid password \(0x0E\); next bind in \d+ s$/);
    expect(s.timing.bindAttempts.get('otp')).toBe(1);
  });

  test('after maxBindRefusals the route stops binding (all its binds together) until reset', async () => {
    const s = await sim();
    s.timing.setAccount('otp', { refuseBind: SMPP_STATUS.ESME_RINVPASWD });
    const r = route(s, { binds: 2, bindRefusedBackoffMs: 30, maxBindRefusals: 3, reconnectMaxMs: 50 });
    await until(() => r.refusals.stopped || undefined, 'stopped');
    await pause(300);
    expect(s.timing.bindAttempts.get('otp')).toBe(3);
    await expect(r.ready(100)).rejects.toThrow(/invalid password \(0x0E\); stopped after 3 refusals/);
    // The operator fixes the account and resets: the binds come back.
    s.timing.setAccount('otp', null);
    r.refusals.reset();
    await r.allReady(3000);
    expect(r.describe().bindRefusals).toMatchObject({ refusals: 0, stopped: false, reason: null });
  });

  test('a bind accepted then dropped at once does not reset the reconnect backoff', async () => {
    const s = await sim();
    s.timing.setAccount('otp', { dropAfterBindMs: 0 });
    const r = route(s, { reconnectInitialMs: 10, reconnectMaxMs: 80 });
    await until(() => (s.timing.dropsAfterBind.get('otp') ?? 0) >= 5 || undefined, 'five drops');
    expect(r.binds[0].describe().reconnectBackoffMs).toBe(80);
  });
});

describe('throttling', () => {
  test('a throttle pauses the route: a submit queued for the window waits for the pause too', async () => {
    const s = await sim({ behaviours: { '+33611120010': 'throttle' } });
    const r = route(s, { window: 1, throttleInitialMs: 3000, submitDeadlineMs: 10_000 });
    await r.ready();
    const sending = Promise.allSettled([
      r.submitText('+33611120010', 'a', SEND),
      r.submitText('+33611120011', 'b', SEND), // waits for the window slot the first one holds
    ]);
    try {
      await until(() => s.submits.find((x) => x.to === '+33611120010' && x.status === SMPP_STATUS.ESME_RTHROTTLED), 'throttled');
      await pause(300);
      expect(s.submits.filter((x) => x.to === '+33611120011')).toHaveLength(0);
      expect(r.describe().pausedMs).toBeGreaterThan(0);
    } finally {
      await r.close();
      await sending;
    }
  });
});

describe('long messages', () => {
  test('references roll per destination: consecutive long messages to one handset never share one', async () => {
    const s = await sim();
    const r = route(s);
    await r.ready();
    for (let i = 0; i < 3; i++) await r.submitText('+33611120020', LONG, SEND);
    const refs = [...new Set(s.submits.filter((x) => x.to === '+33611120020').map((x) => x.concat!.ref))];
    expect(refs).toHaveLength(3);
    expect([(refs[1] - refs[0] + 256) % 256, (refs[2] - refs[1] + 256) % 256]).toEqual([1, 1]);
  });

  test('concatRefBits 16 sends UDH 08 04, and the handset reassembles it', async () => {
    const s = await sim();
    const r = route(s, { concatRefBits: 16 });
    await r.ready();
    await r.submitText('+33611120021', LONG, SEND);
    expect(s.submits.filter((x) => x.to === '+33611120021').map((x) => x.concat!.bits)).toEqual([16, 16]);
    expect(s.messages('+33611120021')[0].text).toBe(LONG);
  });

  test('a retry after a part-way failure sends only the missing part, under the same reference: the handset reassembles once', async () => {
    const s = await sim();
    s.timing.setDestination('+33611120022', { refuseSegments: { seqs: [2], status: SMPP_STATUS.ESME_RSYSERR } });
    const r = route(s, { submitDeadlineMs: 400 });
    await r.ready();
    const key = 'session-1:1';
    await expect(r.submitText('+33611120022', LONG, { ...SEND, messageKey: key })).rejects.toThrow();
    s.timing.setDestination('+33611120022', null);
    const sent = await r.submitText('+33611120022', LONG, { ...SEND, messageKey: key });
    const accepted = s.submits.filter((x) => x.to === '+33611120022' && x.status === 0);
    expect(accepted.map((x) => x.concat!.seq)).toEqual([1, 2]); // part 1 went once
    expect(new Set(s.submits.filter((x) => x.to === '+33611120022').map((x) => x.concat!.ref)).size).toBe(1);
    expect(sent.messageIds).toEqual(accepted.map((x) => x.id));
    expect(s.messages('+33611120022')).toHaveLength(1);
    expect(s.incompleteConcats('+33611120022')).toBe(0);
    expect(r.stats.possibleDuplicates).toBe(0);
  });
});

describe('hostile simulator', () => {
  test('window enforcement: ESME_RTHROTTLED, then generic_nack or unbind', async () => {
    for (const escalation of ['generic_nack', 'unbind'] as const) {
      const s = await sim();
      s.timing.setAccount('otp', { window: 1, escalateAfter: 1, escalation });
      s.timing.setDestination('+33611120030', { responseDelayMs: 300 });
      const r = route(s, { window: 5, submitDeadlineMs: 100 });
      await r.ready();
      await Promise.allSettled([0, 1, 2].map(() => r.submitText('+33611120030', 'w', SEND)));
      expect(s.submits.slice(0, 3).map((x) => x.status)).toEqual([0, SMPP_STATUS.ESME_RTHROTTLED, escalation === 'unbind' ? -3 : -2]);
    }
  });

  test('TPS enforcement per account answers the excess with ESME_RTHROTTLED', async () => {
    const s = await sim();
    s.timing.setAccount('otp', { tps: 2 });
    const r = route(s, { window: 10, tps: 0, submitDeadlineMs: 100 });
    await r.ready();
    await Promise.allSettled([0, 1, 2, 3].map((i) => r.submitText(`+3361112004${i}`, 't', SEND)));
    const first = s.submits.slice(0, 4).map((x) => x.status);
    expect(first.filter((x) => x === 0)).toHaveLength(2);
    expect(first.filter((x) => x === SMPP_STATUS.ESME_RTHROTTLED)).toHaveLength(2);
  });
});
