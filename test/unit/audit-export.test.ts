/**
 * exportAudit over a scripted source: tenant filtering, a session that
 * continued as new, an unreadable session, and lines written before the next
 * session is read (streaming, not collecting).
 */
import { randomBytes } from 'node:crypto';
import Long from 'long';
import { ApplicationFailure, defaultPayloadConverter } from '@temporalio/common';
import { encodeErrorToFailure, encodeToPayloads, loadDataConverter } from '@temporalio/common/lib/internal-non-workflow';
import { msNumberToTs } from '@temporalio/common/lib/time';
import type { temporal } from '@temporalio/proto';
import { otpDataConverter } from '../../client';
import { sessionWorkflowId } from '../../contract/keys';
import { exportAudit, type AuditSource } from '../../audit/export';
import type { AuditLine } from '../../audit/lines';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
const keys = [{ id: 'k1', key: randomBytes(32) }];
const converter = loadDataConverter(otpDataConverter(keys));
const ID_KEY = 'audit-unit-id-key-0123456789';
const PHONE = '+33612349001';
const SESSION = sessionWorkflowId(ID_KEY, 'acme', PHONE);
const T0 = Date.parse('2026-11-27T10:00:00Z');

const payloads = async (value: unknown) => ({ payloads: await encodeToPayloads(converter, value) });
let nextId = 1;
const event = (s: number, attrs: Omit<HistoryEvent, 'eventId' | 'eventTime'>): HistoryEvent => ({
  eventId: Long.fromNumber(nextId++),
  eventTime: msNumberToTs(T0 + s * 1000),
  ...attrs,
});
const marker = async (s: number, activity: string, result: unknown) =>
  event(s, {
    markerRecordedEventAttributes: {
      markerName: 'core_local_activity',
      details: { data: { payloads: [defaultPayloadConverter.toPayload({ activity_type: activity })] }, result: await payloads(result) },
    },
  });

/** Run 1: a send and its SMS, then continue-as-new; run 2: the receipt, a staggered retry, a verify. */
async function sessionRuns(): Promise<Record<string, HistoryEvent[]>> {
  const sent = {
    sessionId: SESSION,
    status: 'sent',
    codeSeq: 1,
    sameCode: false,
    maskedPhone: '+33••••••001',
    channel: 'sms',
    messageId: 'm1',
    segments: 1,
    encoding: 'GSM7',
    expiresAt: new Date(T0 + 300_000).toISOString(),
    profile: 'login@abc123abc123',
    locale: 'en',
  };
  return {
    r1: [
      event(0, { workflowExecutionStartedEventAttributes: { input: await payloads({ tenant: 'acme', maskedPhone: '+33••••••001', v: 3 }) } }),
      event(1, {
        workflowExecutionUpdateAcceptedEventAttributes: {
          acceptedRequest: {
            meta: { updateId: 'u1', identity: 'crm@eu' },
            input: { name: 'send', args: await payloads({ phone: PHONE, context: 'secret context', email: 'someone@example.com' }) },
          },
        },
      }),
      await marker(1, 'sendCode', { status: 'ok', kind: 'sms', redeliver: false, route: 'eu', messageIds: ['m1'], render: { senderId: 'ACME' } }),
      event(1, { workflowExecutionUpdateCompletedEventAttributes: { meta: { updateId: 'u1' }, outcome: { success: await payloads(sent) } } }),
      event(2, { workflowExecutionContinuedAsNewEventAttributes: { newExecutionRunId: 'r2' } }),
    ],
    r2: [
      event(2, { workflowExecutionStartedEventAttributes: { input: await payloads({ tenant: 'acme', maskedPhone: '+33••••••001', v: 3, carried: {} }) } }),
      event(3, {
        workflowExecutionSignaledEventAttributes: {
          signalName: 'deliveryReceipt',
          input: await payloads({ messageId: 'm1', stat: 'UNDELIV', outcome: 'failed', err: '001', receivedAt: new Date(T0 + 3000).toISOString(), codeSeq: 1 }),
        },
      }),
      await marker(20, 'retryCode', { dispatched: { route: 'backup', messageIds: ['m2'], segments: 1 } }),
      event(30, {
        workflowExecutionUpdateAcceptedEventAttributes: {
          acceptedRequest: { meta: { updateId: 'v1', identity: 'crm@eu' }, input: { name: 'verify', args: await payloads({ sealedCode: 'x'.repeat(30) }) } },
        },
      }),
      event(30, {
        workflowExecutionUpdateCompletedEventAttributes: {
          meta: { updateId: 'v1' },
          outcome: { success: await payloads({ sessionId: SESSION, valid: true, outcome: 'verified', attemptsRemaining: 4 }) },
        },
      }),
    ],
  };
}

test('streams one session at a time, follows continue-as-new, skips other tenants and unreadable sessions', async () => {
  const runs = await sessionRuns();
  const other = sessionWorkflowId(ID_KEY, 'acme-eu', PHONE);
  const unreadable = sessionWorkflowId(ID_KEY, 'acme', '+33612349002');
  const otherKeys = loadDataConverter(otpDataConverter([{ id: 'k2', key: randomBytes(32) }]));
  const log: string[] = [];
  const source: AuditSource = {
    async *list(query) {
      log.push(`list ${query.includes("STARTS_WITH 'otp-acme-'")}`);
      // Visibility lists each run: run 2 of the session comes as an execution of its own.
      yield { workflowId: SESSION, runId: 'r1' };
      yield { workflowId: other, runId: 'x' };
      yield { workflowId: SESSION, runId: 'r2' };
      yield { workflowId: unreadable, runId: 'u' };
    },
    async history(workflowId, runId) {
      log.push(`history ${workflowId === SESSION ? 'session' : workflowId === unreadable ? 'unreadable' : 'other'} ${runId}`);
      if (workflowId === unreadable)
        return [
          event(0, {
            workflowExecutionStartedEventAttributes: {
              input: { payloads: await encodeToPayloads(otherKeys, { tenant: 'acme', maskedPhone: '+33••••••002' }) },
            },
          }),
        ];
      return runs[runId];
    },
  };
  const skipped: string[] = [];
  const summary = await exportAudit({
    source,
    payloadKeys: keys,
    tenant: 'acme',
    fromMs: T0,
    toMs: T0 + 3600_000,
    format: 'jsonl',
    write: (s) => void log.push(`write ${s}`),
    onSkip: (id) => skipped.push(id),
    concurrency: 1,
  });
  expect(summary).toEqual({ runs: 2, lines: 1, skipped: 1 });
  expect(skipped).toEqual([unreadable]);
  // The line is out before the next session is read; the other tenant's history is never read.
  expect(log.map((l) => (l.startsWith('write ') ? 'write' : l))).toEqual([
    'list true',
    'history session r1',
    'history session r2',
    'write',
    'history session r2',
    'history unreadable u',
  ]);
  const line = JSON.parse(log[3].slice('write '.length)) as AuditLine;
  expect(line).toMatchObject({
    sessionId: SESSION,
    runId: 'r1',
    identity: 'crm@eu',
    sender: 'ACME',
    profile: 'login@abc123abc123',
    phone: null,
    verify: { outcome: 'verified', count: 1 },
  });
  expect(line.attempts.map((a) => [a.kind, a.route, a.sender, a.outcome])).toEqual([
    ['first', 'eu', 'ACME', 'failed'],
    ['retry', 'backup', 'ACME', 'pending'],
  ]);
  expect(log.join('\n')).not.toMatch(/612349001|secret context|someone@example/);
});

test('a bounded number of histories in flight, lines in listing order', async () => {
  const runs = await sessionRuns();
  let inFlight = 0;
  let most = 0;
  const ids = Array.from({ length: 12 }, (_, i) => sessionWorkflowId(ID_KEY, 'acme', `+336123491${String(i).padStart(2, '0')}`));
  const source: AuditSource = {
    async *list() {
      for (const workflowId of ids) yield { workflowId, runId: 'r1' };
    },
    async history(id, runId) {
      most = Math.max(most, ++inFlight);
      // Later sessions answer sooner: the output must still follow the listing.
      await new Promise((r) => setTimeout(r, runId === 'r1' ? 40 - 3 * ids.indexOf(id) : 1));
      inFlight--;
      return runs[runId];
    },
  };
  let out = '';
  const summary = await exportAudit({
    source,
    payloadKeys: keys,
    tenant: 'acme',
    fromMs: T0,
    toMs: T0 + 3600_000,
    format: 'jsonl',
    write: (s) => void (out += s),
    concurrency: 3,
  });
  expect(summary).toEqual({ runs: 12, lines: 12, skipped: 0 });
  expect(most).toBe(3);
  expect(
    out
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as AuditLine).sessionId),
  ).toEqual(ids);
});

test('with the id key the number is shown; sends outside the window give no line', async () => {
  const runs = await sessionRuns();
  const source: AuditSource = {
    async *list() {
      yield { workflowId: SESSION, runId: 'r1' };
    },
    history: async (_id, runId) => runs[runId],
  };
  let out = '';
  const write = (s: string) => void (out += s);
  await exportAudit({ source, payloadKeys: keys, tenant: 'acme', fromMs: T0, toMs: T0 + 3600_000, format: 'jsonl', idKey: ID_KEY, write });
  expect((JSON.parse(out) as AuditLine).phone).toBe(PHONE);
  out = '';
  const summary = await exportAudit({ source, payloadKeys: keys, tenant: 'acme', fromMs: T0 + 2000, toMs: T0 + 3600_000, format: 'csv', write });
  expect(summary.lines).toBe(0);
  expect(out.split('\n')).toHaveLength(2);
});

test('a send that failed: its failure type and message', async () => {
  const failure = (type: string, message: string) => encodeErrorToFailure(converter, ApplicationFailure.create({ type, message, nonRetryable: true }));
  const history: HistoryEvent[] = [
    event(0, { workflowExecutionStartedEventAttributes: { input: await payloads({ tenant: 'acme', maskedPhone: '+33••••••001', v: 3 }) } }),
    event(1, {
      workflowExecutionUpdateAcceptedEventAttributes: {
        acceptedRequest: { meta: { updateId: 'u1', identity: 'crm@eu' }, input: { name: 'send', args: await payloads({ phone: PHONE }) } },
      },
    }),
    event(1, {
      workflowExecutionUpdateCompletedEventAttributes: {
        meta: { updateId: 'u1' },
        outcome: { failure: await failure('DispatchFailed', 'SMS dispatch failed: no bind') },
      },
    }),
  ];
  const source: AuditSource = {
    async *list() {
      yield { workflowId: SESSION, runId: 'f' };
    },
    history: async () => history,
  };
  let out = '';
  await exportAudit({ source, payloadKeys: keys, tenant: 'acme', fromMs: T0, toMs: T0 + 3600_000, format: 'jsonl', write: (s) => void (out += s) });
  expect(JSON.parse(out)).toMatchObject({
    status: 'failed',
    reason: 'DispatchFailed: SMS dispatch failed: no bind',
    identity: 'crm@eu',
    attempts: [],
    maskedPhone: '+33••••••001',
  });
});
