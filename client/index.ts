/**
 * Typed helper for Node backends: send / verify / status over the contract.
 * Phone numbers are normalised to E.164 here; the session id is a keyed hash
 * of the number, and verify sends a keyed digest of the code, never the code.
 */
import { Client, Connection, WithStartWorkflowOperation, WorkflowNotFoundError, WorkflowUpdateFailedError, type ConnectionOptions } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import {
  DEFAULT_TENANT,
  OTP_SESSION_WORKFLOW,
  sendUpdate,
  statusQuery,
  verifyUpdate,
  type OtpSessionInput,
  type OtpSessionStatus,
  type SendOtpRequest,
  type SendOtpResult,
  type VerifyOtpResult,
} from '../contract';
import { codeDigest, maskPhone, normalizePhone, sessionWorkflowId } from '../contract/keys';
import type { OtpConfig } from '../lib/config';
import { AesGcmPayloadCodec, type PayloadKey } from '../lib/payload-codec';

export * from '../contract';

/** The data converter every client and worker of one deployment must share. */
export function otpDataConverter(payloadKeys: PayloadKey[]): DataConverter {
  return { payloadCodecs: [new AesGcmPayloadCodec(payloadKeys)] };
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
}

export interface SendOptions extends Omit<SendOtpRequest, 'phone'> {
  tenant?: string;
  /** Becomes the update id: the same key returns the first answer and sends nothing new. */
  idempotencyKey?: string;
}

export interface CallOptions {
  tenant?: string;
  idempotencyKey?: string;
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

  constructor(options: OtpClientOptions) {
    this.opts = options;
    this.temporal = options.client;
  }

  /** E.164 form of `phone`, or an InvalidPhoneError. */
  normalize(phone: string): string {
    return normalizePhone(phone, this.opts.defaultRegion);
  }

  sessionId(phone: string, tenant = this.opts.tenant ?? DEFAULT_TENANT): string {
    return sessionWorkflowId(this.opts.hashKey, tenant, this.normalize(phone));
  }

  async send(phone: string, options: SendOptions = {}): Promise<SendOtpResult> {
    const { tenant = this.opts.tenant ?? DEFAULT_TENANT, idempotencyKey, ...rest } = options;
    const e164 = this.normalize(phone);
    const workflowId = sessionWorkflowId(this.opts.hashKey, tenant, e164);
    const input: OtpSessionInput = { tenant, maskedPhone: maskPhone(e164) };
    const start = new WithStartWorkflowOperation<(i: OtpSessionInput) => Promise<OtpSessionStatus>>(OTP_SESSION_WORKFLOW, {
      workflowId,
      taskQueue: this.opts.taskQueue,
      args: [input],
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
    try {
      return await this.temporal.workflow.executeUpdateWithStart(sendUpdate, {
        args: [{ ...rest, phone: e164 }],
        updateId: idempotencyKey,
        startWorkflowOperation: start,
      });
    } catch (err) {
      explain(err);
    }
  }

  async verify(phone: string, code: string, options: CallOptions = {}): Promise<VerifyOtpResult> {
    const workflowId = this.sessionId(phone, options.tenant);
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
  return new OtpClient({ client, taskQueue: config.temporal.taskQueue, hashKey: config.keys.hash, tenant: config.tenant, defaultRegion: config.defaultRegion });
}
