import { NodeConnectionTypes, type IExecuteFunctions, type INodeExecutionData, type INodeType, type INodeTypeDescription } from 'n8n-workflow';
import { credentialTest, loadOptions } from '../shared/methods';
import * as otp from './actions/otp';
import { router } from './actions/router';
import { configuredOutputs } from './helpers/outputs';

/** Checks a code and routes the item to Valid or Invalid (or one output for AI agents); fails closed. */
export class VerifyOtp implements INodeType {
  // n8n's community-node lint reads the type description here (icon, subtitle, usableAsTool, the credential's testedBy).
  description: INodeTypeDescription = {
    displayName: 'Verify OTP',
    name: 'verifyOtp',
    icon: { light: 'file:verifyOtp.svg', dark: 'file:verifyOtp.dark.svg' },
    group: ['transform'],
    // 1.1: Default Region as a country list (1 keeps its text field).
    version: [1, 1.1],
    defaultVersion: 1.1,
    subtitle: '={{ ($parameter["purpose"] || "login") + " code, by " + ($parameter["verifyBy"] === "session" ? "session ID" : "phone") }}',
    description:
      'Check the one-time passcode a user typed against the one Send OTP sent to their phone. Returns valid (true only for the right, unexpired code), outcome (verified, invalid_code, expired, locked, not_found, already_verified, cancelled, purpose_mismatch, context_mismatch, or error), attemptsRemaining, and retryAt when locked. Never treat anything but valid: true as proof.',
    defaults: { name: 'Verify OTP' },
    inputs: [NodeConnectionTypes.Main],
    outputs: `={{(${configuredOutputs})($parameter)}}`,
    usableAsTool: true,
    credentials: [{ name: 'temporalOtpApi', required: true, testedBy: 'temporalOtpApiTest' }],
    // Made by actions/otp/index.ts from its operations' fields.
    properties: otp.description,
  };

  methods = { credentialTest, loadOptions };

  async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
    return router.call(this);
  }
}
