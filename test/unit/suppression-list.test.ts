/**
 * The worker's copy of the STOP list (activities/suppression-list.ts) against a scripted
 * visibility: what it answers, when it refuses to answer (fail closed), and how reads and this
 * worker's own STOPs and STARTs combine. test/suppression-list.test.ts reads a real server.
 */
import type { Client } from '@temporalio/client';
import { SuppressionList } from '../../activities/suppression-list';

interface Row {
  workflowId: string;
  running: boolean;
  /** @default "r1" */
  runId?: string;
}

/** A client whose visibility answers from `rows` (full reads: the running ones), or throws while `down`. */
function visibility() {
  const state = { rows: [] as Row[], down: false, queries: [] as string[] };
  const client = {
    workflow: {
      list({ query }: { query: string }) {
        state.queries.push(query);
        const full = query.includes("ExecutionStatus = 'Running'");
        const rows = state.rows.filter((r) => !full || r.running);
        return (async function* () {
          if (state.down) throw new Error('visibility unavailable');
          for (const r of rows) yield { workflowId: r.workflowId, runId: r.runId ?? 'r1', status: { name: r.running ? 'RUNNING' : 'COMPLETED' } };
        })();
      },
    },
  } as unknown as Client;
  return { state, client };
}

const T0 = Date.parse('2026-11-27T12:00:00Z');

beforeEach(() => {
  jest.useFakeTimers({ now: T0, doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
});
afterEach(() => jest.useRealTimers());

test('answers nothing before its first read, then from the running entries', async () => {
  const { state, client } = visibility();
  state.rows = [
    { workflowId: 'otp-optout:a', running: true },
    { workflowId: 'otp-optout:b', running: false },
  ];
  const list = new SuppressionList({ client });
  expect(list.lookup(['otp-optout:a'])).toBeUndefined();
  await list.sync();
  expect(state.queries[0]).toBe("WorkflowType = 'otpOptOut' AND ExecutionStatus = 'Running'");
  expect(list.lookup(['otp-optout:a'])).toBe(true);
  expect(list.lookup(['otp-optout:b'])).toBe(false);
  // One number under two id keys (OTP_HASH_KEY_PREVIOUS): either one is on the list.
  expect(list.lookup(['otp-optout:new-key', 'otp-optout:a'])).toBe(true);
  expect(list.stats()).toMatchObject({ size: 1, ageMs: 0, failedReads: 0, unanswered: 1 });
});

test('between full reads it reads what started or closed lately: a START removes, a STOP adds, running wins', async () => {
  const { state, client } = visibility();
  state.rows = [{ workflowId: 'otp-optout:a', running: true }];
  const list = new SuppressionList({ client, overlapMs: 60_000 });
  await list.sync();
  jest.setSystemTime(T0 + 1000);
  state.rows = [
    { workflowId: 'otp-optout:a', running: false },
    // Started again after a START: one closed run and one running under the same id.
    { workflowId: 'otp-optout:c', running: false },
    { workflowId: 'otp-optout:c', running: true },
  ];
  await list.sync();
  expect(state.queries[1]).toBe("WorkflowType = 'otpOptOut' AND (StartTime >= '2026-11-27T11:59:01.000Z' OR CloseTime >= '2026-11-27T11:59:01.000Z')");
  expect(list.lookup(['otp-optout:a'])).toBe(false);
  expect(list.lookup(['otp-optout:c'])).toBe(true);
});

test('fails closed: once its last good read is older than maxStaleMs it answers nothing, and a good read restores it', async () => {
  const { state, client } = visibility();
  const list = new SuppressionList({ client, maxStaleMs: 5000 });
  await list.sync();
  expect(list.lookup(['otp-optout:x'])).toBe(false);
  state.down = true;
  jest.setSystemTime(T0 + 4000);
  await list.sync();
  expect(list.lookup(['otp-optout:x'])).toBe(false);
  jest.setSystemTime(T0 + 5001);
  await list.sync();
  expect(list.lookup(['otp-optout:x'])).toBeUndefined();
  expect(list.stats()).toMatchObject({ failedReads: 2, ageMs: 5001 });
  state.down = false;
  await list.sync();
  expect(list.lookup(['otp-optout:x'])).toBe(false);
});

test('a STOP applied here holds before any read shows it, and through a full read that does not yet', async () => {
  const { state, client } = visibility();
  const list = new SuppressionList({ client, fullSyncMs: 1000, overlapMs: 60_000 });
  await list.sync();
  list.applied('otp-optout:s', true);
  expect(list.lookup(['otp-optout:s'])).toBe(true);
  jest.setSystemTime(T0 + 1000);
  await list.sync(); // full, visibility behind
  expect(list.lookup(['otp-optout:s'])).toBe(true);
  // Shown by a read: from then on the reads decide (a START elsewhere ends it here too).
  state.rows = [{ workflowId: 'otp-optout:s', running: true }];
  jest.setSystemTime(T0 + 1500);
  await list.sync();
  state.rows = [{ workflowId: 'otp-optout:s', running: false }];
  jest.setSystemTime(T0 + 1800);
  await list.sync();
  expect(list.lookup(['otp-optout:s'])).toBe(false);
});

test('a STOP applied here that no read ever shows is dropped after overlapMs', async () => {
  const { client } = visibility();
  const list = new SuppressionList({ client, fullSyncMs: 1000, overlapMs: 10_000 });
  await list.sync();
  list.applied('otp-optout:lost', true);
  jest.setSystemTime(T0 + 10_001);
  await list.sync();
  expect(list.lookup(['otp-optout:lost'])).toBe(false);
});

test('a START applied here answers nothing (a describe decides) until a read shows its run closed; a newer run is a new STOP', async () => {
  const { state, client } = visibility();
  state.rows = [{ workflowId: 'otp-optout:s', running: true, runId: 'r1' }];
  const list = new SuppressionList({ client });
  await list.sync();
  list.applied('otp-optout:s', false, 'r1');
  // A STOP elsewhere may have reached r1 first and kept it running: not "false" from memory.
  expect(list.lookup(['otp-optout:s'])).toBeUndefined();
  expect(list.lookup(['otp-optout:other'])).toBe(false);
  jest.setSystemTime(T0 + 1000);
  await list.sync(); // visibility behind: r1 still running
  expect(list.lookup(['otp-optout:s'])).toBeUndefined();
  state.rows = [{ workflowId: 'otp-optout:s', running: false, runId: 'r1' }];
  jest.setSystemTime(T0 + 1500);
  await list.sync();
  expect(list.lookup(['otp-optout:s'])).toBe(false);
  // STOP again elsewhere: a new run.
  state.rows = [
    { workflowId: 'otp-optout:s', running: false, runId: 'r1' },
    { workflowId: 'otp-optout:s', running: true, runId: 'r2' },
  ];
  jest.setSystemTime(T0 + 2000);
  await list.sync();
  expect(list.lookup(['otp-optout:s'])).toBe(true);
});

test('a START applied here without the run it ended: a read that still shows the entry running keeps it (fail closed)', async () => {
  const { state, client } = visibility();
  state.rows = [{ workflowId: 'otp-optout:s', running: true }];
  const list = new SuppressionList({ client });
  await list.sync();
  list.applied('otp-optout:s', false);
  expect(list.lookup(['otp-optout:s'])).toBe(false);
  jest.setSystemTime(T0 + 1000);
  await list.sync();
  expect(list.lookup(['otp-optout:s'])).toBe(true);
  state.rows = [{ workflowId: 'otp-optout:s', running: false }];
  jest.setSystemTime(T0 + 2000);
  await list.sync();
  expect(list.lookup(['otp-optout:s'])).toBe(false);
});

test('concurrent syncs share one read', async () => {
  const { state, client } = visibility();
  const list = new SuppressionList({ client });
  await Promise.all([list.sync(), list.sync(), list.sync()]);
  expect(state.queries).toHaveLength(1);
});
