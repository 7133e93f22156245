import type { IDataObject, IExecuteFunctions, INodeProperties, INodePropertyOptions } from 'n8n-workflow';
import type { OtpClient } from '../../../client';

/** One Send OTP operation, as its actions/otp/<value>.operation.ts exports it. */
export interface SendOtpOperation {
  /** Its entry in the Operation selector. */
  option: INodePropertyOptions;
  /** The fields it shows, in the editor's order; each names the operation in its displayOptions. */
  description: INodeProperties[];
  /** Answers item i, on a client already bounded by the item's timeout. */
  execute(ctx: IExecuteFunctions, otp: OtpClient, i: number): Promise<IDataObject>;
}
