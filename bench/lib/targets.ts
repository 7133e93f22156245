/**
 * What a trial sends through: the product (typed client), the least-durable
 * Temporal send or login (update-with-start on the baselines' task queue) or
 * a bare SMPP client (SmscRouter straight to the simulator, no Temporal).
 */
import { randomInt } from 'node:crypto';
import { Client, WithStartWorkflowOperation, WorkflowUpdateFailedError } from '@temporalio/client';
import { OtpRequestError, otpDataConverter, type OtpClient, type VerifyOtpResult } from '../../client';
import type { OtpConfig } from '../../config/config';
import { SmscRouter } from '../../smpp/smsc';
import { BASELINE_WORKFLOW, LOGIN_BASELINE_WORKFLOW, baselineSendUpdate, loginReceiptsQuery, loginSendUpdate, loginVerifyUpdate } from '../baseline/contract';
import type { TargetName } from './types';

/** A send's answer: status "sent" or a typed refusal (any string: new statuses appear). */
export interface SendOutcome {
  status: string;
  reason?: string;
  messageId?: string;
  channel?: string;
}

/** A delivery receipt as the session recorded it: its own clock (ms epoch), and the message id when it says. */
export interface RecordedReceipt {
  at: number;
  messageId?: string;
}

export interface Target {
  name: TargetName;
  send(phone: string, tenant: string): Promise<SendOutcome>;
  /** Only `valid` and `outcome` are read. */
  verify?(phone: string, code: string, tenant: string): Promise<Pick<VerifyOtpResult, 'valid' | 'outcome'>>;
  /** The receipts the number's session recorded, for receipt latency. */
  recordedReceipts?(phone: string, tenant: string): Promise<RecordedReceipt[]>;
}

export function productTarget(otp: OtpClient): Target {
  return {
    name: 'product',
    async send(phone, tenant) {
      const r = await otp.send(phone, { tenant });
      // Read the result as plain fields: a refusal status the contract does not list yet is still a refusal.
      const fields: Record<string, unknown> = { ...r };
      return {
        status: String(fields.status),
        reason: typeof fields.reason === 'string' ? fields.reason : undefined,
        messageId: typeof fields.messageId === 'string' ? fields.messageId : undefined,
        channel: typeof fields.channel === 'string' ? fields.channel : undefined,
      };
    },
    verify: (phone, code, tenant) => otp.verify(phone, code, { tenant }),
    async recordedReceipts(phone, tenant) {
      const status = await otp.status(phone, { tenant });
      return (status?.events ?? [])
        .filter((e) => e.type === 'receipt')
        .map((e) => ({ at: Date.parse(e.at), messageId: /message (\S+?):/.exec(e.detail)?.[1] }));
    },
  };
}

const newCode = () => String(randomInt(1_000_000)).padStart(6, '0');
const otpText = (code = newCode()) => `Acme: your code is ${code}. Do not share it.`;

/** A client for the baselines' workflows, on the product client's connection and payload codec. */
function baselineClient(otp: OtpClient, config: OtpConfig): Client {
  return new Client({ connection: otp.temporal.connection, namespace: config.temporal.namespace, dataConverter: otpDataConverter(config.keys.payload) });
}

export function leastDurableTarget(otp: OtpClient, config: OtpConfig, taskQueue: string, runId: string): Target {
  const client = baselineClient(otp, config);
  return {
    name: 'least-durable',
    async send(phone) {
      const start = new WithStartWorkflowOperation(BASELINE_WORKFLOW, {
        workflowId: `bench-ld-${runId}-${phone}`,
        taskQueue,
        args: [],
        workflowIdConflictPolicy: 'USE_EXISTING',
      });
      const r = await client.workflow.executeUpdateWithStart(baselineSendUpdate, { args: [{ phone, text: otpText() }], startWorkflowOperation: start });
      return { status: 'sent', messageId: r.messageId, channel: 'sms' };
    },
  };
}

/**
 * The least-durable login: the least-durable send, then the receipt as a
 * signal (the baseline worker pairs it) and the verify as an update, with the
 * code the generator drew and compared in the workflow's memory.
 */
export function leastDurableLoginTarget(otp: OtpClient, config: OtpConfig, taskQueue: string, runId: string): Target {
  const client = baselineClient(otp, config);
  const workflowId = (phone: string) => `bench-ldl-${runId}-${phone}`;
  return {
    name: 'least-durable-login',
    async send(phone) {
      const start = new WithStartWorkflowOperation(LOGIN_BASELINE_WORKFLOW, {
        workflowId: workflowId(phone),
        taskQueue,
        args: [],
        workflowIdConflictPolicy: 'USE_EXISTING',
      });
      const code = newCode();
      const r = await client.workflow.executeUpdateWithStart(loginSendUpdate, { args: [{ phone, text: otpText(code), code }], startWorkflowOperation: start });
      return { status: 'sent', messageId: r.messageId, channel: 'sms' };
    },
    async verify(phone, code) {
      const r = await client.workflow.getHandle(workflowId(phone)).executeUpdate(loginVerifyUpdate, { args: [{ code }] });
      return { valid: r.valid, outcome: r.valid ? 'verified' : 'invalid_code' };
    },
    async recordedReceipts(phone) {
      const recorded = await client.workflow.getHandle(workflowId(phone)).query(loginReceiptsQuery);
      return recorded.map((r) => ({ at: Date.parse(r.at), messageId: r.messageId }));
    },
  };
}

export interface BareSmpp extends Target {
  close(): Promise<void>;
}

export async function bareSmppTarget(config: OtpConfig): Promise<BareSmpp> {
  const router = new SmscRouter(
    config.routes.map((r) => ({ ...r, name: 'bare' })),
    { info: () => undefined, warn: (msg, meta) => console.warn(`[bench smpp] ${msg}`, meta ? JSON.stringify(meta) : '') },
  );
  router.onReceipt(async () => undefined);
  router.start();
  await router.ready(10_000);
  return {
    name: 'bare-smpp',
    async send(phone) {
      const r = await router.submitText(phone, otpText(), { senderId: config.smsc.senderId, validitySeconds: 300 });
      return { status: 'sent', messageId: r.messageIds[0], channel: 'sms' };
    },
    close: () => router.close(),
  };
}

/** "Name[:type]" of an exception, for counting errors by type. */
export function errorType(err: unknown): string {
  // Untyped failures are told apart by their message, numbers blanked so ids do not split the count.
  if (err instanceof OtpRequestError) return `OtpRequestError:${err.type ?? err.message.replace(/\d+/g, 'N').slice(0, 60)}`;
  if (err instanceof WorkflowUpdateFailedError) {
    const cause = err.cause as (Error & { type?: string }) | undefined;
    return `WorkflowUpdateFailedError:${cause?.type ?? cause?.name ?? 'unknown'}`;
  }
  if (err instanceof Error) {
    const code = (err as Error & { code?: unknown }).code;
    return typeof code === 'number' || typeof code === 'string' ? `${err.name}:${code}` : err.name;
  }
  return typeof err;
}
