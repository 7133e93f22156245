/**
 * Send OTP's one resource: its operations, the Operation selector made from their options, and the
 * node's fields: every operation's own, once each, then the Options every operation takes.
 */
import type { INodeProperties } from 'n8n-workflow';
import { selectorOf } from '../../../shared/common.descriptions';
import type { SendOtpOperation } from '../../helpers/interfaces';
import { optionsCollection } from '../common.descriptions';
import * as approveRevision from './approveRevision.operation';
import * as cancel from './cancel.operation';
import * as getStatus from './getStatus.operation';
import * as listRecentSends from './listRecentSends.operation';
import * as listRevisions from './listRevisions.operation';
import * as proposeRevision from './proposeRevision.operation';
import * as rejectRevision from './rejectRevision.operation';
import * as resend from './resend.operation';
import * as send from './send.operation';

/**
 * The operations by value. Their fields first appear in the editor in this order, which is the one the
 * node has always had: the number (Cancel), List Recent Sends', the sender revisions', Send's.
 */
export const operations: Record<string, SendOtpOperation> = {
  cancel,
  getStatus,
  listRecentSends,
  approveRevision,
  proposeRevision,
  rejectRevision,
  listRevisions,
  send,
  resend,
};

/** Fields several operations show are one property whose displayOptions name them all: kept once. */
function fieldsOf(ops: SendOtpOperation[]): INodeProperties[] {
  return [...new Set(ops.flatMap((op) => op.description))];
}

export const operationSelector = selectorOf(
  'Operation',
  'operation',
  Object.values(operations).map((op) => op.option),
  'send',
);

export const description: INodeProperties[] = [operationSelector, ...fieldsOf(Object.values(operations)), optionsCollection];
