/**
 * The OTP contract: workflow types, task queue, update / query / signal names
 * and their JSON shapes. The n8n nodes, the typed client, the CLI, the worker
 * and the tests all import from here; backends in other languages read the
 * same contract in the README.
 *
 * This module must stay free of Node built-ins: workflow code imports it.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';

/** Default task queue the worker polls. */
export const DEFAULT_TASK_QUEUE = 'otp';
/** Default tenant when a caller does not name one. */
export const DEFAULT_TENANT = 'default';

/** Workflow type of the per-(tenant, phone) entity workflow. */
export const OTP_SESSION_WORKFLOW = 'otpSession';
/** Workflow type of the per-message receipt mailbox (see DESIGN.md decision 5). */
export const RECEIPT_MAILBOX_WORKFLOW = 'deliveryReceiptMailbox';

export const SEND_UPDATE = 'send';
export const VERIFY_UPDATE = 'verify';
export const STATUS_QUERY = 'status';
export const DELIVERY_RECEIPT_SIGNAL = 'deliveryReceipt';
export const MAILBOX_SUBMITTED_SIGNAL = 'submitted';
export const MAILBOX_RECEIPT_SIGNAL = 'receipt';

/** Code lengths accepted by the session (the range the hosted services use). */
export const MIN_CODE_LENGTH = 4;
export const MAX_CODE_LENGTH = 10;

/** Input of the session workflow itself: who the session is for. */
export interface OtpSessionInput {
  tenant: string;
  /** Masked phone (+33•••••678); the full number travels only inside send requests. */
  maskedPhone: string;
}

/** Update `send`: issue a new code and dispatch it. */
export interface SendOtpRequest {
  /** E.164 destination, e.g. +33612345678. */
  phone: string;
  /** Code length, 4–10. Default 6. */
  codeLength?: number;
  /** Code lifetime in seconds, 10–86400. Default 300. */
  ttlSeconds?: number;
  /** Wrong codes allowed before the session locks, 1–20. Default 5. */
  maxAttempts?: number;
  /** Brand shown in the message. Default: the worker's OTP_BRAND. */
  brand?: string;
}

export type DeliveryStatus = 'pending' | 'submitted' | 'delivered' | 'failed';

export interface SendOtpResult {
  sessionId: string;
  status: 'sent';
  /** Sequence number of the code within this session (1, 2, …). */
  codeSeq: number;
  maskedPhone: string;
  channel: 'sms';
  /** SMSC message id of the first segment. */
  messageId: string;
  segments: number;
  encoding: 'GSM7' | 'UCS2';
  /** ISO-8601 instant after which the code no longer verifies. */
  expiresAt: string;
}

/** Update `verify`. The caller sends a digest of the code, never the code itself. */
export interface VerifyOtpRequest {
  /** HMAC-SHA256(OTP_HASH_KEY, "code|" + workflowId + "|" + code), base64url. */
  codeDigest: string;
}

export type VerifyOutcome = 'verified' | 'invalid_code' | 'expired' | 'locked' | 'not_found' | 'already_verified';

export interface VerifyOtpResult {
  sessionId: string;
  valid: boolean;
  outcome: VerifyOutcome;
  attemptsRemaining: number;
}

/** Typed outcome of a delivery receipt. */
export type ReceiptOutcome = 'delivered' | 'failed' | 'pending';

export interface DeliveryReceipt {
  messageId: string;
  /** SMPP message state name: DELIVRD, UNDELIV, REJECTD, EXPIRED, DELETED, ACCEPTD, ENROUTE, UNKNOWN. */
  stat: string;
  outcome: ReceiptOutcome;
  /** Network error code from the receipt text (`err:`), '000' when none. */
  err: string;
  /** ISO-8601 instant the worker received the receipt. */
  receivedAt: string;
}

export type CodeState = 'active' | 'verified' | 'expired' | 'locked';

export interface OtpSessionStatus {
  sessionId: string;
  tenant: string;
  maskedPhone: string;
  /** Absent until the first code has been issued. */
  code?: {
    seq: number;
    state: CodeState;
    delivery: DeliveryStatus;
    deliveryStat?: string;
    messageId?: string;
    segments: number;
    issuedAt: string;
    expiresAt: string;
    attemptsRemaining: number;
  };
  /** Send / receipt / verify steps, oldest first. No codes, no full numbers. */
  events: OtpSessionEvent[];
}

export interface OtpSessionEvent {
  at: string;
  type: 'sent' | 'receipt' | 'verify' | 'expired' | 'locked';
  detail: string;
}

/** Signal sent to the mailbox by the submitting activity. */
export interface MailboxSubmitted {
  sessionWorkflowId: string;
  codeSeq: number;
}

/** Signal delivered by the mailbox to the session. */
export interface SessionReceipt extends DeliveryReceipt {
  codeSeq: number;
}

export const sendUpdate = defineUpdate<SendOtpResult, [SendOtpRequest]>(SEND_UPDATE);
export const verifyUpdate = defineUpdate<VerifyOtpResult, [VerifyOtpRequest]>(VERIFY_UPDATE);
export const statusQuery = defineQuery<OtpSessionStatus>(STATUS_QUERY);
export const deliveryReceiptSignal = defineSignal<[SessionReceipt]>(DELIVERY_RECEIPT_SIGNAL);
export const mailboxSubmittedSignal = defineSignal<[MailboxSubmitted]>(MAILBOX_SUBMITTED_SIGNAL);
export const mailboxReceiptSignal = defineSignal<[DeliveryReceipt]>(MAILBOX_RECEIPT_SIGNAL);

/** Workflow id of the receipt mailbox for one SMSC message. */
export function receiptMailboxId(smsc: string, messageId: string): string {
  return `dlr-${smsc}-${messageId}`;
}
