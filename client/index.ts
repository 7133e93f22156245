/**
 * Typed helper for Node backends: send / verify / status over the contract.
 * Phone numbers are normalised to E.164 here; the session id is a keyed hash
 * of the number, and verify sends a keyed digest of the code, never the code.
 */
import { randomInt } from 'node:crypto';
import { Client, Connection, WithStartWorkflowOperation, WorkflowNotFoundError, WorkflowUpdateFailedError, type ConnectionOptions } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import {
  DEFAULT_TENANT,
  OTP_SESSION_WORKFLOW,
  SESSION_VERSION,
  cancelUpdate,
  sendUpdate,
  statusQuery,
  verifyUpdate,
  type OtpSessionInput,
  type OtpSessionStatus,
  type SendOtpRequest,
  type CancelOtpResult,
  type SendAccepted,
  type SendOtpResult,
  type VerifyOtpResult,
} from '../contract';
import { InvalidPhoneError, codeDigest, maskPhone, normalizePhone, sessionWorkflowId } from '../contract/keys';
import type { OtpConfig } from '../lib/config';
import { AesGcmPayloadCodec, type PayloadKey } from '../lib/payload-codec';
import { SendLimiter } from './send-limiter';

export { DEFAULT_CLIENT_MAX_SENDS_IN_FLIGHT, DEFAULT_CLIENT_SEND_TARGET_MS, SendLimiter } from './send-limiter';

export * from '../contract';

/** The data converter every client and worker of one deployment must share. */
export function otpDataConverter(payloadKeys: PayloadKey[]): DataConverter {
  return { payloadCodecs: [new AesGcmPayloadCodec(payloadKeys)], failureConverterPath: require.resolve('../lib/failure-converter') };
}

export interface OtpClientOptions {
  /** A Temporal client built with `otpDataConverter(...)`. */
  client: Client;
  taskQueue: string;
  /** OTP_HASH_KEY: must equal the worker's. */
  hashKey: string;
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
  /** Sends slower than this shrink the adaptive limit. @default 1000 */
  sendLatencyTargetMs?: number;
}

export interface SendOptions extends Omit<SendOtpRequest, 'phone'> {
  tenant?: string;
  /** Becomes the update id: the same key within 24 h returns the first answer and sends nothing new. */
  idempotencyKey?: string;
  /** Channel "custom" without a `code`: length of the numeric code made here with a CSPRNG. Default 6. */
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
}

export interface PublicVerifyResult {
  valid: boolean;
  outcome: 'verified' | 'rejected';
}

/** A request Temporal or the session refused; `message` says why, without secrets. */
export class OtpRequestError extends Error {
  constructor(message: string, readonly type?: string) {
    super(message);
    this.name = 'OtpRequestError';
  }
}

function explain(err: unknown): never {
  if (err instanceof WorkflowUpdateFailedError) {
    const cause = err.cause as (Error & { type?: string }) | undefined;
    throw new OtpRequestError(cause?.message ?? err.message, cause?.type);
  }
  throw err;
}

export class OtpClient {
  readonly temporal: Client;
  private readonly opts: OtpClientOptions;
  /** Adaptive bound on sends in flight; shared by clients made with withDefaultRegion(). */
  readonly limiter: SendLimiter;

  constructor(options: OtpClientOptions, limiter?: SendLimiter) {
    this.opts = options;
    this.temporal = options.client;
    this.limiter = limiter ?? new SendLimiter({ max: options.maxSendsInFlight, targetMs: options.sendLatencyTargetMs });
  }

  /** The same client, reading numbers without "+" in `region` (e.g. "FR"). */
  withDefaultRegion(region: string): OtpClient {
    return new OtpClient({ ...this.opts, defaultRegion: region }, this.limiter);
  }

  /** E.164 form of `phone`, or an InvalidPhoneError. */
  normalize(phone: string): string {
    return normalizePhone(phone, this.opts.defaultRegion);
  }

  sessionId(phone: string, tenant = this.opts.tenant ?? DEFAULT_TENANT): string {
    return sessionWorkflowId(this.opts.hashKey, tenant, this.normalize(phone));
  }

  /**
   * Sends a code. Refusals (rate limits, blocked or invalid numbers) come back
   * as typed results; only requests that can never succeed as written throw
   * an OtpRequestError.
   */
  async send(phone: string, options: SendOptions = {}): Promise<SendOtpResult> {
    const { tenant = this.opts.tenant ?? DEFAULT_TENANT, idempotencyKey, customCodeLength, ...rest } = options;
    if (rest.channel === 'custom' && rest.code === undefined) {
      // The code is made here, not in the worker: it never enters a workflow payload except as the caller's own input.
      const length = customCodeLength ?? 6;
      if (!Number.isInteger(length) || length < 4 || length > 10) throw new OtpRequestError('customCodeLength must be an integer from 4 to 10');
      rest.code = Array.from({ length }, () => String(randomInt(10))).join('');
    }
    let e164: string;
    try {
      e164 = this.normalize(phone);
    } catch (err) {
      if (err instanceof InvalidPhoneError) return { status: 'invalid_number', reason: err.detail };
      throw err;
    }
    const workflowId = sessionWorkflowId(this.opts.hashKey, tenant, e164);
    const input: OtpSessionInput = { tenant, maskedPhone: maskPhone(e164), v: SESSION_VERSION };
    const start = new WithStartWorkflowOperation<(i: OtpSessionInput) => Promise<OtpSessionStatus>>(OTP_SESSION_WORKFLOW, {
      workflowId,
      taskQueue: this.opts.taskQueue,
      args: [input],
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
    // Admission: past the bound, refuse now rather than queue behind a busy server.
    if (!this.limiter.tryAcquire()) return { sessionId: workflowId, status: 'overloaded', reason: 'client_busy', maskedPhone: maskPhone(e164), retryAfterSeconds: 1 };
    let result: SendOtpResult;
    const startedAt = Date.now();
    const requestedAt = new Date(startedAt).toISOString();
    try {
      result = await this.temporal.workflow.executeUpdateWithStart(sendUpdate, {
        args: [{ ...rest, phone: e164, idempotencyKey, requestedAt }],
        // The session dedupes by idempotencyKey; the update id is per attempt, so that a retry
        // after an `overloaded` answer (never kept under the key) gets a real try.
        updateId: idempotencyKey !== undefined ? `${idempotencyKey}@${requestedAt}` : undefined,
        startWorkflowOperation: start,
      });
    } catch (err) {
      explain(err);
    } finally {
      this.limiter.release(Date.now() - startedAt);
    }
    if (result.status === 'sent' && result.channel === 'custom' && rest.code !== undefined) {
      const custom: CustomSendResult = { ...result, code: rest.code };
      return custom;
    }
    return result;
  }

  /** Cancels the current code: it stops verifying and is not re-sent. */
  async cancel(phone: string, options: Omit<CallOptions, 'idempotencyKey'> = {}): Promise<CancelOtpResult> {
    const workflowId = this.sessionId(phone, options.tenant);
    try {
      return await this.temporal.workflow.getHandle(workflowId).executeUpdate(cancelUpdate);
    } catch (err) {
      if (isGone(err)) return { sessionId: workflowId, cancelled: false };
      explain(err);
    }
  }

  /** Verifies by session id (from a send result) instead of the phone number. */
  async verifySession(sessionId: string, code: string, options: Omit<VerifyOptions, 'tenant'> = {}): Promise<VerifyOtpResult | PublicVerifyResult> {
    if (!/^otp-[A-Za-z0-9_.-]{1,64}-[A-Za-z0-9_-]{32}$/.test(sessionId)) throw new OtpRequestError('sessionId must be the sessionId a send returned (otp-<tenant>-<hash>)');
    const full = await this.verifyWorkflow(sessionId, code, options);
    if (options.responseMode === 'public') return { valid: full.valid, outcome: full.valid ? 'verified' : 'rejected' };
    return full;
  }

  verify(phone: string, code: string, options: VerifyOptions & { responseMode: 'public' }): Promise<PublicVerifyResult>;
  verify(phone: string, code: string, options?: VerifyOptions): Promise<VerifyOtpResult>;
  async verify(phone: string, code: string, options: VerifyOptions = {}): Promise<VerifyOtpResult | PublicVerifyResult> {
    const full = await this.verifyFull(phone, code, options);
    if (options.responseMode === 'public') return { valid: full.valid, outcome: full.valid ? 'verified' : 'rejected' };
    return full;
  }

  private async verifyFull(phone: string, code: string, options: CallOptions): Promise<VerifyOtpResult> {
    let workflowId: string;
    try {
      workflowId = this.sessionId(phone, options.tenant);
    } catch (err) {
      if (err instanceof InvalidPhoneError) return { sessionId: '', valid: false, outcome: 'not_found', attemptsRemaining: 0 };
      throw err;
    }
    return this.verifyWorkflow(workflowId, code, options);
  }

  private async verifyWorkflow(workflowId: string, code: string, options: CallOptions): Promise<VerifyOtpResult> {
    if (!code.trim()) return { sessionId: workflowId, valid: false, outcome: 'invalid_code', attemptsRemaining: 0 };
    const digest = codeDigest(this.opts.hashKey, workflowId, code);
    try {
      return await this.temporal.workflow.getHandle(workflowId).executeUpdate(verifyUpdate, {
        args: [{ codeDigest: digest }],
        updateId: options.idempotencyKey,
      });
    } catch (err) {
      if (isGone(err)) return { sessionId: workflowId, valid: false, outcome: 'not_found', attemptsRemaining: 0 };
      explain(err);
    }
  }

  /** The session's status, or null when there is no open session for this number. */
  async status(phone: string, options: Omit<CallOptions, 'idempotencyKey'> = {}): Promise<OtpSessionStatus | null> {
    const workflowId = this.sessionId(phone, options.tenant);
    try {
      const handle = this.temporal.workflow.getHandle(workflowId);
      const { status } = await handle.describe();
      if (status.name !== 'RUNNING') return null;
      return await handle.query(statusQuery);
    } catch (err) {
      if (isGone(err)) return null;
      throw err;
    }
  }
}

function isGone(err: unknown): boolean {
  if (err instanceof WorkflowNotFoundError) return true;
  const msg = err instanceof Error ? err.message : '';
  return /workflow execution already completed|not found/i.test(msg);
}

/** Connects with the settings of an OtpConfig (see lib/config.ts). */
export async function connectOtpClient(config: OtpConfig, connectionOptions: Partial<ConnectionOptions> = {}): Promise<OtpClient> {
  const connection = await Connection.connect({ address: config.temporal.address, ...connectionOptions });
  const client = new Client({ connection, namespace: config.temporal.namespace, dataConverter: otpDataConverter(config.keys.payload) });
  return new OtpClient({ client, taskQueue: config.temporal.taskQueue, hashKey: config.keys.hash, tenant: config.tenant, defaultRegion: config.defaultRegion, maxSendsInFlight: config.admission.clientMaxInFlight, sendLatencyTargetMs: config.admission.clientTargetMs });
}
