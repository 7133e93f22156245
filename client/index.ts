/**
 * Typed helper for Node backends: send / verify / status over the contract.
 * Phone numbers are normalised to E.164 here; the session id is a keyed hash
 * of the number, and codes (entered, or the caller's own) travel sealed for
 * the workers: nothing a client holds can open them again.
 */
import { randomInt, randomUUID } from 'node:crypto';
import {
  Client,
  Connection,
  ServiceError,
  WithStartWorkflowOperation,
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  isGrpcCancelledError,
  isGrpcDeadlineError,
  isGrpcServiceError,
  type ConnectionOptions,
} from '@temporalio/client';
import type { temporal } from '@temporalio/proto';

import type { DataConverter } from '@temporalio/common';
import {
  DEFAULT_TENANT,
  MAX_CODE_LENGTH,
  isTransientErrorType,
  sendRequestProblem,
  verifyRequestProblem,
  MIN_CODE_LENGTH,
  CATALOG_WORKFLOW,
  catalogWorkflowId,
  OTP_SESSION_WORKFLOW,
  SENDER_APPROVAL_WORKFLOW,
  SESSION_VERSION,
  SESSION_WORKFLOW_TASK_TIMEOUT_MS,
  SESSION_MEMO_MASKED_PHONE,
  OTP_SEARCH_ATTRIBUTES,
  OTP_SEARCH_STATUSES,
  sessionStartSearchAttributes,
  NAME_PATTERN,
  NAME_RULE,
  approveRevisionUpdate,
  proposeRevisionUpdate,
  rejectRevisionUpdate,
  revisionsQuery,
  senderApprovalWorkflowId,
  cancelUpdate,
  sendUpdate,
  statusQuery,
  verifyUpdate,
  type OtpCatalog,
  type OtpPurpose,
  type OtpSessionInput,
  type OtpSessionStatus,
  type SendOtpRequest,
  type CancelOtpResult,
  type SendAccepted,
  type SendOtpResult,
  type SenderApprovalInput,
  type SenderRevision,
  type VerifyOtpResult,
  type RecentSend,
  type RecentSendsPage,
  type DeliveryStatus,
} from '../contract';
import { decodeTypedSearchAttributes } from '@temporalio/common/lib/converter/payload-search-attributes';
import { decodeMapFromPayloads, loadDataConverter } from '@temporalio/common/lib/internal-non-workflow';
import {
  InvalidPhoneError,
  assertTenant,
  couldBeCode,
  maskPhone,
  normalizeCode,
  normalizePhone,
  parseSealPublicKey,
  sealCode,
  sessionWorkflowId,
  type SealKey,
} from '../contract/keys';
import type { OtpConfig } from '../config/config';
import { AesGcmPayloadCodec, type PayloadKey } from '../codec/payload-codec';
import { SendLimiter } from './send-limiter';

export { DEFAULT_CLIENT_MAX_SENDS_IN_FLIGHT, DEFAULT_CLIENT_SEND_TARGET_MS, SendLimiter } from './send-limiter';

export * from '../contract';
export { verifyWebhookSignature, webhookSignature, WEBHOOK_MAX_SKEW_SECONDS } from '../contract/keys';

/** TASK_QUEUE_TYPE_WORKFLOW, for describeTaskQueue (the proto package is only a type import: not a run-time dependency). */
export const WORKFLOW_TASK_QUEUE = 1 as temporal.api.enums.v1.TaskQueueType;

/** Public-mode verify answers take at least this long (see OtpClientOptions.publicAnswerFloorMs). */
export const DEFAULT_PUBLIC_ANSWER_FLOOR_MS = 300;
/** Longest a send, verify, cancel or catalog call waits (see OtpClientOptions.callTimeoutMs). */
export const DEFAULT_CALL_TIMEOUT_MS = 10_000;

/** The catalog workflow times out this long after the call would have: see OtpClient.catalog. */
const CATALOG_TIMEOUT_MARGIN_MS = 5_000;

/** The data converter every client and worker of one deployment must share. */
export function otpDataConverter(payloadKeys: PayloadKey[]): DataConverter {
  return { payloadCodecs: [new AesGcmPayloadCodec(payloadKeys)], failureConverterPath: require.resolve('../codec/failure-converter') };
}

export interface OtpClientOptions {
  /** A Temporal client built with `otpDataConverter(...)`. */
  client: Client;
  taskQueue: string;
  /** OTP_HASH_KEY (the id key): must equal the worker's. */
  hashKey: string;
  /** OTP_HASH_KEY_PREVIOUS: verify, status and cancel also look for sessions made under these. */
  previousHashKeys?: string[];
  /** OTP_SEAL_PUBLIC_KEY: base64 DER (SPKI) of the workers' RSA public key. */
  sealPublicKey: string;
  /**
   * Public-mode verify answers take at least this long, so a number with a
   * live session cannot be told from one without by the time the answer takes.
   * @default 300
   */
  publicAnswerFloorMs?: number;
  /**
   * The instant a code is sealed at (sessions take a sealed code for 10 minutes
   * of their own time). Tests on a time-skipping server pass its clock.
   * @default Date.now
   */
  sealClock?: () => number | Promise<number>;
  /**
   * Longest a send, verify, cancel or catalog call waits for its answer. Past it the call
   * fails with an OtpRequestError (type "Timeout") that names the cause, e.g.
   * "no OTP worker is polling task queue 'otp' on 127.0.0.1:7233". A send that
   * reaches a worker later is refused there as too old (OTP_MAX_SEND_WAIT_MS): no late SMS.
   * @default 10000
   */
  callTimeoutMs?: number;
  /** The server's host:port, for error messages. */
  address?: string;
  /** Tenant used when a call names none. Default "default". */
  tenant?: string;
  /** Region for numbers written without "+", e.g. "FR". Default: none. */
  defaultRegion?: string;
  /**
   * Most sends this client has in flight at once; past its adaptive limit
   * (see send-limiter.ts) `send` answers `overloaded` (reason client_busy) at
   * once, without calling Temporal.
   * @default 64
   */
  maxSendsInFlight?: number;
  /** Sends slower than this shrink the adaptive limit (see send-limiter.ts). @default 500 */
  sendLatencyTargetMs?: number;
  /**
   * Who this client proposes, approves and rejects sender revisions as, when a call names no `by`
   * (e.g. "backend:billing-service" or the signed-in operator's e-mail). Asserted, not proven:
   * see docs/policy-profiles.md, "Sender approval".
   */
  identity?: string;
}

/** Options of the sender approval calls. */
export interface RevisionCallOptions {
  tenant?: string;
  /** The identity acting; default OtpClientOptions.identity. */
  by?: string;
  /** Why, for the trail (at most 500 characters). */
  note?: string;
}

/**
 * `channel`: "sms" (default); "custom" (the code comes back to the caller, who delivers it);
 * "webhook" (the workers POST the code, signed, to the profile's deliveryWebhookUrl, and the
 * answer carries no code; check the POST with verifyWebhookSignature). See SendOtpRequest.channel.
 */
export interface SendOptions extends Omit<SendOtpRequest, 'phone' | 'sealedCode'> {
  tenant?: string;
  /** The caller's own code (trigger mode, or channel "custom"); sealed here before it leaves. Refused with channel "webhook". */
  code?: string;
  /** Becomes the update id: the same key within 24 h returns the first answer and sends nothing new. */
  idempotencyKey?: string;
  /** Channel "custom" without a `code`: length of the numeric code made here with a CSPRNG. Default 6 (6–10). */
  customCodeLength?: number;
}

/** A custom-channel send: the code to deliver comes back to the caller, and only to the caller. */
export type CustomSendResult = SendAccepted & { code: string };

/**
 * "full" (default) returns every outcome. "public" is for answers that reach
 * the public: every failure reads { valid: false, outcome: "rejected" } with
 * no attempt count, so responses cannot tell registered numbers, expired
 * codes, locks and typos apart.
 */
export type ResponseMode = 'full' | 'public';

export interface CallOptions {
  tenant?: string;
  idempotencyKey?: string;
}

export interface VerifyOptions extends CallOptions {
  responseMode?: ResponseMode;
  /** What the code must confirm: the purpose of the profile it was sent under. @default "login" */
  purpose?: OtpPurpose;
  /** Optionally, the exact profile it must have been sent under. */
  profile?: string;
  /** The context line the code was sent with (transaction profiles). */
  context?: string;
}

export interface PublicVerifyResult {
  valid: boolean;
  outcome: 'verified' | 'rejected';
}

/** A request Temporal or the session refused; `message` says why, without secrets. */
/**
 * Sessions per page of `recentSends`.
 * @default 20
 */
export const DEFAULT_RECENT_PAGE_SIZE = 20;
export const MAX_RECENT_PAGE_SIZE = 100;

export interface RecentSendsOptions {
  /** @default the client's tenant */
  tenant?: string;
  /** Only sessions of this profile (name without revision). */
  profile?: string;
  /** Only sessions in this state: one of OTP_SEARCH_STATUSES (pending, delivered, failed, verified, …). */
  status?: string;
  /** 1–100. @default 20 */
  pageSize?: number;
  /** `nextPageToken` of the previous page. */
  pageToken?: string;
}

function timestampIso(t: temporal.api.workflow.v1.IWorkflowExecutionInfo['startTime']): string | null {
  if (!t?.seconds) return null;
  return new Date(Number(t.seconds) * 1000 + Math.floor((t.nanos ?? 0) / 1e6)).toISOString();
}

/**
 * A request Temporal or the session refused; `message` says why, without secrets. `type` is always
 * set: `transient` ones (TRANSIENT_ERROR_TYPES: Timeout, Unavailable, TooManyRequests) may succeed
 * if retried later; the rest (InvalidRequest, DispatchFailed, SelfApproval…) are permanent.
 */
export class OtpRequestError extends Error {
  constructor(
    message: string,
    readonly type: string,
  ) {
    super(message);
    this.name = 'OtpRequestError';
  }

  /** Whether the same request may succeed later (retry with backoff); otherwise fix the request. */
  get transient(): boolean {
    return isTransientErrorType(this.type);
  }
}

/** gRPC status codes the server answers a refused call with (https://grpc.github.io/grpc/core/md_doc_statuscodes.html). */
const GRPC_INVALID_ARGUMENT = 3;
const GRPC_RESOURCE_EXHAUSTED = 8;
const GRPC_UNAVAILABLE = 14;

function grpcCode(err: unknown): number | undefined {
  const e = err instanceof ServiceError ? err.cause : err;
  return isGrpcServiceError(e) ? e.code : undefined;
}

/** Every failure of a call becomes an OtpRequestError with a type, or is rethrown as it is when it is not the request's. */
function explain(err: unknown): never {
  if (err instanceof OtpRequestError) throw err;
  if (err instanceof WorkflowUpdateFailedError) {
    const cause = err.cause as (Error & { type?: string | null }) | undefined;
    // A validator of an older worker throws a plain Error (type "Error"): permanent like the rest.
    throw new OtpRequestError(cause?.message ?? err.message, cause?.type || 'InvalidRequest');
  }
  const code = grpcCode(err);
  // The server's own limits (e.g. an update id or payload too large): first line only, it may quote the request.
  const message = err instanceof Error ? err.message.split('\n')[0].slice(0, 300) : String(err);
  if (code === GRPC_INVALID_ARGUMENT) throw new OtpRequestError(`Temporal refused the request: ${message}`, 'InvalidRequest');
  if (code === GRPC_UNAVAILABLE || code === GRPC_RESOURCE_EXHAUSTED) throw new OtpRequestError(`Temporal is unavailable or busy: ${message}`, 'Unavailable');
  throw err;
}

/** A request that can never succeed as written: refused before any call. */
function refuseRequest(problem: string | undefined): void {
  if (problem) throw new OtpRequestError(problem, 'InvalidRequest');
}

export class OtpClient {
  readonly temporal: Client;
  private readonly opts: OtpClientOptions;
  private readonly seal: SealKey;
  /** Adaptive bound on sends in flight; shared by clients made with withDefaultRegion(). */
  readonly limiter: SendLimiter;

  constructor(options: OtpClientOptions, limiter?: SendLimiter) {
    this.opts = options;
    this.temporal = options.client;
    this.seal = parseSealPublicKey(options.sealPublicKey);
    this.limiter = limiter ?? new SendLimiter({ max: options.maxSendsInFlight, targetMs: options.sendLatencyTargetMs });
  }

  /** Runs a Temporal call under the call timeout; a timeout becomes an OtpRequestError that says why. */
  private async bounded<T>(call: () => Promise<T>): Promise<T> {
    const ms = this.opts.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    try {
      return await this.temporal.withDeadline(Date.now() + ms, call);
    } catch (err) {
      // The deadline shows as a gRPC deadline or cancel, or as the update's own timeout error.
      if (isGrpcDeadlineError(err) || isGrpcCancelledError(err) || err instanceof WorkflowUpdateRPCTimeoutOrCancelledError)
        throw new OtpRequestError(await this.whyUnanswered(ms), 'Timeout');
      throw err;
    }
  }

  /** Names the likely cause of a call that got no answer: no worker on the task queue, or a busy one. */
  private async whyUnanswered(ms: number): Promise<string> {
    const where = `task queue '${this.opts.taskQueue}' on ${this.opts.address ?? 'the Temporal server'}`;
    try {
      const { pollers } = await this.temporal.withDeadline(Date.now() + 3000, () =>
        this.temporal.workflowService.describeTaskQueue({
          namespace: this.temporal.options.namespace,
          taskQueue: { name: this.opts.taskQueue },
          taskQueueType: WORKFLOW_TASK_QUEUE,
        }),
      );
      if (!pollers?.length) return `no OTP worker is polling ${where}: start the workers, or check the task queue name`;
      return `the OTP workers on ${where} did not answer within ${ms} ms (busy, or the server is slow)`;
    } catch {
      return `no answer within ${ms} ms from ${where}`;
    }
  }

  private async sealNow(): Promise<number> {
    return this.opts.sealClock ? await this.opts.sealClock() : Date.now();
  }

  /** The same client, reading numbers without "+" in `region` (e.g. "FR"). */
  withDefaultRegion(region: string): OtpClient {
    return new OtpClient({ ...this.opts, defaultRegion: region }, this.limiter);
  }

  /** The same client, waiting at most `ms` for each send, verify or cancel. */
  withCallTimeout(ms: number): OtpClient {
    return new OtpClient({ ...this.opts, callTimeoutMs: ms }, this.limiter);
  }

  /** The same client, acting as `identity` in sender approval calls (e.g. the signed-in operator). */
  withIdentity(identity: string): OtpClient {
    return new OtpClient({ ...this.opts, identity }, this.limiter);
  }

  /** E.164 form of `phone`, or an InvalidPhoneError. */
  normalize(phone: string): string {
    return normalizePhone(phone, this.opts.defaultRegion);
  }

  sessionId(phone: string, tenant = this.opts.tenant ?? DEFAULT_TENANT): string {
    return sessionWorkflowId(this.opts.hashKey, tenant, this.normalize(phone));
  }

  /** The session id under the current id key, then under each key it replaced. */
  private sessionIds(phone: string, tenant = this.opts.tenant ?? DEFAULT_TENANT): string[] {
    const e164 = this.normalize(phone);
    return [this.opts.hashKey, ...(this.opts.previousHashKeys ?? [])].map((k) => sessionWorkflowId(k, tenant, e164));
  }

  /**
   * Sends a code. Refusals (rate limits, blocked or invalid numbers) come back
   * as typed results; requests that can never succeed as written throw an
   * OtpRequestError of type InvalidRequest, and a dispatch that failed (the
   * SMSC refused it, or a channel "webhook" POST got no 2xx) one of type DispatchFailed.
   */
  async send(phone: string, options: SendOptions = {}): Promise<SendOtpResult> {
    const { tenant = this.opts.tenant ?? DEFAULT_TENANT, idempotencyKey, customCodeLength, code: givenCode, ...rest } = options;
    let code = givenCode;
    if (rest.channel === 'custom' && code === undefined) {
      // Made here with a CSPRNG and sealed: only this answer and the workers ever see it.
      const length = customCodeLength ?? 6;
      if (!Number.isInteger(length) || length < MIN_CODE_LENGTH || length > MAX_CODE_LENGTH)
        throw new OtpRequestError(`customCodeLength must be an integer from ${MIN_CODE_LENGTH} to ${MAX_CODE_LENGTH}`, 'InvalidRequest');
      code = Array.from({ length }, () => String(randomInt(10))).join('');
    }
    assertTenant(tenant);
    // A code that cannot be one (a number, a megabyte) would fail in sealing, untyped.
    if (code !== undefined && (typeof code !== 'string' || !couldBeCode(code)))
      throw new OtpRequestError(`code must be a string of ${MIN_CODE_LENGTH}–${MAX_CODE_LENGTH} letters or digits`, 'InvalidRequest');
    let e164: string;
    try {
      e164 = this.normalize(phone);
    } catch (err) {
      if (err instanceof InvalidPhoneError) return { status: 'invalid_number', reason: err.detail };
      throw err;
    }
    // The session's validator refuses the same (and Temporal an update id past its limit, untyped).
    refuseRequest(sendRequestProblem({ ...rest, phone: e164, idempotencyKey }));
    const workflowId = sessionWorkflowId(this.opts.hashKey, tenant, e164);
    const input: OtpSessionInput = { tenant, maskedPhone: maskPhone(e164), v: SESSION_VERSION };
    const start = new WithStartWorkflowOperation<(i: OtpSessionInput) => Promise<OtpSessionStatus>>(OTP_SESSION_WORKFLOW, {
      workflowId,
      taskQueue: this.opts.taskQueue,
      args: [input],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowTaskTimeout: SESSION_WORKFLOW_TASK_TIMEOUT_MS,
      // For recipients listings (recentSends); encrypted by the payload codec like every payload.
      memo: { [SESSION_MEMO_MASKED_PHONE]: input.maskedPhone },
      // Indexed with the start (no history event); the session writes the rest at its next step.
      typedSearchAttributes: sessionStartSearchAttributes(tenant, input.maskedPhone),
    });
    // Admission: past the bound, refuse now rather than queue behind a busy server.
    if (!this.limiter.tryAcquire())
      return { sessionId: workflowId, status: 'overloaded', reason: 'client_busy', maskedPhone: maskPhone(e164), retryAfterSeconds: 1 };
    let result: SendOtpResult;
    const startedAt = Date.now();
    const requestedAt = new Date(startedAt).toISOString();
    try {
      const sealed = code !== undefined ? { sealedCode: sealCode(this.seal, workflowId, code, 'send', await this.sealNow()) } : {};
      result = await this.bounded(() =>
        this.temporal.workflow.executeUpdateWithStart(sendUpdate, {
          args: [{ ...rest, phone: e164, idempotencyKey, requestedAt, ...sealed }],
          // The session dedupes by idempotencyKey; the update id is per attempt, so that a retry
          // after an `overloaded` answer (never kept under the key) gets a real try.
          updateId: idempotencyKey !== undefined ? `${idempotencyKey}@${requestedAt}` : undefined,
          startWorkflowOperation: start,
        }),
      );
    } catch (err) {
      explain(err);
    } finally {
      this.limiter.release(Date.now() - startedAt);
    }
    if (result.status === 'sent' && result.channel === 'custom' && code !== undefined) {
      const custom: CustomSendResult = { ...result, code: normalizeCode(code) };
      return custom;
    }
    return result;
  }

  /** Cancels the current code: it stops verifying and is not re-sent. */
  async cancel(phone: string, options: Omit<CallOptions, 'idempotencyKey'> = {}): Promise<CancelOtpResult> {
    const ids = this.sessionIds(phone, options.tenant);
    for (const workflowId of ids) {
      try {
        return await this.bounded(() => this.temporal.workflow.getHandle(workflowId).executeUpdate(cancelUpdate, { args: [{}] }));
      } catch (err) {
        if (!isGone(err)) explain(err);
      }
    }
    return { sessionId: ids[0], cancelled: false };
  }

  /** Verifies by session id (from a send result) instead of the phone number. */
  async verifySession(sessionId: string, code: string, options: Omit<VerifyOptions, 'tenant'> = {}): Promise<VerifyOtpResult | PublicVerifyResult> {
    checkVerifyRequest(code, options);
    if (typeof sessionId !== 'string' || !/^otp-[A-Za-z0-9_.-]{1,64}-[A-Za-z0-9_-]{32}$/.test(sessionId))
      throw new OtpRequestError('sessionId must be the sessionId a send returned (otp-<tenant>-<hash>)', 'InvalidRequest');
    return this.answer(Date.now(), await this.verifyWorkflow(sessionId, code, options), options.responseMode);
  }

  /** Public answers say only valid or not, and never sooner than the floor. */
  private async answer(startedAt: number, full: VerifyOtpResult, mode: ResponseMode | undefined): Promise<VerifyOtpResult | PublicVerifyResult> {
    if (mode !== 'public') return full;
    const wait = startedAt + (this.opts.publicAnswerFloorMs ?? DEFAULT_PUBLIC_ANSWER_FLOOR_MS) - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    return { valid: full.valid, outcome: full.valid ? 'verified' : 'rejected' };
  }

  verify(phone: string, code: string, options: VerifyOptions & { responseMode: 'public' }): Promise<PublicVerifyResult>;
  verify(phone: string, code: string, options?: VerifyOptions): Promise<VerifyOtpResult>;
  async verify(phone: string, code: string, options: VerifyOptions = {}): Promise<VerifyOtpResult | PublicVerifyResult> {
    checkVerifyRequest(code, options);
    const startedAt = Date.now();
    return this.answer(startedAt, await this.verifyFull(phone, code, options), options.responseMode);
  }

  private async verifyFull(phone: string, code: string, options: VerifyOptions): Promise<VerifyOtpResult> {
    let ids: string[];
    try {
      ids = this.sessionIds(phone, options.tenant);
    } catch (err) {
      if (err instanceof InvalidPhoneError) return { sessionId: '', valid: false, outcome: 'not_found', attemptsRemaining: 0 };
      throw err;
    }
    let result: VerifyOtpResult | undefined;
    // After an id key rotation, a session made under the old key is still found.
    for (const id of ids) {
      result = await this.verifyWorkflow(id, code, options);
      if (result.outcome !== 'not_found') return result;
    }
    return { ...result!, sessionId: ids[0] };
  }

  private async verifyWorkflow(workflowId: string, code: string, options: VerifyOptions): Promise<VerifyOtpResult> {
    // Empty, "-", a megabyte, control characters: wrong without asking the session, so no attempt is used.
    if (!couldBeCode(code)) return { sessionId: workflowId, valid: false, outcome: 'invalid_code', attemptsRemaining: 0 };
    const { purpose, profile, context, idempotencyKey } = options;
    try {
      // No update id: Temporal would answer a repeated id with the first result whatever the code.
      // The session itself keeps answers by idempotencyKey, bound to the request.
      const sealedCode = sealCode(this.seal, workflowId, code, 'verify', await this.sealNow());
      return await this.bounded(() =>
        this.temporal.workflow.getHandle(workflowId).executeUpdate(verifyUpdate, { args: [{ sealedCode, purpose, profile, context, idempotencyKey }] }),
      );
    } catch (err) {
      if (isGone(err)) return { sessionId: workflowId, valid: false, outcome: 'not_found', attemptsRemaining: 0 };
      explain(err);
    }
  }

  /**
   * What the workers polling this task queue know: each profile with its locales, default
   * locale and channels (for n8n dropdowns). Runs the short otpCatalog workflow; with no
   * worker polling it fails like a send, with an OtpRequestError of type "Timeout".
   */
  async catalog(): Promise<OtpCatalog> {
    const ms = this.opts.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    try {
      return await this.bounded(() =>
        this.temporal.workflow.execute<() => Promise<OtpCatalog>>(CATALOG_WORKFLOW, {
          workflowId: catalogWorkflowId(randomUUID()),
          taskQueue: this.opts.taskQueue,
          // Outlives the call a little, so the client's timeout (which names the cause) comes first;
          // then it ends on its own and no worker picks up a stale request.
          workflowExecutionTimeout: ms + CATALOG_TIMEOUT_MARGIN_MS,
        }),
      );
    } catch (err) {
      if (err instanceof WorkflowFailedError)
        throw new OtpRequestError(
          `catalog failed: ${err.cause?.message ?? err.message}`,
          (err.cause as { type?: string } | undefined)?.type ?? 'CatalogFailed',
        );
      throw err;
    }
  }

  /**
   * Proposes the profile's revision as the workers have it now (its content hash is computed by a
   * worker, never taken from the caller). Another identity must approve it before it sends.
   */
  async proposeRevision(profile: string, options: RevisionCallOptions = {}): Promise<SenderRevision> {
    return this.approvalUpdate('propose', { profile, by: this.identity(options), note: options.note }, options.tenant);
  }

  /**
   * Approves a proposed revision (`contentHash`: the 64 hex digits, or a prefix of at least 8 that
   * names one revision of the profile). Refused with an OtpRequestError of type SelfApproval when
   * `by` proposed it, RevisionNotFound or InvalidState otherwise; a refusal leaves no trace in history.
   */
  async approveRevision(profile: string, contentHash: string, options: RevisionCallOptions = {}): Promise<SenderRevision> {
    return this.approvalUpdate(
      'approve',
      { profile, contentHash: await this.fullHash(profile, contentHash, options.tenant), by: this.identity(options), note: options.note },
      options.tenant,
    );
  }

  /** Rejects a proposed revision, or revokes an approved one; same rules as approveRevision. */
  async rejectRevision(profile: string, contentHash: string, options: RevisionCallOptions = {}): Promise<SenderRevision> {
    return this.approvalUpdate(
      'reject',
      { profile, contentHash: await this.fullHash(profile, contentHash, options.tenant), by: this.identity(options), note: options.note },
      options.tenant,
    );
  }

  /** The tenant's approval trail, oldest first (`profile` narrows it); [] when nothing was ever proposed. */
  async senderRevisions(options: { tenant?: string; profile?: string } = {}): Promise<SenderRevision[]> {
    const tenant = options.tenant ?? this.opts.tenant ?? DEFAULT_TENANT;
    assertTenant(tenant);
    const handle = this.temporal.workflow.getHandle(senderApprovalWorkflowId(tenant));
    try {
      return await this.bounded(() => handle.query(revisionsQuery, options.profile !== undefined ? { profile: options.profile } : {}));
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return [];
      throw err;
    }
  }

  private identity(options: RevisionCallOptions): string {
    const by = options.by ?? this.opts.identity;
    if (!by?.trim()) throw new OtpRequestError("name who acts: pass `by`, or set the client's `identity`", 'InvalidRequest');
    return by;
  }

  /** A hash prefix names the one revision of the profile it starts. */
  private async fullHash(profile: string, hash: string, tenant?: string): Promise<string> {
    const h = hash.trim().toLowerCase();
    if (/^[0-9a-f]{64}$/.test(h)) return h;
    if (!/^[0-9a-f]{8,63}$/.test(h)) throw new OtpRequestError('contentHash must be hex: the 64 digits, or a prefix of at least 8', 'InvalidRequest');
    const matches = (await this.senderRevisions({ tenant, profile })).filter((r) => r.contentHash.startsWith(h));
    if (matches.length !== 1)
      throw new OtpRequestError(
        matches.length
          ? `contentHash prefix ${h} names ${matches.length} revisions of profile "${profile}": give more digits`
          : `no revision of profile "${profile}" starts with ${h}`,
        matches.length ? 'InvalidRequest' : 'RevisionNotFound',
      );
    return matches[0].contentHash;
  }

  /** Every approval change is an update-with-start on the tenant's approval workflow. */
  private async approvalUpdate(
    kind: 'propose' | 'approve' | 'reject',
    request: { profile: string; by: string; note?: string; contentHash?: string },
    tenant = this.opts.tenant ?? DEFAULT_TENANT,
  ): Promise<SenderRevision> {
    assertTenant(tenant);
    const input: SenderApprovalInput = { tenant };
    const start = new WithStartWorkflowOperation<(i: SenderApprovalInput) => Promise<void>>(SENDER_APPROVAL_WORKFLOW, {
      workflowId: senderApprovalWorkflowId(tenant),
      taskQueue: this.opts.taskQueue,
      args: [input],
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
    const req = Object.fromEntries(Object.entries(request).filter(([, v]) => v !== undefined)) as typeof request;
    try {
      if (kind === 'propose')
        return await this.bounded(() => this.temporal.workflow.executeUpdateWithStart(proposeRevisionUpdate, { args: [req], startWorkflowOperation: start }));
      const update = kind === 'approve' ? approveRevisionUpdate : rejectRevisionUpdate;
      return await this.bounded(() =>
        this.temporal.workflow.executeUpdateWithStart(update, { args: [{ ...req, contentHash: req.contentHash! }], startWorkflowOperation: start }),
      );
    } catch (err) {
      explain(err);
    }
  }

  /**
   * Recipients listing (as the seed's recipients API): the tenant's sessions, newest first, with
   * their delivery and verification state from visibility, a page at a time. Filters by profile
   * and status (`OTP_SEARCH_STATUSES`). Needs the session search attributes on the namespace.
   */
  async recentSends(options: RecentSendsOptions = {}): Promise<RecentSendsPage> {
    const tenant = options.tenant ?? this.opts.tenant ?? DEFAULT_TENANT;
    assertTenant(tenant);
    const pageSize = options.pageSize ?? DEFAULT_RECENT_PAGE_SIZE;
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_RECENT_PAGE_SIZE)
      throw new OtpRequestError(`pageSize must be an integer from 1 to ${MAX_RECENT_PAGE_SIZE}`, 'InvalidRequest');
    // This deployment's task queue too: deployments sharing a namespace may share tenant names.
    if (!/^[A-Za-z0-9_.:\/-]{1,200}$/.test(this.opts.taskQueue))
      throw new OtpRequestError(`task queue "${this.opts.taskQueue}" cannot be listed`, 'InvalidRequest');
    const clauses = [`WorkflowType = '${OTP_SESSION_WORKFLOW}'`, `TaskQueue = '${this.opts.taskQueue}'`, `${OTP_SEARCH_ATTRIBUTES.tenant.name} = '${tenant}'`];
    if (options.profile !== undefined) {
      if (typeof options.profile !== 'string' || !NAME_PATTERN.test(options.profile))
        throw new OtpRequestError(`profile is not a profile name (${NAME_RULE})`, 'InvalidRequest');
      clauses.push(`${OTP_SEARCH_ATTRIBUTES.profile.name} = '${options.profile}'`);
    }
    if (options.status !== undefined) {
      if (!(OTP_SEARCH_STATUSES as readonly string[]).includes(options.status))
        throw new OtpRequestError(`status must be one of ${OTP_SEARCH_STATUSES.join(', ')}`, 'InvalidRequest');
      clauses.push(`${OTP_SEARCH_ATTRIBUTES.status.name} = '${options.status}'`);
    }
    let nextPageToken: Uint8Array | undefined;
    if (options.pageToken) {
      if (!/^[A-Za-z0-9_-]+$/.test(options.pageToken)) throw new OtpRequestError('pageToken is not a token this listing gave', 'InvalidRequest');
      nextPageToken = Buffer.from(options.pageToken, 'base64url');
    }
    const res = await this.bounded(() =>
      this.temporal.workflowService.listWorkflowExecutions({
        namespace: this.temporal.options.namespace,
        query: clauses.join(' AND '),
        pageSize,
        nextPageToken,
      }),
    );
    this.converter ??= loadDataConverter(this.temporal.options.dataConverter);
    const converter = this.converter;
    const sends = await Promise.all(
      (res.executions ?? []).map(async (e): Promise<RecentSend> => {
        const attrs = decodeTypedSearchAttributes(e.searchAttributes?.indexedFields);
        let maskedPhone: string | null = null;
        try {
          const memo = await decodeMapFromPayloads(converter, e.memo?.fields);
          const m = memo?.[SESSION_MEMO_MASKED_PHONE];
          if (typeof m === 'string') maskedPhone = m;
        } catch {
          // A memo this client cannot open (another deployment's key): no number, still listed.
        }
        const expires = attrs.get(OTP_SEARCH_ATTRIBUTES.codeExpiresAt);
        return {
          sessionId: e.execution?.workflowId ?? '',
          maskedPhone,
          status: attrs.get(OTP_SEARCH_ATTRIBUTES.status) ?? null,
          delivery: (attrs.get(OTP_SEARCH_ATTRIBUTES.delivery) as DeliveryStatus | undefined) ?? null,
          channel: attrs.get(OTP_SEARCH_ATTRIBUTES.channel) ?? null,
          profile: attrs.get(OTP_SEARCH_ATTRIBUTES.profile) ?? null,
          purpose: attrs.get(OTP_SEARCH_ATTRIBUTES.purpose) ?? null,
          countryCode: attrs.get(OTP_SEARCH_ATTRIBUTES.countryCode) ?? null,
          codeExpiresAt: expires ? expires.toISOString() : null,
          startedAt: timestampIso(e.startTime) ?? '',
          closedAt: timestampIso(e.closeTime),
        };
      }),
    );
    const token = res.nextPageToken && res.nextPageToken.length ? Buffer.from(res.nextPageToken).toString('base64url') : null;
    return { sends, nextPageToken: token };
  }
  private converter?: ReturnType<typeof loadDataConverter>;

  /** The session's status, or null when there is no open session for this number. */
  async status(phone: string, options: Omit<CallOptions, 'idempotencyKey'> = {}): Promise<OtpSessionStatus | null> {
    for (const workflowId of this.sessionIds(phone, options.tenant)) {
      try {
        const handle = this.temporal.workflow.getHandle(workflowId);
        const { status } = await handle.describe();
        if (status.name === 'RUNNING') return await handle.query(statusQuery);
      } catch (err) {
        if (!isGone(err)) explain(err);
      }
    }
    return null;
  }
}

/** A verify that can never succeed as written (a code that is no string, a purpose that is none): refused before any call. */
function checkVerifyRequest(code: unknown, options: VerifyOptions): void {
  if (typeof code !== 'string')
    throw new OtpRequestError(
      `code must be a string (got ${code === null ? 'null' : Array.isArray(code) ? 'an array' : typeof code}): the code as the user typed it`,
      'InvalidRequest',
    );
  const { purpose, profile, context, idempotencyKey } = options;
  refuseRequest(verifyRequestProblem({ purpose, profile, context, idempotencyKey }));
  if (options.tenant !== undefined) assertTenant(options.tenant);
}

function isGone(err: unknown): boolean {
  if (err instanceof WorkflowNotFoundError) return true;
  const msg = err instanceof Error ? err.message : '';
  return /workflow execution already completed|not found/i.test(msg);
}

/** Connects with the settings of an OtpConfig (see config/config.ts). */
export async function connectOtpClient(config: OtpConfig, connectionOptions: Partial<ConnectionOptions> = {}): Promise<OtpClient> {
  const connection = await Connection.connect({ address: config.temporal.address, ...connectionOptions });
  const client = new Client({ connection, namespace: config.temporal.namespace, dataConverter: otpDataConverter(config.keys.payload) });
  return new OtpClient({
    client,
    address: config.temporal.address,
    taskQueue: config.temporal.taskQueue,
    hashKey: config.keys.hash[0],
    previousHashKeys: config.keys.hash.slice(1),
    sealPublicKey: config.keys.sealPublic,
    tenant: config.tenant,
    defaultRegion: config.defaultRegion,
    maxSendsInFlight: config.admission.clientMaxInFlight,
    sendLatencyTargetMs: config.admission.clientTargetMs,
  });
}
