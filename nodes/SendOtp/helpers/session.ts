import type { IExecuteFunctions } from 'n8n-workflow';
import type { OtpClient } from '../../../client';
import { itemPhone } from '../../shared/helpers/item';

/** The number Send, Resend, Cancel and Get Status act on, and the client that reads it in the item's Default Region. */
export function sessionPhone(ctx: IExecuteFunctions, otp: OtpClient, i: number): { otp: OtpClient; phone: string } {
  return itemPhone(ctx, otp, i, 'Phone is empty: map the number to send the code to (e.g. {{ $json.phone }})');
}
