import { issuedCode } from '../helpers/issued-code';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TypedSearchAttributes } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import {
  OTP_SEARCH_ATTRIBUTES,
  OTP_SEARCH_ATTRIBUTE_KEYS,
  callingCodeOfMasked,
  searchAttributeCreateCommands,
  sessionStartSearchAttributes,
} from '../../contract';
import { maskPhone } from '../../contract/keys';
import { SearchAttributesMissingError, checkSearchAttributes, devServerSearchAttributeArgs } from '../../lib/search-attributes';
import { PENDING_INDEX_GRACE_MS, changedSearchAttributes, pendingStaysIndexed, searchValues } from '../../workflows/session/search';
import { newSession, type IssuedCode, type SessionState } from '../../workflows/session/state';

const NOW = Date.parse('2026-01-01T12:00:00Z');

function code(over: Partial<IssuedCode> = {}): IssuedCode {
  return issuedCode(NOW - 1000, { profile: 'login@abc123', purpose: 'login', expiresAtMs: NOW + 300_000, ...over });
}
const session = (over: Partial<SessionState> = {}): SessionState => ({ ...newSession(), codeSeq: 1, current: code(), ...over });
const MASKED = maskPhone('+33612345678');

test('the country calling code comes from the masked number only, never more digits', () => {
  expect(MASKED).toBe('+33••••••678');
  expect(callingCodeOfMasked(MASKED)).toBe('33');
  expect(callingCodeOfMasked(maskPhone('+12025550143'))).toBe('1');
  expect(callingCodeOfMasked(maskPhone('+447911123456'))).toBe('44');
  // A caller's "masked" number that is in fact the whole number gives nothing.
  expect(callingCodeOfMasked('+33612345678')).toBeUndefined();
  expect(callingCodeOfMasked(undefined)).toBeUndefined();
});

test('status follows the code: pending, delivered, verified, failed, expired, locked, cancelled, refused', () => {
  const status = (s: SessionState, now = NOW) => searchValues(s, 't1', MASKED, now)?.status;
  expect(searchValues(session(), 't1', MASKED, NOW)).toEqual({
    tenant: 't1',
    countryCode: '33',
    profile: 'login',
    purpose: 'login',
    status: 'pending',
    channel: 'sms',
    delivery: 'submitted',
    codeExpiresAt: new Date(NOW + 300_000),
  });
  expect(status(session({ current: code({ delivery: 'delivered' }) }))).toBe('delivered');
  expect(status(session({ current: code({ state: 'verified', delivery: 'delivered' }) }))).toBe('verified');
  expect(status(session({ current: code({ state: 'cancelled' }) }))).toBe('cancelled');
  expect(status(session({ current: code({ state: 'locked' }) }))).toBe('locked');
  expect(status(session(), NOW + 300_000)).toBe('expired');
  // REJECTD is final; UNDELIV with retries left is still pending.
  const failedAttempt = (stat: string) => [{ atMs: NOW - 1000, route: 'smsc', parts: { m1: 'failed' as const }, stat }];
  expect(status(session({ current: code({ delivery: 'failed', attempts: failedAttempt('REJECTD') }) }))).toBe('failed');
  expect(status(session({ current: code({ delivery: 'failed', attempts: failedAttempt('UNDELIV') }) }))).toBe('pending');
  expect(status(session({ current: code({ delivery: 'failed', attempts: failedAttempt('UNDELIV'), retriesDone: 2 }) }))).toBe('failed');
  // Escalated to email: the code went out another way, and the channel says which.
  expect(
    searchValues(session({ current: code({ delivery: 'failed', attempts: failedAttempt('REJECTD'), escalatedTo: ['email'] }) }), 't1', MASKED, NOW),
  ).toMatchObject({ status: 'pending', channel: 'email' });
  // A newer send whose dispatch failed: its code number has no code.
  expect(status(session({ codeSeq: 2 }))).toBe('failed');
  expect(status({ ...newSession(), codeSeq: 1 })).toBe('failed');
  expect(searchValues({ ...newSession(), events: [{ at: '', type: 'refused', detail: 'blocked: opted_out' }] }, 't1', MASKED, NOW)).toEqual({
    tenant: 't1',
    countryCode: '33',
    status: 'refused',
  });
  // Nothing to find a session by yet, or only overloaded refusals (the session ends at once): no upsert at all.
  expect(searchValues(newSession(), 't1', MASKED, NOW)).toBeUndefined();
  expect(searchValues({ ...newSession(), events: [{ at: '', type: 'refused', detail: 'overloaded: worker_busy' }] }, 't1', MASKED, NOW)).toBeUndefined();
  expect(status(session({ lockout: { failures: [], day: [], locks: [], lockedUntilMs: NOW + 1000 } }))).toBe('locked');
});

test('only changed values are upserted', () => {
  const values = searchValues(session(), 't1', MASKED, NOW)!;
  const all = changedSearchAttributes(values, new TypedSearchAttributes());
  expect(all.map((p) => p.key.name).sort()).toEqual(OTP_SEARCH_ATTRIBUTE_KEYS.map((k) => k.name).sort());
  const current = new TypedSearchAttributes().updateCopy(all);
  expect(changedSearchAttributes(values, current)).toEqual([]);
  const delivered = searchValues(session({ current: code({ delivery: 'delivered' }) }), 't1', MASKED, NOW)!;
  expect(changedSearchAttributes(delivered, current)).toEqual([
    { key: OTP_SEARCH_ATTRIBUTES.status, value: 'delivered' },
    { key: OTP_SEARCH_ATTRIBUTES.delivery, value: 'delivered' },
  ]);
});

test('v5: the client indexes a new session at start; its send writes nothing until the next step changes more than the details', () => {
  const start = new TypedSearchAttributes(sessionStartSearchAttributes('t1', MASKED));
  expect(start.get(OTP_SEARCH_ATTRIBUTES.tenant)).toBe('t1');
  expect(start.get(OTP_SEARCH_ATTRIBUTES.status)).toBe('pending');
  expect(start.get(OTP_SEARCH_ATTRIBUTES.countryCode)).toBe('33');
  // No calling code from a caller's unmasked text: nothing of the number is indexed.
  expect(sessionStartSearchAttributes('t1', '+33612345678').map((p) => p.key.name)).toEqual(['OtpTenant', 'OtpStatus']);

  const sent = session({ current: code({ issuedAtMs: NOW }) });
  const pending = searchValues(sent, 't1', MASKED, NOW, true)!;
  expect(pendingStaysIndexed(pending, start, sent, NOW)).toBe(true);
  // Still pending past the grace (no receipt yet, a retry is due): written.
  expect(pendingStaysIndexed(pending, start, sent, NOW + PENDING_INDEX_GRACE_MS)).toBe(false);
  // Delivered, refused or failed: written at once.
  const delivered = session({ current: code({ issuedAtMs: NOW, delivery: 'delivered' }) });
  expect(pendingStaysIndexed(searchValues(delivered, 't1', MASKED, NOW, true)!, start, delivered, NOW)).toBe(false);
  const refused = { ...newSession(), events: [{ at: '', type: 'refused' as const, detail: 'rate_limited: tenant_rate' }] };
  expect(pendingStaysIndexed(searchValues(refused, 't1', MASKED, NOW, true)!, start, refused, NOW)).toBe(false);
  // A session the client did not index at start (another SDK's client): written at once.
  expect(pendingStaysIndexed(pending, new TypedSearchAttributes(), sent, NOW)).toBe(false);
  // A resend over a verified code: the index says verified, so the new pending code is written at once.
  const verifiedIndex = start.updateCopy([{ key: OTP_SEARCH_ATTRIBUTES.status, value: 'verified' }]);
  expect(pendingStaysIndexed(pending, verifiedIndex, sent, NOW)).toBe(false);

  // Refused only as overloaded: the session ends at once; indexed at start, it must not stay listed as pending.
  const overloaded = { ...newSession(), events: [{ at: '', type: 'refused' as const, detail: 'overloaded: worker_busy' }] };
  expect(searchValues(overloaded, 't1', MASKED, NOW, true)).toEqual({ tenant: 't1', countryCode: '33', status: 'refused' });
  expect(searchValues(newSession(), 't1', MASKED, NOW, true)).toBeUndefined();
});

test('registration flags and create commands come from the contract', () => {
  expect(devServerSearchAttributeArgs()).toEqual(expect.arrayContaining(['--search-attribute', 'OtpStatus=Keyword', 'OtpCodeExpiresAt=Datetime']));
  const commands = searchAttributeCreateCommands('prod');
  expect(commands).toHaveLength(OTP_SEARCH_ATTRIBUTE_KEYS.length);
  expect(commands[0]).toBe('temporal operator search-attribute create --namespace prod --name OtpTenant --type Keyword');
  expect(commands).toContain('temporal operator search-attribute create --namespace prod --name OtpCodeExpiresAt --type Datetime');
});

test('docs/operations.md gives the create command of every attribute', () => {
  const readme = readFileSync(join(__dirname, '..', '..', 'docs', 'operations.md'), 'utf8');
  for (const command of searchAttributeCreateCommands('default')) expect(readme).toContain(command);
});

test('the PostgreSQL cluster script registers the same attributes as the contract', () => {
  const script = readFileSync(join(__dirname, '..', '..', 'scripts', 'temporal-postgres.sh'), 'utf8');
  const listed = /^SEARCH_ATTRIBUTES=\((.*)\)$/m.exec(script)?.[1].split(' ');
  expect(listed).toEqual(devServerSearchAttributeArgs().filter((a) => a !== '--search-attribute'));
});

describe('the worker checks the namespace at start', () => {
  const { INDEXED_VALUE_TYPE_KEYWORD: KEYWORD, INDEXED_VALUE_TYPE_DATETIME: DATETIME, INDEXED_VALUE_TYPE_TEXT: TEXT } = temporal.api.enums.v1.IndexedValueType;
  const operator = (customAttributes: Record<string, number> | Error) => ({
    listSearchAttributes: async () => {
      if (customAttributes instanceof Error) throw customAttributes;
      return { customAttributes };
    },
    addSearchAttributes: async () => ({}),
  });
  const all = {
    OtpTenant: KEYWORD,
    OtpProfile: KEYWORD,
    OtpPurpose: KEYWORD,
    OtpStatus: KEYWORD,
    OtpChannel: KEYWORD,
    OtpCountryCode: KEYWORD,
    OtpDelivery: KEYWORD,
    OtpCodeExpiresAt: DATETIME,
  };

  test('every attribute present with its type: ok', async () => {
    await expect(checkSearchAttributes(operator(all) as never, 'default', 'x:7233')).resolves.toBe('ok');
  });

  test('missing or mistyped attributes: a refusal naming them and the commands that create them', async () => {
    const { OtpStatus: _s, ...rest } = all;
    const err = await checkSearchAttributes(operator({ ...rest, OtpDelivery: TEXT }) as never, 'prod', 'temporal.example:7233').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SearchAttributesMissingError);
    expect((err as SearchAttributesMissingError).missing.map((k) => k.name)).toEqual(['OtpStatus', 'OtpDelivery']);
    expect((err as Error).message).toContain(
      'Temporal namespace "prod" on temporal.example:7233 lacks the search attributes the OTP session writes: OtpStatus (Keyword), OtpDelivery (Keyword)',
    );
    expect((err as Error).message).toContain(
      'temporal operator search-attribute create --namespace prod --name OtpStatus --type Keyword\n  temporal operator search-attribute create --namespace prod --name OtpDelivery --type Keyword',
    );
  });

  test('a server that cannot list them (time-skipping test server): unchecked; other errors propagate', async () => {
    await expect(
      checkSearchAttributes(operator(Object.assign(new Error('unimplemented'), { code: 12, details: '', metadata: {} })) as never, 'default', 'x'),
    ).resolves.toBe('unchecked');
    await expect(
      checkSearchAttributes(operator(Object.assign(new Error('unavailable'), { code: 14, details: '', metadata: {} })) as never, 'default', 'x'),
    ).rejects.toThrow('unavailable');
  });
});
