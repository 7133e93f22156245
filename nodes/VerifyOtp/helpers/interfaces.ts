import type { IExecuteFunctions, INodeProperties, INodePropertyOptions } from 'n8n-workflow';
import type { OtpClient, OtpPurpose, PublicVerifyResult, ResponseMode, VerifyOtpResult } from '../../../client';

/** What every way of verifying takes from the item: the code, and what it must confirm. */
export interface VerifyRequest {
  code: string;
  responseMode: ResponseMode;
  purpose: OtpPurpose;
  /** The transaction's context line (Transaction purpose only). */
  context?: string;
}

/** One way of verifying (a Verify By value), as its actions/otp/<value>.operation.ts exports it. */
export interface VerifyOtpOperation {
  /** Its entry in the Verify By selector. */
  option: INodePropertyOptions;
  /** The fields it shows, in the editor's order; each names it in its displayOptions. */
  description: INodeProperties[];
  /** Checks item i's code, on a client already bounded by the item's timeout. */
  execute(ctx: IExecuteFunctions, otp: OtpClient, i: number, request: VerifyRequest): Promise<VerifyOtpResult | PublicVerifyResult>;
}
