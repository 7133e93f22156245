import { NodeConnectionTypes, type IExecuteFunctions, type INodeExecutionData, type INodeType, type INodeTypeDescription } from 'n8n-workflow';
import { credentialTest, loadOptions } from '../shared/methods';
import * as otp from './actions/otp';
import { router } from './actions/router';

/** Sends one-time codes through the OTP workers: Send, Resend, Cancel, Get Status; Propose, Approve and Reject and List Sender Revisions. */
export class SendOtp implements INodeType {
  // n8n's community-node lint reads the type description here (icon, subtitle, usableAsTool, the credential's testedBy).
  description: INodeTypeDescription = {
    displayName: 'Send OTP',
    name: 'sendOtp',
    icon: { light: 'file:sendOtp.svg', dark: 'file:sendOtp.dark.svg' },
    group: ['output'],
    // 2: Profile and Channel at the top, the Webhook channel, `sent`/`outcome` named like Verify OTP's.
    // The sender revision operations (issue 12) only add options: every version has them.
    version: [1, 2],
    defaultVersion: 2,
    subtitle:
      '={{ ({ send: "Send", resend: "Resend", cancel: "Cancel", getStatus: "Get status", proposeRevision: "Propose sender revision", approveRevision: "Approve sender revision", rejectRevision: "Reject sender revision", listRevisions: "List sender revisions" })[$parameter["operation"]] + ($parameter["operation"] === "send" || $parameter["operation"] === "resend" ? " by " + ({ sms: "SMS", webhook: "webhook", custom: "your channel" })[$parameter["channel"] || ($parameter["options"] || {}).channel || "sms"] : "") }}',
    description:
      'Send a one-time passcode to a phone number, to prove the user holds it (login, transaction, recovery). Returns sent (true or false), outcome (sent, rate_limited, blocked, invalid_number, overloaded, locked), expiresAt, and retryAfterSeconds when refused. The code is never returned: the user reads it on their phone, then Verify OTP checks it. Operators also propose, approve, reject and list sender revisions here (sender approval).',
    defaults: { name: 'Send OTP' },
    inputs: [NodeConnectionTypes.Main],
    outputs: [NodeConnectionTypes.Main],
    usableAsTool: true,
    credentials: [{ name: 'temporalOtpApi', required: true, testedBy: 'temporalOtpApiTest' }],
    // Redacts the Custom channel's code on n8n editions that support it; elsewhere the node asks for an acknowledgement.
    sensitiveOutputFields: ['code'],
    // Made by actions/otp/index.ts from its operations' fields.
    properties: otp.description,
  };

  methods = { credentialTest, loadOptions };

  async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
    return router.call(this);
  }
}
