import type { IExecuteFunctions, INodeProperties, INodePropertyOptions } from 'n8n-workflow';
import type { OtpClient, PublicVerifyResult, VerifyOtpResult } from '../../../../client';
import type { VerifyRequest } from '../../helpers/interfaces';

export const option: INodePropertyOptions = { name: 'Session ID', value: 'session', description: 'The sessionId a Send OTP node returned' };

export const description: INodeProperties[] = [
  {
    displayName: 'Session ID',
    name: 'sessionId',
    type: 'string',
    default: '',
    required: true,
    placeholder: 'otp-default-…',
    displayOptions: { show: { verifyBy: ['session'] } },
    description: 'The sessionId from Send OTP',
  },
];

export async function execute(ctx: IExecuteFunctions, otp: OtpClient, i: number, request: VerifyRequest): Promise<VerifyOtpResult | PublicVerifyResult> {
  const { code, ...options } = request;
  return otp.verifySession(String(ctx.getNodeParameter('sessionId', i) ?? '').trim(), code, options);
}
