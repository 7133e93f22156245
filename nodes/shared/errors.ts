/** How the nodes turn failures into n8n errors: one mapping for Send OTP and Verify OTP. */
import { NodeApiError, NodeOperationError, type IExecuteFunctions, type INodeExecutionData } from 'n8n-workflow';
import { OtpRequestError } from '../../client';
import { InvalidPhoneError, InvalidTenantError } from '../../contract/keys';

/** An item's failure: our own errors name the problem and are shown as written; anything else says where it came from. */
export function itemError(ctx: IExecuteFunctions, err: unknown, itemIndex: number): NodeOperationError {
  const known = err instanceof NodeOperationError || err instanceof OtpRequestError || err instanceof InvalidPhoneError || err instanceof InvalidTenantError;
  const message = (err as Error).message;
  return new NodeOperationError(ctx.getNode(), known ? message : `Temporal OTP request failed: ${message}`, {
    itemIndex,
    description: err instanceof NodeOperationError ? (err.description ?? undefined) : undefined,
  });
}

/** A failure before the items were decided (credentials, connection), as the node error n8n shows. */
export function executionError(ctx: IExecuteFunctions, reason: unknown): NodeOperationError | NodeApiError {
  return reason instanceof NodeOperationError || reason instanceof NodeApiError ? reason : new NodeOperationError(ctx.getNode(), reason as Error);
}

/** The indexes of the input items no output item answers yet (by pairedItem). */
export function unanswered(items: INodeExecutionData[], answered: INodeExecutionData[]): number[] {
  const done = new Set(answered.map((d) => (d.pairedItem as { item: number }).item));
  return items.map((_, i) => i).filter((i) => !done.has(i));
}
