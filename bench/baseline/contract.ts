/**
 * Names shared by the baselines' worker and the load generator.
 *
 * Least-durable send: the least durable way to send an SMS through Temporal:
 * one workflow per number, started by update-with-start, whose update handler
 * runs one local activity that submits over SMPP and returns.
 *
 * Least-durable login: the same send, but the workflow stays open for the
 * delivery receipt (a signal, paired to the workflow in the worker's memory by
 * message id) and the user's verify (an update comparing the code in plain
 * memory), then ends. Three workflow tasks per login, as the product's session.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';

export const BASELINE_WORKFLOW = 'leastDurableSend';
export const LOGIN_BASELINE_WORKFLOW = 'leastDurableLogin';

export interface BaselineSendRequest {
  phone: string;
  text: string;
}

export interface BaselineSendResult {
  messageId: string;
}

export const baselineSendUpdate = defineUpdate<BaselineSendResult, [BaselineSendRequest]>('send');

export interface LoginSendRequest extends BaselineSendRequest {
  /** The code the text carries: the verify handler compares against it. */
  code: string;
}

/** A receipt the worker paired to the workflow by message id. */
export interface LoginReceipt {
  messageId: string;
  /** SMPP message state (DELIVRD, UNDELIV, …). */
  stat: string;
  /** False for intermediate states (ENROUTE, ACCEPTD): the login still waits for a final one. */
  final: boolean;
}

/** The receipts as the workflow recorded them: `at` is workflow time when the signal was handled, as the product's session records its `receipt` event. */
export interface RecordedLoginReceipt {
  at: string;
  messageId: string;
}

export interface LoginVerifyRequest {
  code: string;
}

export interface LoginVerifyResult {
  valid: boolean;
}

export const loginSendUpdate = defineUpdate<BaselineSendResult, [LoginSendRequest]>('loginSend');
export const loginReceiptSignal = defineSignal<[LoginReceipt]>('loginReceipt');
export const loginVerifyUpdate = defineUpdate<LoginVerifyResult, [LoginVerifyRequest]>('loginVerify');
export const loginReceiptsQuery = defineQuery<RecordedLoginReceipt[]>('loginReceipts');
