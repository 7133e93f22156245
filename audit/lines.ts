/**
 * The audit export's rules, as pure functions: decoded session events in,
 * one audit line per send out (accepted, refused or failed). No I/O here;
 * audit/history.ts decodes Temporal histories into these events and
 * audit/export.ts streams them from a cluster.
 */
import type { CodeChannel, ReceiptOutcome, SendOtpResult, SendRefusalStatus, VerifyOtpResult } from '../contract';

/** One receipt as the session saw it (a deliveryReceipt signal, or found by a retry before it re-sent). */
export interface AuditReceipt {
  messageId: string;
  stat: string;
  outcome: ReceiptOutcome;
  err: string;
  receivedAt: string;
}

/** What one session's history says, in history order, with only the fields the export needs. */
export type AuditEvent =
  | { kind: 'sendAccepted'; at: string; runId: string; updateId: string; identity: string | null; phone: string | null; clientRequestedAt: string | null }
  | { kind: 'sendCompleted'; at: string; updateId: string; result: SendOtpResult | null; failure: string | null }
  /** A sendCode or retryCode local activity that put an SMS on a route. */
  | { kind: 'smsDispatched'; at: string; activity: 'sendCode' | 'retryCode'; route: string; messageIds: string[]; senderId: string | null }
  /** A sendCode that POSTed a new code to the profile's delivery webhook. */
  | { kind: 'webhookDelivered'; at: string; delivered: boolean }
  | { kind: 'receipt'; at: string; receipt: AuditReceipt }
  | { kind: 'fallbackScheduled'; at: string; scheduledEventId: string; channel: 'email' | 'webhook'; codeSeq: number }
  | { kind: 'fallbackDone'; at: string; scheduledEventId: string; ok: boolean; id: string | null; failure: string | null }
  | { kind: 'verifyCompleted'; at: string; result: VerifyOtpResult | null; failure: string | null };

/** sent: the channel took it and no receipt says otherwise yet (email, a webhook escalation). */
export type AttemptOutcome = ReceiptOutcome | 'sent';

export interface AuditAttempt {
  channel: 'sms' | 'email' | 'webhook';
  /** first: the send's own dispatch; resend: this send re-delivered the same code; retry: a staggered retry; fallback: an escalation. */
  kind: 'first' | 'resend' | 'retry' | 'fallback';
  at: string;
  route: string | null;
  messageIds: string[];
  /** Sender id the SMS went out with; null for other channels. */
  sender: string | null;
  /** SMS: delivered when every part is, failed when any part is, else pending. Other channels: sent or failed. */
  outcome: AttemptOutcome;
  /** Fallback: the message id the channel gave, or why it failed (a type, never an address). */
  detail: string | null;
  receipts: AuditReceipt[];
}

export interface AuditVerify {
  outcome: VerifyOtpResult['outcome'] | 'error';
  valid: boolean;
  at: string;
  /** Verify answers this code got, the last one being `outcome`. */
  count: number;
}

export type AuditStatus = 'sent' | SendRefusalStatus | 'failed' | 'unanswered';

export interface AuditLine {
  sessionId: string;
  runId: string;
  maskedPhone: string | null;
  /** Only with the id key, and only when the number hashes to this session id. */
  phone: string | null;
  status: AuditStatus;
  /** Refusal reason, or the failure of a send that failed. */
  reason: string | null;
  codeSeq: number | null;
  sameCode: boolean;
  /** This send got an earlier send's answer (idempotency key, double click) and dispatched nothing itself. */
  repeat: boolean;
  channel: CodeChannel | null;
  /** Profile name@revision. */
  profile: string | null;
  /** Sender id of the send's SMS; null when no SMS went out (or the history does not record it). */
  sender: string | null;
  /** Identity of the client that called the send update. */
  identity: string | null;
  /** When the server accepted the send update (written with the workflow task that ran the send, so it can equal answeredAt). */
  requestedAt: string;
  /** The caller's own clock when it asked (SendOtpRequest.requestedAt), if it said. */
  clientRequestedAt: string | null;
  answeredAt: string | null;
  expiresAt: string | null;
  attempts: AuditAttempt[];
  verify: AuditVerify | null;
}

export interface AuditWindow {
  fromMs: number;
  toMs: number;
}

/**
 * Builds the lines of one session from its events (one run, or a run and the runs it continued
 * as). Attribution: a staggered retry or an escalation belongs to the latest send that dispatched
 * the current code; a verify belongs to the code current when it was answered (histories do not
 * say which code a verify matched, so one that matched the previous code in its grace window shows
 * on the newer code); a receipt to the attempt whose message id it names.
 */
export function auditLines(sessionId: string, events: readonly AuditEvent[], maskedPhone: string | null): AuditLine[] {
  const lines: AuditLine[] = [];
  const pending = new Map<string, AuditLine>();
  /** sendCode dispatches by their first message id (the id a send's answer names). */
  const dispatches = new Map<string, Extract<AuditEvent, { kind: 'smsDispatched' }>>();
  const answers = new Set<string>();
  const byMessage = new Map<string, AuditAttempt>();
  /** The line that owns each code's later attempts, and the sender its retries reuse. */
  const owner = new Map<number, AuditLine>();
  const verifies = new Map<number, AuditVerify>();
  let current: number | null = null;
  let lastWebhook: Extract<AuditEvent, { kind: 'webhookDelivered' }> | undefined;
  const fallbacks = new Map<string, AuditAttempt>();

  const attach = (line: AuditLine | undefined, attempt: AuditAttempt) => {
    if (!line) return;
    line.attempts.push(attempt);
    for (const id of attempt.messageIds) byMessage.set(id, attempt);
  };

  for (const e of events) {
    switch (e.kind) {
      case 'sendAccepted': {
        const line: AuditLine = {
          sessionId,
          runId: e.runId,
          maskedPhone,
          phone: e.phone,
          status: 'unanswered',
          reason: null,
          codeSeq: null,
          sameCode: false,
          repeat: false,
          channel: null,
          profile: null,
          sender: null,
          identity: e.identity,
          requestedAt: e.at,
          clientRequestedAt: e.clientRequestedAt,
          answeredAt: null,
          expiresAt: null,
          attempts: [],
          verify: null,
        };
        lines.push(line);
        pending.set(e.updateId, line);
        break;
      }
      case 'sendCompleted': {
        const line = pending.get(e.updateId);
        if (!line) break;
        pending.delete(e.updateId);
        line.answeredAt = e.at;
        const r = e.result;
        if (!r) {
          line.status = 'failed';
          line.reason = e.failure;
          // A webhook-channel POST without a 2xx fails the send: its attempt is the reason.
          if (lastWebhook) attach(line, webhookAttempt(lastWebhook));
          lastWebhook = undefined;
          break;
        }
        line.maskedPhone = r.maskedPhone ?? line.maskedPhone;
        line.profile = r.profile ?? null;
        if (r.status !== 'sent') {
          line.status = r.status;
          line.reason = r.reason;
          break;
        }
        line.status = 'sent';
        line.codeSeq = r.codeSeq;
        line.sameCode = r.sameCode;
        line.channel = r.channel;
        line.expiresAt = r.expiresAt;
        const dispatch = r.messageId !== undefined ? dispatches.get(r.messageId) : undefined;
        if (dispatch) line.sender = dispatch.senderId;
        // The same code and message as an earlier answer: that send's answer again, nothing new went out.
        const answer = `${r.codeSeq}|${r.messageId ?? ''}`;
        line.repeat = answers.has(answer);
        answers.add(answer);
        if (!line.repeat && dispatch) attach(line, smsAttempt(dispatch, r.sameCode ? 'resend' : 'first', line.sender));
        if (!line.repeat && r.channel === 'webhook' && lastWebhook) {
          attach(line, webhookAttempt(lastWebhook));
          lastWebhook = undefined;
        }
        if (!line.repeat) owner.set(r.codeSeq, line);
        if (!r.sameCode && (current === null || r.codeSeq > current)) current = r.codeSeq;
        line.verify = verifies.get(r.codeSeq) ?? null;
        break;
      }
      case 'smsDispatched':
        if (e.activity === 'sendCode') dispatches.set(e.messageIds[0], e);
        else if (current !== null) {
          const line = owner.get(current);
          attach(line, smsAttempt(e, 'retry', line?.sender ?? null));
        }
        break;
      case 'webhookDelivered':
        lastWebhook = e;
        break;
      case 'receipt': {
        const attempt = byMessage.get(e.receipt.messageId);
        if (!attempt || attempt.receipts.some((r) => r.messageId === e.receipt.messageId && r.stat === e.receipt.stat && r.receivedAt === e.receipt.receivedAt))
          break;
        attempt.receipts.push(e.receipt);
        attempt.outcome = smsOutcome(attempt);
        break;
      }
      case 'fallbackScheduled': {
        const attempt: AuditAttempt = {
          channel: e.channel,
          kind: 'fallback',
          at: e.at,
          route: null,
          messageIds: [],
          sender: null,
          outcome: 'pending',
          detail: null,
          receipts: [],
        };
        fallbacks.set(e.scheduledEventId, attempt);
        attach(owner.get(e.codeSeq), attempt);
        break;
      }
      case 'fallbackDone': {
        const attempt = fallbacks.get(e.scheduledEventId);
        if (!attempt) break;
        attempt.outcome = e.ok ? 'sent' : 'failed';
        attempt.detail = e.ok ? e.id : e.failure;
        break;
      }
      case 'verifyCompleted': {
        if (current === null) break;
        const before = verifies.get(current);
        const v: AuditVerify = {
          outcome: e.result ? e.result.outcome : 'error',
          valid: e.result?.valid ?? false,
          at: e.at,
          count: (before?.count ?? 0) + 1,
        };
        verifies.set(current, v);
        for (const l of lines) if (l.status === 'sent' && l.codeSeq === current) l.verify = v;
        break;
      }
    }
  }
  return lines;
}

function smsAttempt(d: Extract<AuditEvent, { kind: 'smsDispatched' }>, kind: AuditAttempt['kind'], sender: string | null): AuditAttempt {
  return {
    channel: 'sms',
    kind,
    at: d.at,
    route: d.route,
    messageIds: [...d.messageIds],
    sender: d.senderId ?? sender,
    outcome: 'pending',
    detail: null,
    receipts: [],
  };
}

function webhookAttempt(w: Extract<AuditEvent, { kind: 'webhookDelivered' }>): AuditAttempt {
  return {
    channel: 'webhook',
    kind: 'first',
    at: w.at,
    route: null,
    messageIds: [],
    sender: null,
    outcome: w.delivered ? 'delivered' : 'failed',
    detail: null,
    receipts: [],
  };
}

/** Every part delivered: delivered; any part failed: failed; otherwise still pending. */
function smsOutcome(a: AuditAttempt): AttemptOutcome {
  const last = new Map<string, ReceiptOutcome>();
  for (const r of a.receipts) if (last.get(r.messageId) !== 'delivered' && last.get(r.messageId) !== 'failed') last.set(r.messageId, r.outcome);
  if ([...last.values()].includes('failed')) return 'failed';
  if (a.messageIds.every((id) => last.get(id) === 'delivered')) return 'delivered';
  return 'pending';
}

/** Lines whose send was requested inside the window, from the run the listing named. */
export function linesInWindow(lines: readonly AuditLine[], runId: string, window: AuditWindow): AuditLine[] {
  return lines.filter((l) => {
    const t = Date.parse(l.requestedAt);
    return l.runId === runId && t >= window.fromMs && t < window.toMs;
  });
}

export const AUDIT_FORMATS = ['jsonl', 'csv'] as const;
export type AuditFormat = (typeof AUDIT_FORMATS)[number];

/** CSV columns, in order; attempts is one JSON cell (a list of objects has no flat form). */
export const CSV_COLUMNS = [
  'sessionId',
  'runId',
  'maskedPhone',
  'phone',
  'status',
  'reason',
  'codeSeq',
  'sameCode',
  'repeat',
  'channel',
  'profile',
  'sender',
  'identity',
  'requestedAt',
  'clientRequestedAt',
  'answeredAt',
  'expiresAt',
  'attempts',
  'verifyOutcome',
  'verifyValid',
  'verifyAt',
  'verifyCount',
] as const;

/** RFC 4180 cell. A text that a spreadsheet would run as a formula gets a leading "'" (callers choose their identity). */
export function csvCell(value: string | number | boolean | null): string {
  if (value === null) return '';
  let text = String(value);
  if (typeof value === 'string' && /^[=@\t\r+-]/.test(text) && !/^\+[\d•]+$/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvHeader(): string {
  return CSV_COLUMNS.join(',');
}

export function formatLine(line: AuditLine, format: AuditFormat): string {
  if (format === 'jsonl') return JSON.stringify(line);
  const cells: Record<(typeof CSV_COLUMNS)[number], string | number | boolean | null> = {
    sessionId: line.sessionId,
    runId: line.runId,
    maskedPhone: line.maskedPhone,
    phone: line.phone,
    status: line.status,
    reason: line.reason,
    codeSeq: line.codeSeq,
    sameCode: line.sameCode,
    repeat: line.repeat,
    channel: line.channel,
    profile: line.profile,
    sender: line.sender,
    identity: line.identity,
    requestedAt: line.requestedAt,
    clientRequestedAt: line.clientRequestedAt,
    answeredAt: line.answeredAt,
    expiresAt: line.expiresAt,
    attempts: JSON.stringify(line.attempts),
    verifyOutcome: line.verify?.outcome ?? null,
    verifyValid: line.verify?.valid ?? null,
    verifyAt: line.verify?.at ?? null,
    verifyCount: line.verify?.count ?? null,
  };
  return CSV_COLUMNS.map((c) => csvCell(cells[c])).join(',');
}
