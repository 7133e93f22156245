import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';
import type { OtpClient, SendOptions } from '../../../../client';

interface SendParameters {
  brand?: string;
  channel?: 'sms' | 'custom';
  customCodeLength?: number;
  context?: string;
  callbackUrl?: string;
  idempotencyKey?: string;
  locale?: string;
  profile?: string;
  email?: string;
  webhookUrl?: string;
}

/** Reads the Send / Resend options of item i, leaving out empty strings. */
export function sendOptions(ctx: IExecuteFunctions, i: number): SendOptions {
  const o = ctx.getNodeParameter('options', i, {}) as SendParameters;
  const text = (v?: string) => (v && v.trim() ? v.trim() : undefined);
  return {
    tenant: text(ctx.getNodeParameter('tenant', i, 'default') as string),
    brand: text(o.brand),
    channel: o.channel,
    customCodeLength: o.channel === 'custom' ? o.customCodeLength : undefined,
    context: text(o.context),
    callbackUrl: text(o.callbackUrl),
    idempotencyKey: text(o.idempotencyKey),
    locale: text(o.locale),
    profile: text(o.profile),
    email: text(o.email),
    webhookUrl: text(o.webhookUrl),
  };
}

export async function send(ctx: IExecuteFunctions, otp: OtpClient, i: number, phone: string): Promise<IDataObject> {
  return { ...(await otp.send(phone, sendOptions(ctx, i))) };
}
