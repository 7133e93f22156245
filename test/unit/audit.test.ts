/**
 * The audit export's pure parts: recorded session histories decoded into lines,
 * attribution rules on built events, CSV cells and the command-line checks.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';
import { loadDataConverter } from '@temporalio/common/lib/internal-non-workflow';
import { otpDataConverter } from '../../client';
import { loadConfig } from '../../config/config';
import { decodeRun } from '../../audit/history';
import { auditLines, csvCell, csvHeader, formatLine, linesInWindow, type AuditEvent, type AuditLine } from '../../audit/lines';
import { auditQuery, isTenantSession } from '../../audit/export';
import { AuditUsageError, parseAuditArgs } from '../../audit/options';

// The recorded histories use the dev keys (test/histories/README.md).
const devConfig = loadConfig({}, 'client');
const converter = loadDataConverter(otpDataConverter(devConfig.keys.payload));
const DEV_ID_KEY = devConfig.keys.hash[0];

async function recordedLines(name: string, idKey?: string): Promise<AuditLine[]> {
  const history = temporal.api.history.v1.History.decode(readFileSync(join(__dirname, '..', 'histories', `${name}.history.pb`)));
  // A run's history does not name its workflow id; the recorder's send answers do (tenant "default").
  const answers = await decodeRun(history.events, { converter, sessionId: '', runId: 'run-1', tenant: 'default' });
  const answer = answers.events.find((e): e is Extract<AuditEvent, { kind: 'sendCompleted' }> => e.kind === 'sendCompleted' && e.result !== null);
  const sessionId = answer?.result?.sessionId ?? '';
  expect(sessionId).toMatch(/^otp-default-/);
  const run = await decodeRun(history.events, { converter, sessionId, runId: 'run-1', tenant: 'default', idKey });
  return auditLines(sessionId, run.events, run.input?.maskedPhone ?? null);
}

describe('recorded histories to audit lines', () => {
  test('a send, a staggered retry and a verify: profile@revision, sender, identity, both SMS attempts', async () => {
    const lines = await recordedLines('session-v3-retried');
    expect(lines).toHaveLength(1);
    const [l] = lines;
    expect(l).toMatchObject({
      status: 'sent',
      codeSeq: 1,
      maskedPhone: '+33••••••014',
      phone: null,
      profile: 'login@f96d5f5c4260',
      sender: 'OTPDemo',
      identity: '7605@vm',
      channel: 'sms',
      repeat: false,
      expiresAt: '2026-11-27T07:03:05.103Z',
    });
    expect(Date.parse(l.answeredAt!)).toBeGreaterThanOrEqual(Date.parse(l.requestedAt));
    expect(l.clientRequestedAt).toBe('2026-11-27T06:58:05.097Z');
    expect(l.attempts.map((a) => [a.kind, a.channel, a.route, a.messageIds, a.sender, a.outcome])).toEqual([
      ['first', 'sms', 'smsc', ['6613c94a4bc24'], 'OTPDemo', 'pending'],
      ['retry', 'sms', 'smsc', ['6613c94a4bc25'], 'OTPDemo', 'pending'],
    ]);
    expect(l.verify).toMatchObject({ outcome: 'verified', valid: true, count: 1 });
    expect(JSON.stringify(lines)).not.toContain('612000014');
  });

  test('receipts by message id, the last verify per code, and a refused send', async () => {
    const lines = await recordedLines('session-v3-lockout');
    expect(lines.map((l) => [l.status, l.codeSeq, l.reason])).toEqual([
      ['sent', 1, null],
      ['sent', 2, null],
      ['locked', null, 'too_many_failures'],
    ]);
    expect(lines[0].attempts[0]).toMatchObject({
      messageIds: ['6613c94a4bc21'],
      outcome: 'delivered',
      receipts: [{ messageId: '6613c94a4bc21', stat: 'DELIVRD', err: '000' }],
    });
    expect(lines[0].verify).toMatchObject({ outcome: 'invalid_code', valid: false, count: 2 });
    expect(lines[1].attempts[0]).toMatchObject({ messageIds: ['6613c94a4bc22'], outcome: 'delivered' });
    expect(lines[1].verify).toMatchObject({ outcome: 'invalid_code', count: 1 });
    expect(lines[2]).toMatchObject({ attempts: [], verify: null, sender: null, maskedPhone: '+33••••••012' });
  });

  test('the full number only with the id key, and never a context line', async () => {
    expect((await recordedLines('session-v3-transaction'))[0].phone).toBeNull();
    expect((await recordedLines('session-v3-transaction', 'another-id-key-0123456789'))[0].phone).toBeNull();
    const shown = await recordedLines('session-v3-transaction', DEV_ID_KEY);
    expect(shown[0].phone).toBe('+33612000013');
    expect(JSON.stringify(shown)).not.toContain('Alice');
    expect(shown[0].verify).toMatchObject({ outcome: 'verified', count: 2 });
  });

  test('a same-code resend after an undelivered SMS, each with its failed receipt (v2 session)', async () => {
    const lines = await recordedLines('session-v2-resent-failed-locked');
    expect(lines.map((l) => [l.codeSeq, l.sameCode, l.repeat, l.attempts.map((a) => [a.kind, a.outcome, a.receipts.map((r) => r.stat)])])).toEqual([
      [1, false, false, [['first', 'failed', ['UNDELIV']]]],
      [1, true, false, [['resend', 'failed', ['UNDELIV']]]],
    ]);
  });

  test('v0.1 sessions: sends and verifies, no attempts', async () => {
    const lines = await recordedLines('session-verified');
    expect(lines.map((l) => [l.status, l.codeSeq, l.attempts, l.verify?.outcome])).toEqual([['sent', 1, [], 'already_verified']]);
  });

  test('idempotent verifies: the last answer wins', async () => {
    const [l] = await recordedLines('session-v3-verified-idempotent');
    expect(l.verify).toMatchObject({ outcome: 'idempotency_conflict', valid: false, count: 4 });
  });
});

describe('attribution on built events', () => {
  const at = (s: number) => new Date(Date.UTC(2026, 10, 27, 10, 0, s)).toISOString();
  const sent = (seq: number, messageId: string | undefined, extra: Record<string, unknown> = {}) => ({
    sessionId: 's',
    status: 'sent' as const,
    codeSeq: seq,
    sameCode: false,
    maskedPhone: '+33••••••678',
    channel: 'sms' as const,
    messageId,
    segments: 1,
    encoding: 'GSM7' as const,
    expiresAt: at(300),
    profile: 'login@abc',
    locale: 'en',
    ...extra,
  });
  const receipt = (messageId: string, outcome: 'delivered' | 'failed', s: number): AuditEvent => ({
    kind: 'receipt',
    at: at(s),
    receipt: { messageId, stat: outcome === 'delivered' ? 'DELIVRD' : 'UNDELIV', outcome, err: '000', receivedAt: at(s) },
  });

  test('a failed SMS, its retry, an email escalation, a same-code resend and a double click', () => {
    const events: AuditEvent[] = [
      { kind: 'sendAccepted', at: at(0), runId: 'r', updateId: 'u1', identity: 'backend-a', phone: null, clientRequestedAt: null },
      { kind: 'smsDispatched', at: at(0), activity: 'sendCode', route: 'eu', messageIds: ['m1', 'm1b'], senderId: 'ACME' },
      { kind: 'sendCompleted', at: at(1), updateId: 'u1', result: sent(1, 'm1'), failure: null },
      // The same click again: the same answer, nothing dispatched.
      { kind: 'sendAccepted', at: at(1), runId: 'r', updateId: 'u1b', identity: 'backend-a', phone: null, clientRequestedAt: null },
      { kind: 'sendCompleted', at: at(1), updateId: 'u1b', result: sent(1, 'm1'), failure: null },
      receipt('m1', 'delivered', 2),
      receipt('m1b', 'failed', 2),
      { kind: 'smsDispatched', at: at(20), activity: 'retryCode', route: 'backup', messageIds: ['m2'], senderId: null },
      { kind: 'fallbackScheduled', at: at(90), scheduledEventId: '40', channel: 'email', codeSeq: 1 },
      { kind: 'fallbackDone', at: at(91), scheduledEventId: '40', ok: true, id: '<mail-1@x>', failure: null },
      { kind: 'verifyCompleted', at: at(95), result: { sessionId: 's', valid: false, outcome: 'invalid_code', attemptsRemaining: 4 }, failure: null },
      { kind: 'sendAccepted', at: at(100), runId: 'r', updateId: 'u2', identity: 'backend-b', phone: null, clientRequestedAt: null },
      { kind: 'smsDispatched', at: at(100), activity: 'sendCode', route: 'eu', messageIds: ['m3'], senderId: 'ACME' },
      { kind: 'sendCompleted', at: at(101), updateId: 'u2', result: sent(1, 'm3', { sameCode: true }), failure: null },
      receipt('m3', 'delivered', 103),
      receipt('m2', 'delivered', 104),
      { kind: 'verifyCompleted', at: at(110), result: { sessionId: 's', valid: true, outcome: 'verified', attemptsRemaining: 4 }, failure: null },
      { kind: 'sendAccepted', at: at(120), runId: 'r', updateId: 'u3', identity: null, phone: null, clientRequestedAt: null },
      { kind: 'sendCompleted', at: at(121), updateId: 'u3', result: null, failure: 'DispatchFailed: SMS dispatch failed: bind down' },
    ];
    const lines = auditLines('s', events, '+33••••••678');
    expect(lines.map((l) => [l.identity, l.status, l.repeat, l.sameCode])).toEqual([
      ['backend-a', 'sent', false, false],
      ['backend-a', 'sent', true, false],
      ['backend-b', 'sent', false, true],
      [null, 'failed', false, false],
    ]);
    expect(lines[0].attempts.map((a) => [a.kind, a.channel, a.route, a.sender, a.outcome, a.detail])).toEqual([
      ['first', 'sms', 'eu', 'ACME', 'failed', null],
      ['retry', 'sms', 'backup', 'ACME', 'delivered', null],
      ['fallback', 'email', null, null, 'sent', '<mail-1@x>'],
    ]);
    expect(lines[1]).toMatchObject({ attempts: [], sender: 'ACME' });
    expect(lines[2].attempts.map((a) => [a.kind, a.messageIds, a.outcome])).toEqual([['resend', ['m3'], 'delivered']]);
    for (const l of lines.slice(0, 3)) expect(l.verify).toEqual({ outcome: 'verified', valid: true, at: at(110), count: 2 });
    expect(lines[3]).toMatchObject({ reason: 'DispatchFailed: SMS dispatch failed: bind down', verify: null, attempts: [] });
  });

  test('the webhook channel: a delivered POST, and one without a 2xx that failed the send', () => {
    const lines = auditLines(
      's',
      [
        { kind: 'sendAccepted', at: at(0), runId: 'r', updateId: 'u1', identity: 'x', phone: null, clientRequestedAt: null },
        { kind: 'webhookDelivered', at: at(0), delivered: true },
        { kind: 'sendCompleted', at: at(1), updateId: 'u1', result: sent(1, undefined, { channel: 'webhook' }), failure: null },
        { kind: 'sendAccepted', at: at(10), runId: 'r', updateId: 'u2', identity: 'x', phone: null, clientRequestedAt: null },
        { kind: 'webhookDelivered', at: at(10), delivered: false },
        { kind: 'sendCompleted', at: at(11), updateId: 'u2', result: null, failure: 'DispatchFailed: webhook delivery failed: HTTP 500' },
      ],
      null,
    );
    expect(lines.map((l) => [l.status, l.channel, l.sender, l.attempts.map((a) => [a.channel, a.outcome])])).toEqual([
      ['sent', 'webhook', null, [['webhook', 'delivered']]],
      ['failed', null, null, [['webhook', 'failed']]],
    ]);
  });

  test('a verify belongs to the code current when it was answered', () => {
    const lines = auditLines(
      's',
      [
        { kind: 'sendAccepted', at: at(0), runId: 'r', updateId: 'u1', identity: 'x', phone: null, clientRequestedAt: null },
        { kind: 'smsDispatched', at: at(0), activity: 'sendCode', route: 'eu', messageIds: ['m1'], senderId: 'S' },
        { kind: 'sendCompleted', at: at(1), updateId: 'u1', result: sent(1, 'm1'), failure: null },
        { kind: 'verifyCompleted', at: at(5), result: { sessionId: 's', valid: false, outcome: 'invalid_code', attemptsRemaining: 4 }, failure: null },
        { kind: 'sendAccepted', at: at(40), runId: 'r2', updateId: 'u2', identity: 'x', phone: null, clientRequestedAt: null },
        { kind: 'smsDispatched', at: at(40), activity: 'sendCode', route: 'eu', messageIds: ['m2'], senderId: 'S' },
        { kind: 'sendCompleted', at: at(41), updateId: 'u2', result: sent(2, 'm2'), failure: null },
        { kind: 'verifyCompleted', at: at(45), result: { sessionId: 's', valid: true, outcome: 'verified', attemptsRemaining: 5 }, failure: null },
      ],
      null,
    );
    expect(lines.map((l) => l.verify?.outcome)).toEqual(['invalid_code', 'verified']);
    const window = { fromMs: Date.parse(at(0)), toMs: Date.parse(at(40)) };
    expect(linesInWindow(lines, 'r', window).map((l) => l.codeSeq)).toEqual([1]);
    expect(linesInWindow(lines, 'r2', { fromMs: 0, toMs: Date.parse(at(40)) })).toEqual([]);
  });
});

describe('output formats', () => {
  test('CSV cells quote what needs it and defuse formulas, but keep masked numbers', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('+33••••••678')).toBe('+33••••••678');
    expect(csvCell(null)).toBe('');
    expect(csvCell(3)).toBe('3');
  });
  test('a CSV row has one cell per header column; JSONL is the line as JSON', () => {
    const line: AuditLine = {
      sessionId: 's',
      runId: 'r',
      maskedPhone: '+33••••••678',
      phone: null,
      status: 'sent',
      reason: null,
      codeSeq: 1,
      sameCode: false,
      repeat: false,
      channel: 'sms',
      profile: 'login@abc',
      sender: 'ACME',
      identity: 'a,b',
      requestedAt: 't0',
      clientRequestedAt: null,
      answeredAt: 't1',
      expiresAt: 't2',
      attempts: [],
      verify: null,
    };
    expect(formatLine(line, 'csv')).toBe('s,r,+33••••••678,,sent,,1,false,false,sms,login@abc,ACME,"a,b",t0,,t1,t2,[],,,,');
    expect(csvHeader().split(',')).toHaveLength(22);
    expect(JSON.parse(formatLine(line, 'jsonl'))).toEqual(line);
  });
});

describe('visibility query', () => {
  test("runs that may hold a send in the window, and only this tenant's ids", () => {
    expect(auditQuery('acme', Date.parse('2026-11-27T00:00:00Z'), Date.parse('2026-11-28T00:00:00Z'))).toBe(
      "WorkflowType = 'otpSession' AND WorkflowId STARTS_WITH 'otp-acme-' AND StartTime < '2026-11-28T00:00:00.000Z' AND (CloseTime >= '2026-11-27T00:00:00.000Z' OR ExecutionStatus = 'Running')",
    );
    expect(isTenantSession('acme', `otp-acme-${'a'.repeat(32)}`)).toBe(true);
    expect(isTenantSession('acme', `otp-acme-eu-${'a'.repeat(32)}`)).toBe(false);
    expect(isTenantSession('acme', `otp-acme-${'a'.repeat(31)}`)).toBe(false);
  });
});

describe('command-line options', () => {
  const ok = ['--tenant', 'acme', '--from', '2026-11-27', '--to', '2026-11-28T00:00:00Z'];
  const problem = (argv: string[], keys: string[] = ['k'.repeat(20)]) => {
    try {
      parseAuditArgs(argv, keys);
    } catch (err) {
      if (err instanceof AuditUsageError) return [err.problem, err.message];
      throw err;
    }
    return null;
  };
  test('defaults to JSONL and reads dates and instants with a zone', () => {
    expect(parseAuditArgs(ok, [])).toEqual({
      tenant: 'acme',
      fromMs: Date.parse('2026-11-27T00:00:00Z'),
      toMs: Date.parse('2026-11-28T00:00:00Z'),
      format: 'jsonl',
      idKey: undefined,
    });
    expect(parseAuditArgs([...ok, '--format', 'csv', '--id-key', 'k'.repeat(20)], ['k'.repeat(20)])).toMatchObject({ format: 'csv', idKey: 'k'.repeat(20) });
  });
  test('each wrong argument is named', () => {
    expect(problem(['--from', '2026-11-27', '--to', '2026-11-28'])?.[0]).toBe('tenant');
    expect(problem(['--tenant', 'a b', '--from', '2026-11-27', '--to', '2026-11-28'])?.[0]).toBe('tenant');
    expect(problem(['--tenant', 'acme', '--from', 'yesterday', '--to', '2026-11-28'])).toEqual([
      'from',
      expect.stringContaining('"yesterday" is not an ISO-8601'),
    ]);
    expect(problem(['--tenant', 'acme', '--from', '2026-11-27', '--to', '2026-11-27T10:00:00'])?.[0]).toBe('to');
    expect(problem(['--tenant', 'acme', '--from', '2026-11-28', '--to', '2026-11-27'])?.[0]).toBe('window');
    expect(problem([...ok, '--format', 'xml'])).toEqual(['format', expect.stringContaining('--format must be jsonl or csv')]);
    expect(problem([...ok, '--verbose', 'x'])?.[0]).toBe('option');
    expect(problem([...ok, '--id-key'])?.[0]).toBe('id-key');
    const wrong = problem([...ok, '--id-key', 'not-the-key-0123456789']);
    expect(wrong?.[0]).toBe('id-key');
    expect(wrong?.[1]).not.toContain('not-the-key');
  });
});
