/**
 * The bench's least-durable login (bench/baseline/): its worker pairs receipts to login workflows
 * in memory, and the run reports the product against it and it against the least-durable send.
 */
import type { LoginReceipt } from '../../bench/baseline/contract';
import { LoginReceiptPairing, messageKey } from '../../bench/baseline/receipt-pairing';
import { ratios } from '../../bench/lib/ratios';
import type { SearchResult, TargetName, TrialResult } from '../../bench/lib/types';

const delivered = (messageId: string): LoginReceipt => ({ messageId, stat: 'DELIVRD', final: true });

function recorder() {
  const signals: { workflowId: string; receipt: LoginReceipt }[] = [];
  const pairing = new LoginReceiptPairing(async (workflowId, receipt) => void signals.push({ workflowId, receipt }), { holdMs: 60_000 });
  return { signals, pairing };
}

describe('LoginReceiptPairing', () => {
  test('a receipt goes to the workflow that registered its id, under the id the submit returned', async () => {
    const { signals, pairing } = recorder();
    pairing.register(messageKey('r1', 'abc'), 'wf-1', 'ABC');
    await pairing.route(messageKey('r1', 'abc'), delivered('abc'));
    expect(signals).toEqual([{ workflowId: 'wf-1', receipt: { messageId: 'ABC', stat: 'DELIVRD', final: true } }]);
    // A final receipt ends the link: a resent one pairs with nothing.
    await pairing.route(messageKey('r1', 'abc'), delivered('abc'));
    expect(signals).toHaveLength(1);
    expect(pairing.size.links).toBe(0);
  });

  test('an intermediate receipt keeps the link for the final one', async () => {
    const { signals, pairing } = recorder();
    pairing.register(messageKey('r1', '7'), 'wf-7', '7');
    await pairing.route(messageKey('r1', '7'), { messageId: '7', stat: 'ENROUTE', final: false });
    await pairing.route(messageKey('r1', '7'), delivered('7'));
    expect(signals.map((s) => s.receipt.stat)).toEqual(['ENROUTE', 'DELIVRD']);
  });

  test('a receipt that beats its submit is signalled when the submit registers', async () => {
    const { signals, pairing } = recorder();
    await pairing.route(messageKey('r1', 'early'), delivered('early'));
    expect(signals).toHaveLength(0);
    pairing.register(messageKey('r1', 'early'), 'wf-e', 'early');
    await new Promise((r) => setImmediate(r));
    expect(signals).toEqual([{ workflowId: 'wf-e', receipt: delivered('early') }]);
    expect(pairing.size).toEqual({ links: 0, held: 0 });
  });

  test('same id on another route is another message', async () => {
    const { signals, pairing } = recorder();
    pairing.register(messageKey('r1', '1'), 'wf-a', '1');
    await pairing.route(messageKey('r2', '1'), delivered('1'));
    expect(signals).toHaveLength(0);
  });

  test('a login that already ended is not an error; any other failure is, so the SMSC sends it again', async () => {
    let failure = new Error('workflow execution already completed');
    const pairing = new LoginReceiptPairing(async () => {
      throw failure;
    });
    pairing.register(messageKey('r1', 'x'), 'wf-x', 'x');
    await expect(pairing.route(messageKey('r1', 'x'), delivered('x'))).resolves.toBeUndefined();
    expect(pairing.stats.gone).toBe(1);
    failure = new Error('deadline exceeded');
    pairing.register(messageKey('r1', 'y'), 'wf-y', 'y');
    await expect(pairing.route(messageKey('r1', 'y'), delivered('y'))).rejects.toThrow('deadline exceeded');
    // Still linked: the SMSC's next try is signalled.
    expect(pairing.size.links).toBe(1);
  });

  test('receipts nobody claims (least-durable sends) are forgotten after the hold', async () => {
    const pairing = new LoginReceiptPairing(async () => undefined, { holdMs: 0 });
    await pairing.route(messageKey('r1', 'a'), delivered('a'));
    await new Promise((r) => setTimeout(r, 5));
    await pairing.route(messageKey('r1', 'b'), delivered('b'));
    expect(pairing.size.held).toBe(1);
    expect(pairing.stats.unpaired).toBe(1);
  });
});

function trial(target: TargetName, f: { p50: number; p99: number; verifyP99?: number; cpu: number; events: number }): TrialResult {
  const summary = (p50: number, p99: number) => ({ n: 100, missing: 0, p50, p95: p99, p99, max: p99, mean: p50 });
  const proc = target === 'product' ? 'worker' : 'baseline-worker';
  return {
    label: target,
    target,
    numbers: 'distinct',
    phases: [{ rate: 10, seconds: 10 }],
    offeredRate: 10,
    planned: 100,
    fired: 100,
    firedRate: 10,
    achievedRate: 10,
    deliveredRate: 10,
    lateness: summary(0, 1),
    sendToSubmit: summary(f.p50, f.p99),
    sendCall: summary(f.p50, f.p99),
    verify: f.verifyP99 !== undefined ? summary(10, f.verifyP99) : undefined,
    statuses: {},
    refusals: {},
    errors: {},
    errorSamples: {},
    duplicates: 0,
    sentWithoutSms: 0,
    sessionsLost: 0,
    unansweredWithin2s: 0,
    neverAnswered: 0,
    resources: {
      [proc]: { cpuMeanPct: f.cpu, cpuPeakPct: f.cpu, rssMeanMB: 1, rssPeakMB: 1, samples: 10 },
      server: { cpuMeanPct: f.cpu, cpuPeakPct: f.cpu, rssMeanMB: 1, rssPeakMB: 1, samples: 10 },
    },
    history: { workflows: {}, totalEvents: f.events * 100, sessions: 100, eventsPerSession: f.events, sends: 100, eventsPerSend: f.events, source: 'test' },
    startedAt: '2026-01-01T00:00:00Z',
    durationS: 10,
  };
}

const searched = (target: TargetName, rate: number): SearchResult => ({ target, rate, failedAt: rate * 1.1, thresholdMs: 500, trials: [] });

test('ratios: the product against both floors, and the login floor against the send floor', () => {
  const trials = [
    trial('product', { p50: 30, p99: 60, verifyP99: 80, cpu: 40, events: 21 }),
    trial('least-durable', { p50: 25, p99: 50, cpu: 20, events: 8 }),
    trial('least-durable-login', { p50: 25, p99: 40, verifyP99: 40, cpu: 30, events: 16 }),
  ];
  const r = ratios(trials, {
    product: searched('product', 15),
    leastDurable: searched('least-durable', 30),
    leastDurableLogin: searched('least-durable-login', 20),
  });
  expect(r['send→submit p99 vs least-durable']).toBe(1.2);
  expect(r['send→submit p99 vs least-durable-login']).toBe(1.5);
  expect(r['verify p99 vs least-durable-login']).toBe(2);
  expect(r['verify p99 vs least-durable']).toBeUndefined();
  expect(r['worker CPU mean vs least-durable-login']).toBe(1.33);
  expect(r['history events per accepted send vs least-durable-login']).toBe(1.31);
  expect(r['least-durable-login history events per accepted send vs least-durable']).toBe(2);
  expect(r['max rate vs least-durable']).toBe(0.5);
  expect(r['max rate vs least-durable-login']).toBe(0.75);
  expect(r['least-durable-login max rate vs least-durable']).toBe(0.67);
});
