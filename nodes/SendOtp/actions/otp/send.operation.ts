import { NodeOperationError, type IDataObject, type IExecuteFunctions, type INodeProperties, type INodePropertyOptions } from 'n8n-workflow';
import type { OtpClient, SendOptions, SendOtpResult } from '../../../../client';
import { itemTenant, itemText } from '../../../shared/helpers/item';
import { sessionPhone } from '../../helpers/session';
import { sendingFields, sessionFields, type Channel } from '../common.descriptions';

export const option: INodePropertyOptions = {
  name: 'Send',
  value: 'send',
  action: 'Send a verification code to a phone number',
  description:
    'Make a code and deliver it. Returns sent, outcome and expiresAt, or why not (outcome, retryAfterSeconds); never the code, except on the Custom channel.',
};

export const description: INodeProperties[] = [...sessionFields, ...sendingFields];

interface SendParameters {
  brand?: string;
  channel?: Channel;
  customCodeLength?: number;
  context?: string;
  callbackUrl?: string;
  idempotencyKey?: string;
  locale?: string;
  profile?: string;
  email?: string;
  webhookUrl?: string;
  storedCodeAcknowledged?: boolean;
}

/** Version 2 has Profile, Channel and the custom channel's fields at the top; version 1 in Options. */
function parameters(ctx: IExecuteFunctions, i: number): SendParameters {
  const options = ctx.getNodeParameter('options', i, {}) as SendParameters;
  if (ctx.getNode().typeVersion < 2) return options;
  const channel = ctx.getNodeParameter('channel', i, 'sms') as Channel;
  return {
    ...options,
    profile: ctx.getNodeParameter('profile', i, 'login') as string,
    channel,
    customCodeLength: channel === 'custom' ? (ctx.getNodeParameter('customCodeLength', i, 6) as number) : undefined,
    storedCodeAcknowledged: channel === 'custom' ? (ctx.getNodeParameter('storedCodeAcknowledged', i, false) as boolean) : undefined,
  };
}

/** Reads the Send / Resend parameters of item i, leaving out empty strings. */
export function sendOptions(ctx: IExecuteFunctions, i: number): SendOptions {
  const o = parameters(ctx, i);
  // The custom channel's code lands in n8n's saved executions: only on purpose.
  if (o.channel === 'custom' && !o.storedCodeAcknowledged) {
    throw new NodeOperationError(
      ctx.getNode(),
      'The Custom channel puts the code in this node\'s output, which n8n saves with the execution: turn on "Accept Code in Saved Executions"',
      {
        itemIndex: i,
        description: 'Or use the Webhook channel, in which the workers deliver the code and it never passes through n8n.',
      },
    );
  }
  const text = (label: string, value: unknown) => itemText(ctx, i, label, value);
  return {
    tenant: itemTenant(ctx, i, true),
    brand: text('Brand', o.brand),
    channel: o.channel,
    customCodeLength: o.channel === 'custom' ? o.customCodeLength : undefined,
    context: text('Context', o.context),
    callbackUrl: text('Callback URL', o.callbackUrl),
    idempotencyKey: text('Idempotency Key', o.idempotencyKey),
    locale: text('Locale', o.locale),
    profile: text('Profile', o.profile),
    email: text('Email', o.email),
    webhookUrl: text('Webhook URL', o.webhookUrl),
  };
}

/** Version 2 answers like Verify OTP: `sent` and `outcome` (the status), `reason` when refused. */
export function sendResult(ctx: IExecuteFunctions, result: SendOtpResult): IDataObject {
  if (ctx.getNode().typeVersion < 2) return { ...result };
  const { status, ...rest } = result;
  return { sent: status === 'sent', outcome: status, ...rest };
}

export async function execute(ctx: IExecuteFunctions, client: OtpClient, i: number): Promise<IDataObject> {
  const { otp, phone } = sessionPhone(ctx, client, i);
  return sendResult(ctx, await otp.send(phone, sendOptions(ctx, i)));
}
