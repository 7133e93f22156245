import { NodeConnectionTypes, type IExecuteFunctions, type INodeExecutionData, type INodeType, type INodeTypeDescription } from 'n8n-workflow';
import { otpMethods } from '../shared/fields';
import { sendOtpProperties } from './actions/description';
import { router } from './actions/router';

/** Sends one-time codes through the OTP workers: Send, Resend, Cancel, Get Status. */
export class SendOtp implements INodeType {
  description: INodeTypeDescription = {
    displayName: 'Send OTP',
    name: 'sendOtp',
    icon: { light: 'file:sendOtp.svg', dark: 'file:sendOtp.dark.svg' },
    group: ['output'],
    version: 1,
    subtitle: '={{$parameter["operation"]}}',
    description: 'Send a one-time code by SMS through your own SMSC, durably, with receipts and retries',
    defaults: { name: 'Send OTP' },
    inputs: [NodeConnectionTypes.Main],
    outputs: [NodeConnectionTypes.Main],
    usableAsTool: true,
    credentials: [{ name: 'temporalOtpApi', required: true, testedBy: 'temporalOtpApiTest' }],
    // The custom channel hands the code to the next node; n8n redacts it from saved executions.
    sensitiveOutputFields: ['code'],
    properties: sendOtpProperties,
  };

  methods = otpMethods;

  async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
    return router.call(this);
  }
}
