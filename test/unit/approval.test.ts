/** Sender approval rules (policy/approval.ts) and the revision identity (policy/store.ts profileContentHash). */
import type { SenderRevision, SenderRevisionContent } from '../../contract';
import { ApprovalError, applyDecision, applyProposal, approvalRefusal, approvalView, checkDecision, checkIdentity, checkProposal } from '../../policy/approval';
import { ProfileStore, profileContentHash } from '../../policy/store';
import { loadConfig, ConfigError } from '../../config/config';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { SenderApprovals } from '../../activities/sender-approvals';

const DEFAULTS = { senderId: 'OTPDemo', brand: 'Acme' };
const store = new ProfileStore({ shop: { extends: 'login', senderId: 'ShopOTP' } });
const login = store.get('login')!;

function content(profile: string, hash: string): SenderRevisionContent {
  return { profile, contentHash: hash, revision: `${profile}@${hash.slice(0, 12)}`, senderId: 'OTPDemo', brand: 'Acme', templates: { en: '{brand} {code}' } };
}
const H1 = '1'.repeat(64);
const H2 = '2'.repeat(64);

function typeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof ApprovalError ? err.type : `not an ApprovalError: ${String(err)}`;
  }
  return undefined;
}

describe('revision identity: sha256 of the effective content', () => {
  test('64 hex digits, stable for the same content', () => {
    const h = profileContentHash(login, DEFAULTS);
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(profileContentHash(new ProfileStore().get('login')!, DEFAULTS)).toBe(h);
  });
  test('a changed sender, template or rule is a new revision', () => {
    const h = profileContentHash(login, DEFAULTS);
    expect(profileContentHash({ ...login, senderId: 'Other' }, DEFAULTS)).not.toBe(h);
    expect(profileContentHash({ ...login, templates: { ...login.templates, en: '{brand}: {code}' } }, DEFAULTS)).not.toBe(h);
    expect(profileContentHash({ ...login, ttlSeconds: 301 }, DEFAULTS)).not.toBe(h);
  });
  test('the worker default sender is part of the content of a profile that names none', () => {
    expect(profileContentHash(login, { ...DEFAULTS, senderId: 'NewSender' })).not.toBe(profileContentHash(login, DEFAULTS));
    // A profile with its own sender does not depend on the default.
    const shop = store.get('shop')!;
    expect(profileContentHash(shop, { ...DEFAULTS, senderId: 'NewSender' })).toBe(profileContentHash(shop, DEFAULTS));
  });
  test('the name and short revision are not content', () => {
    expect(profileContentHash({ ...login, name: 'x', revision: 'y' } as typeof login, DEFAULTS)).toBe(profileContentHash(login, DEFAULTS));
  });
});

describe('proposals and decisions', () => {
  test('self-approval and self-rejection are refused, whatever the spelling of the identity', () => {
    const trail: SenderRevision[] = [];
    applyProposal(trail, content('login', H1), 'alice@example.com', '2026-01-01T00:00:00.000Z');
    expect(typeOf(() => checkDecision(trail, { profile: 'login', contentHash: H1, by: 'alice@example.com' }, 'approve'))).toBe('SelfApproval');
    expect(typeOf(() => checkDecision(trail, { profile: 'login', contentHash: H1, by: '  Alice@Example.com ' }, 'approve'))).toBe('SelfApproval');
    expect(typeOf(() => checkDecision(trail, { profile: 'login', contentHash: H1, by: 'alice@example.com' }, 'reject'))).toBe('SelfApproval');
    expect(typeOf(() => checkDecision(trail, { profile: 'login', contentHash: H1, by: 'bob@example.com' }, 'approve'))).toBeUndefined();
  });

  test('the trail records proposer, approver, times and the previous revision', () => {
    const trail: SenderRevision[] = [];
    const first = applyProposal(trail, content('login', H1), 'alice', '2026-01-01T00:00:00.000Z', 'first sender');
    expect(first).toMatchObject({ state: 'proposed', previous: null, proposedBy: 'alice', proposedAt: '2026-01-01T00:00:00.000Z', note: 'first sender' });
    const { record, by } = checkDecision(trail, { profile: 'login', contentHash: H1, by: 'bob' }, 'approve');
    applyDecision(record, 'approve', by, '2026-01-01T01:00:00.000Z');
    expect(trail[0]).toMatchObject({ state: 'approved', decidedBy: 'bob', decidedAt: '2026-01-01T01:00:00.000Z' });
    const second = applyProposal(trail, content('login', H2), 'carol', '2026-01-02T00:00:00.000Z');
    expect(second.previous).toBe(H1);
    expect(second.state).toBe('proposed');
  });

  test('a repeated proposal changes nothing; a rejected one is proposed again', () => {
    const trail: SenderRevision[] = [];
    applyProposal(trail, content('login', H1), 'alice', 't1');
    expect(applyProposal(trail, content('login', H1), 'mallory', 't2')).toMatchObject({ proposedBy: 'alice', proposedAt: 't1' });
    const { record } = checkDecision(trail, { profile: 'login', contentHash: H1, by: 'bob' }, 'reject');
    applyDecision(record, 'reject', 'bob', 't3', 'wrong brand');
    expect(trail[0]).toMatchObject({ state: 'rejected', decisionNote: 'wrong brand' });
    expect(applyProposal(trail, content('login', H1), 'alice', 't4')).toMatchObject({ state: 'proposed', proposedAt: 't4' });
    expect(trail).toHaveLength(1);
  });

  test('states: approve only a proposal; reject a proposal or revoke an approval; unknown revisions are named', () => {
    const trail: SenderRevision[] = [];
    applyProposal(trail, content('login', H1), 'alice', 't1');
    applyDecision(checkDecision(trail, { profile: 'login', contentHash: H1, by: 'bob' }, 'approve').record, 'approve', 'bob', 't2');
    expect(typeOf(() => checkDecision(trail, { profile: 'login', contentHash: H1, by: 'carol' }, 'approve'))).toBe('InvalidState');
    expect(typeOf(() => checkDecision(trail, { profile: 'login', contentHash: H1, by: 'carol' }, 'reject'))).toBeUndefined();
    expect(typeOf(() => checkDecision(trail, { profile: 'login', contentHash: H2, by: 'carol' }, 'approve'))).toBe('RevisionNotFound');
    expect(typeOf(() => checkDecision(trail, { profile: 'shop', contentHash: H1, by: 'carol' }, 'approve'))).toBe('RevisionNotFound');
  });

  test('identities, profile names and hashes are checked', () => {
    expect(typeOf(() => checkIdentity(''))).toBe('InvalidRequest');
    expect(typeOf(() => checkIdentity('a\u0000b'))).toBe('InvalidRequest');
    expect(typeOf(() => checkIdentity('x'.repeat(201)))).toBe('InvalidRequest');
    expect(typeOf(() => checkProposal({ profile: '../etc', by: 'alice' }))).toBe('InvalidRequest');
    expect(typeOf(() => checkDecision([], { profile: 'login', contentHash: 'abc', by: 'bob' }, 'approve'))).toBe('InvalidRequest');
  });
});

describe('may a send go out', () => {
  const trail: SenderRevision[] = [];
  applyProposal(trail, content('login', H1), 'alice', 't1');
  applyDecision(trail[0], 'approve', 'bob', 't2');
  applyProposal(trail, content('login', H2), 'alice', 't3');
  const view = approvalView(trail);

  test('approved sends; proposed or unknown is not approved; rejected is named', () => {
    expect(approvalRefusal(view, 0, 10_000, 'login', H1)).toBeNull();
    expect(approvalRefusal(view, 0, 10_000, 'login', H2)).toEqual({ status: 'blocked', reason: 'sender_not_approved' });
    expect(approvalRefusal(view, 0, 10_000, 'shop', H1)).toEqual({ status: 'blocked', reason: 'sender_not_approved' });
    const rejected = approvalView([{ ...trail[1], state: 'rejected' }]);
    expect(approvalRefusal(rejected, 0, 10_000, 'login', H2)).toEqual({ status: 'blocked', reason: 'sender_rejected' });
  });

  test('fails closed: no copy, or one older than the bound, refuses even an approved revision', () => {
    expect(approvalRefusal(undefined, undefined, 10_000, 'login', H1)).toMatchObject({ status: 'overloaded', reason: 'sender_approvals_unavailable' });
    expect(approvalRefusal(view, 10_001, 10_000, 'login', H1)).toMatchObject({ status: 'overloaded', reason: 'sender_approvals_unavailable' });
    expect(approvalRefusal(view, 10_000, 10_000, 'login', H1)).toBeNull();
  });
});

describe('OTP_SENDER_APPROVAL', () => {
  test('required unless switched off; anything else is refused', () => {
    expect(loadConfig({}).senderApproval.mode).toBe('required');
    expect(loadConfig({ OTP_SENDER_APPROVAL: 'off' }).senderApproval.mode).toBe('off');
    expect(() => loadConfig({ OTP_SENDER_APPROVAL: 'maybe' })).toThrow(ConfigError);
  });
});

describe("the worker's copy (activities/sender-approvals.ts)", () => {
  /** A Temporal client whose approval query answers `reply` (a trail, or an error to throw). */
  let queries = 0;
  function fakeClient(reply: { current: SenderRevision[] | Error }): Client {
    const answer = async <T>(ok: (trail: SenderRevision[]) => T): Promise<T> =>
      reply.current instanceof Error ? Promise.reject(reply.current) : ok(reply.current);
    const handle = {
      describe: () => answer((trail) => ({ runId: 'r1', historyLength: 10 + trail.length })),
      query: () => answer((trail) => (queries++, trail)),
    };
    return { workflow: { getHandle: () => handle }, withDeadline: <T>(_d: number, fn: () => Promise<T>) => fn() } as unknown as Client;
  }
  const approved: SenderRevision[] = [
    { ...content('login', H1), state: 'approved', previous: null, proposedBy: 'alice', proposedAt: 't1', decidedBy: 'bob', decidedAt: 't2' },
  ];

  test('answers from memory once loaded; an unreachable workflow past the bound refuses (fail closed); a refresh restores it', async () => {
    let now = 1_000_000;
    const reply: { current: SenderRevision[] | Error } = { current: approved };
    const copy = new SenderApprovals({ client: fakeClient(reply), maxStaleMs: 10_000, clock: () => now });
    expect(await copy.check('t', 'login', H1)).toBeNull();
    expect(await copy.check('t', 'login', H2)).toEqual({ status: 'blocked', reason: 'sender_not_approved' });
    // An unchanged history is not queried again.
    const before = queries;
    await copy.sync();
    expect(queries).toBe(before);
    reply.current = new Error('14 UNAVAILABLE');
    now += 5_000;
    await copy.sync();
    expect(await copy.check('t', 'login', H1)).toBeNull(); // within the bound: the last good copy
    now += 6_000;
    await copy.sync();
    expect(await copy.check('t', 'login', H1)).toMatchObject({ status: 'overloaded', reason: 'sender_approvals_unavailable' });
    expect(copy.stats()).toMatchObject({ failedReads: 2, unavailable: 1 });
    reply.current = approved;
    await copy.sync();
    expect(await copy.check('t', 'login', H1)).toBeNull();
  });

  test('never loaded: refused as unavailable; no approval workflow: nothing approved', async () => {
    const down = new SenderApprovals({ client: fakeClient({ current: new Error('14 UNAVAILABLE') }) });
    expect(await down.check('t', 'login', H1)).toMatchObject({ status: 'overloaded', reason: 'sender_approvals_unavailable' });
    const none = new SenderApprovals({ client: fakeClient({ current: new WorkflowNotFoundError('not found', 'otp-approval:t', undefined) }) });
    expect(await none.check('t', 'login', H1)).toEqual({ status: 'blocked', reason: 'sender_not_approved' });
  });
});

test('a preloaded tenant answers its first send from memory', async () => {
  let queried = 0;
  const handle = { describe: async () => ({ runId: 'r', historyLength: 3 }), query: async () => (queried++, [] as SenderRevision[]) };
  const client = { workflow: { getHandle: () => handle }, withDeadline: <T>(_d: number, fn: () => Promise<T>) => fn() } as unknown as Client;
  const copy = new SenderApprovals({ client });
  copy.preload('t');
  await copy.sync();
  const before = queried;
  expect(await copy.check('t', 'login', H1)).toEqual({ status: 'blocked', reason: 'sender_not_approved' });
  expect(queried).toBe(before);
});
