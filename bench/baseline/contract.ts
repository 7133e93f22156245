/**
 * Names shared by the least-durable baseline's worker and the load generator.
 * The baseline is the least durable way to send an SMS through Temporal: one
 * workflow per number, started by update-with-start, whose update handler runs
 * one local activity that submits over SMPP and returns.
 */
import { defineUpdate } from '@temporalio/workflow';

export const BASELINE_WORKFLOW = 'leastDurableSend';

export interface BaselineSendRequest {
  phone: string;
  text: string;
}

export interface BaselineSendResult {
  messageId: string;
}

export const baselineSendUpdate = defineUpdate<BaselineSendResult, [BaselineSendRequest]>('send');
