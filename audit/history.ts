/**
 * Decodes one otpSession run's history into the events audit/lines.ts reads.
 * Payloads are opened with the deployment's data converter (payload codec, then
 * the default payload converter); only the fields the export needs are kept, so
 * a send's number, context or contacts never leave this module (the number
 * only with the id key, and only when it hashes to the session id).
 */
import { defaultPayloadConverter, fromPayloadsAtIndex, type LoadedDataConverter, type Payload } from '@temporalio/common';
import { decodeArrayFromPayloads, decodeOptionalFailureToOptionalError } from '@temporalio/common/lib/internal-non-workflow';
import { tsToMs } from '@temporalio/common/lib/time';
import type { temporal } from '@temporalio/proto';
import { DELIVERY_RECEIPT_SIGNAL, SEND_UPDATE, VERIFY_UPDATE, isUnencrypted, type SendOtpResult, type VerifyOtpResult } from '../contract';
import { sessionWorkflowId } from '../contract/keys';
import type { AuditEvent, AuditReceipt } from './lines';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
type Payloads = temporal.api.common.v1.IPayloads | null | undefined;

/** Marker the TypeScript SDK records for each local activity (sendCode, retryCode). */
const LOCAL_ACTIVITY_MARKER = 'core_local_activity';
const FALLBACK_ACTIVITY = 'deliverFallback';

export interface DecodeRunOptions {
  converter: LoadedDataConverter;
  sessionId: string;
  runId: string;
  tenant: string;
  /** OTP_HASH_KEY. With it, a send's number is kept when sessionWorkflowId(idKey, tenant, number) is this session's id. */
  idKey?: string;
}

export interface DecodedRun {
  events: AuditEvent[];
  /** The session's input as it started: its tenant and the masked number (null when unreadable or plain). */
  input: { tenant: string; maskedPhone: string } | null;
  /** Run id this run continued as, if it did. */
  continuedAs: string | null;
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !isUnencrypted(v);
}

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function isSendResult(v: unknown): v is SendOtpResult {
  return isObject(v) && typeof v.status === 'string' && (v.status !== 'sent' || typeof v.codeSeq === 'number');
}

function isVerifyResult(v: unknown): v is VerifyOtpResult {
  return isObject(v) && typeof v.valid === 'boolean' && typeof v.outcome === 'string';
}

function receiptOf(v: unknown): AuditReceipt | null {
  if (!isObject(v)) return null;
  const { messageId, stat, outcome, err, receivedAt } = v;
  if (typeof messageId !== 'string' || typeof stat !== 'string' || (outcome !== 'delivered' && outcome !== 'failed' && outcome !== 'pending')) return null;
  return { messageId, stat, outcome, err: str(err) ?? '', receivedAt: str(receivedAt) ?? '' };
}

function iso(e: HistoryEvent): string {
  return new Date(tsToMs(e.eventTime)).toISOString();
}

/** A failure as "Type: message" (the project's failures name a problem, never a secret). */
async function failureText(converter: LoadedDataConverter, failure: temporal.api.failure.v1.IFailure | null | undefined): Promise<string> {
  const err = await decodeOptionalFailureToOptionalError(converter, failure);
  const type = failure?.applicationFailureInfo?.type;
  return [type, err?.message].filter(Boolean).join(': ') || 'failed';
}

export async function decodeRun(history: readonly HistoryEvent[], opts: DecodeRunOptions): Promise<DecodedRun> {
  const { converter } = opts;
  const first = async (p: Payloads): Promise<unknown> => (await decodeArrayFromPayloads(converter, p?.payloads as Payload[] | undefined))[0];
  const events: AuditEvent[] = [];
  let input: DecodedRun['input'] = null;
  let continuedAs: string | null = null;
  const fallbackIds = new Set<string>();
  /** Update name by update id: a completion names neither. */
  const updates = new Map<string, string>();

  for (const e of history) {
    const at = iso(e);
    if (e.workflowExecutionStartedEventAttributes) {
      const i = await first(e.workflowExecutionStartedEventAttributes.input);
      const tenant = isObject(i) ? str(i.tenant) : null;
      const maskedPhone = isObject(i) ? str(i.maskedPhone) : null;
      if (tenant !== null && maskedPhone !== null) input = { tenant, maskedPhone };
    } else if (e.workflowExecutionUpdateAcceptedEventAttributes) {
      const req = e.workflowExecutionUpdateAcceptedEventAttributes.acceptedRequest;
      updates.set(req?.meta?.updateId ?? '', req?.input?.name ?? '');
      if (req?.input?.name !== SEND_UPDATE) continue;
      const args = await first(req.input.args);
      const phone = isObject(args) && typeof args.phone === 'string' ? args.phone : null;
      const shown = opts.idKey !== undefined && phone !== null && sessionWorkflowId(opts.idKey, opts.tenant, phone) === opts.sessionId ? phone : null;
      events.push({
        kind: 'sendAccepted',
        at,
        runId: opts.runId,
        updateId: req.meta?.updateId ?? '',
        identity: req.meta?.identity || null,
        phone: shown,
        clientRequestedAt: isObject(args) ? str(args.requestedAt) : null,
      });
    } else if (e.workflowExecutionUpdateCompletedEventAttributes) {
      const { meta, outcome } = e.workflowExecutionUpdateCompletedEventAttributes;
      const updateId = meta?.updateId ?? '';
      const name = updates.get(updateId);
      if (name !== SEND_UPDATE && name !== VERIFY_UPDATE) continue;
      const value = outcome?.success ? await first(outcome.success) : undefined;
      const failure = outcome?.failure ? await failureText(converter, outcome.failure) : 'unreadable answer';
      if (name === SEND_UPDATE)
        events.push(
          isSendResult(value)
            ? { kind: 'sendCompleted', at, updateId, result: value, failure: null }
            : { kind: 'sendCompleted', at, updateId, result: null, failure },
        );
      else
        events.push(
          isVerifyResult(value) ? { kind: 'verifyCompleted', at, result: value, failure: null } : { kind: 'verifyCompleted', at, result: null, failure },
        );
    } else if (e.markerRecordedEventAttributes?.markerName === LOCAL_ACTIVITY_MARKER) {
      const { details } = e.markerRecordedEventAttributes;
      if (!details?.result) continue;
      // Core writes the marker's data in the clear (no codec): it holds the activity type, never a payload.
      const data: unknown = fromPayloadsAtIndex(defaultPayloadConverter, 0, details.data?.payloads as Payload[] | undefined);
      const type = isObject(data) ? data.activity_type : undefined;
      const result = await first(details.result);
      if (!isObject(result)) continue;
      if (type === 'sendCode' && result.status === 'ok') {
        if (result.kind === 'sms') {
          const render = isObject(result.render) ? result.render : {};
          events.push({
            kind: 'smsDispatched',
            at,
            activity: 'sendCode',
            route: str(result.route) ?? '',
            messageIds: strings(result.messageIds),
            senderId: str(render.senderId),
          });
        } else if (result.kind === 'webhook') events.push({ kind: 'webhookDelivered', at, delivered: result.delivered === true });
      } else if (type === 'retryCode') {
        if (isObject(result.dispatched))
          events.push({
            kind: 'smsDispatched',
            at,
            activity: 'retryCode',
            route: str(result.dispatched.route) ?? '',
            messageIds: strings(result.dispatched.messageIds),
            senderId: null,
          });
        if (Array.isArray(result.receipts))
          for (const r of result.receipts) {
            const receipt = receiptOf(r);
            if (receipt) events.push({ kind: 'receipt', at, receipt });
          }
      }
    } else if (e.workflowExecutionSignaledEventAttributes?.signalName === DELIVERY_RECEIPT_SIGNAL) {
      const receipt = receiptOf(await first(e.workflowExecutionSignaledEventAttributes.input));
      if (receipt) events.push({ kind: 'receipt', at, receipt });
    } else if (e.activityTaskScheduledEventAttributes?.activityType?.name === FALLBACK_ACTIVITY) {
      const i = await first(e.activityTaskScheduledEventAttributes.input);
      const id = String(e.eventId);
      if (isObject(i) && (i.channel === 'email' || i.channel === 'webhook') && typeof i.codeSeq === 'number') {
        fallbackIds.add(id);
        events.push({ kind: 'fallbackScheduled', at, scheduledEventId: id, channel: i.channel, codeSeq: i.codeSeq });
      }
    } else if (e.activityTaskCompletedEventAttributes && fallbackIds.has(String(e.activityTaskCompletedEventAttributes.scheduledEventId))) {
      const r = await first(e.activityTaskCompletedEventAttributes.result);
      events.push({
        kind: 'fallbackDone',
        at,
        scheduledEventId: String(e.activityTaskCompletedEventAttributes.scheduledEventId),
        ok: true,
        id: isObject(r) ? str(r.id) : null,
        failure: null,
      });
    } else if (e.activityTaskFailedEventAttributes && fallbackIds.has(String(e.activityTaskFailedEventAttributes.scheduledEventId))) {
      // The type only: an SMTP or HTTP error may quote the address.
      const type =
        e.activityTaskFailedEventAttributes.failure?.cause?.applicationFailureInfo?.type ??
        e.activityTaskFailedEventAttributes.failure?.applicationFailureInfo?.type ??
        'failed';
      events.push({
        kind: 'fallbackDone',
        at,
        scheduledEventId: String(e.activityTaskFailedEventAttributes.scheduledEventId),
        ok: false,
        id: null,
        failure: type,
      });
    } else if (e.activityTaskTimedOutEventAttributes && fallbackIds.has(String(e.activityTaskTimedOutEventAttributes.scheduledEventId))) {
      events.push({
        kind: 'fallbackDone',
        at,
        scheduledEventId: String(e.activityTaskTimedOutEventAttributes.scheduledEventId),
        ok: false,
        id: null,
        failure: 'timeout',
      });
    } else if (e.workflowExecutionContinuedAsNewEventAttributes) {
      continuedAs = e.workflowExecutionContinuedAsNewEventAttributes.newExecutionRunId || null;
    }
  }
  return { events, input, continuedAs };
}
