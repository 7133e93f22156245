/**
 * Verify OTP's one resource: its two ways of verifying (by phone, by session id), the Verify By
 * selector made from their options, and the node's fields: each way's own, then the ones both take.
 */
import type { INodeProperties } from 'n8n-workflow';
import { selectorOf } from '../../../shared/common.descriptions';
import type { VerifyOtpOperation } from '../../helpers/interfaces';
import { commonFields } from '../common.descriptions';
import * as phone from './phone.operation';
import * as session from './session.operation';

/** The ways of verifying by Verify By value, in the editor's order. */
export const operations: Record<string, VerifyOtpOperation> = { phone, session };

export const operationSelector = selectorOf(
  'Verify By',
  'verifyBy',
  Object.values(operations).map((op) => op.option),
  'phone',
);

export const description: INodeProperties[] = [operationSelector, ...Object.values(operations).flatMap((op) => op.description), ...commonFields];
