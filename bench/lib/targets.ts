/**
 * What a trial sends through: the product (typed client), the least-durable
 * Temporal send (update-with-start on the baseline's task queue) or a bare
 * SMPP client (SmscRouter straight to the simulator, no Temporal).
 */
import { randomInt } from 'node:crypto';
import { Client, WithStartWorkflowOperation, WorkflowUpdateFailedError } from '@temporalio/client';
import { OtpRequestError, otpDataConverter, type OtpClient, type OtpSessionStatus, type VerifyOtpResult } from '../../client';
import type { OtpConfig } from '../../config/config';
import { SmscRouter } from '../../smpp/smsc';
import { BASELINE_WORKFLOW, baselineSendUpdate } from '../baseline/contract';
import type { TargetName } from './types';

/** A send's answer: status "sent" or a typed refusal (any string: new statuses appear). */
export interface SendOutcome {
  status: string;
  reason?: string;
  messageId?: string;
  channel?: string;
}

export interface Target {
  name: TargetName;
  send(phone: string, tenant: string): Promise<SendOutcome>;
  verify?(phone: string, code: string, tenant: string): Promise<VerifyOtpResult>;
  status?(phone: string, tenant: string): Promise<OtpSessionStatus | null>;
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
    status: (phone, tenant) => otp.status(phone, { tenant }),
  };
}

const otpText = () => `Acme: your code is ${String(randomInt(1_000_000)).padStart(6, '0')}. Do not share it.`;

export function leastDurableTarget(otp: OtpClient, config: OtpConfig, taskQueue: string, runId: string): Target {
  const client = new Client({
    connection: otp.temporal.connection,
    namespace: config.temporal.namespace,
    dataConverter: otpDataConverter(config.keys.payload),
  });
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
