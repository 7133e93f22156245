/** Item i's context, read the same way by both nodes: its tenant, number and region, its timeout, and its output item. */
import { NodeOperationError, type IDataObject, type IExecuteFunctions, type INodeExecutionData } from 'n8n-workflow';
import { DEFAULT_CALL_TIMEOUT_MS, type OtpClient } from '../../../client';

/** An expression may give a number or an object: for a field that must be text, the flow's error, named. Empty: undefined. */
export function itemText(ctx: IExecuteFunctions, i: number, label: string, value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string')
    throw new NodeOperationError(ctx.getNode(), `${label} must be text, not ${Array.isArray(value) ? 'an array' : typeof value}`, { itemIndex: i });
  return value.trim() || undefined;
}

/**
 * Item i's Tenant, trimmed; undefined when empty (the workers' default tenant). Send and Resend
 * refuse a value that is not text (`mustBeText`); the other operations have always taken its text form.
 */
export function itemTenant(ctx: IExecuteFunctions, i: number, mustBeText = false): string | undefined {
  const value = ctx.getNodeParameter('tenant', i, 'default');
  return mustBeText ? itemText(ctx, i, 'Tenant', value) : String(value ?? '').trim() || undefined;
}

/** Item i's Default Region, upper-cased; none when empty or an expression gave nothing. */
export function defaultRegion(ctx: IExecuteFunctions, i: number): string | undefined {
  return (
    String(ctx.getNodeParameter('defaultRegion', i, '') ?? '')
      .trim()
      .toUpperCase() || undefined
  );
}

/**
 * Item i's Phone, and the client that reads it in the item's Default Region. A broken expression
 * (an empty phone) is the flow's error, said by `whenEmpty`, not an "invalid_number" answer.
 */
export function itemPhone(ctx: IExecuteFunctions, otp: OtpClient, i: number, whenEmpty: string): { otp: OtpClient; phone: string } {
  const region = defaultRegion(ctx, i);
  const regional = region ? otp.withDefaultRegion(region) : otp;
  const phone = String(ctx.getNodeParameter('phone', i) ?? '');
  if (!phone.trim()) throw new NodeOperationError(ctx.getNode(), whenEmpty, { itemIndex: i });
  return { otp: regional, phone };
}

interface RequestOptions {
  includeInputFields?: boolean;
  timeoutSeconds?: number;
}

function requestOptions(ctx: IExecuteFunctions, i: number): RequestOptions {
  return ctx.getNodeParameter('options', i, {}) as RequestOptions;
}

/** Item i's call timeout in ms; a value from an expression is held to the field's bounds. */
export function callTimeoutMs(ctx: IExecuteFunctions, i: number): number {
  const raw = requestOptions(ctx, i).timeoutSeconds;
  const seconds = raw === undefined ? DEFAULT_CALL_TIMEOUT_MS / 1000 : Number(raw);
  if (!Number.isFinite(seconds) || seconds < 1 || seconds > 120) {
    throw new NodeOperationError(ctx.getNode(), `Timeout (Seconds) must be a number from 1 to 120 (got ${JSON.stringify(raw)})`, { itemIndex: i });
  }
  return Math.round(seconds * 1000);
}

/** The output item for input i: the result, on top of the input's fields if asked. */
export function resultItem(ctx: IExecuteFunctions, i: number, result: IDataObject): INodeExecutionData {
  const input = requestOptions(ctx, i).includeInputFields ? ctx.getInputData()[i].json : {};
  return { json: { ...input, ...result }, pairedItem: { item: i } };
}
