import {
  NodeConnectionTypes,
  NodeOperationError,
  type IExecuteFunctions,
  type INodeExecutionData,
  type INodeType,
  type INodeTypeDescription,
} from 'n8n-workflow';
import { normalizeCode } from '../../contract/keys';
import { executionError, itemError, unanswered } from '../shared/errors';
import { callTimeoutMs, defaultRegion, otpMethods, resultItem } from '../shared/fields';
import { withOtpClient } from '../shared/transport';
import { verifyOtpProperties } from './description';
import { configuredOutputs } from './outputs';

/** Checks a code and routes the item to Valid or Invalid, so a flow branches without an IF node. */
export class VerifyOtp implements INodeType {
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
    properties: verifyOtpProperties,
  };

  methods = otpMethods;

  async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
    const items = this.getInputData();
    const valid: INodeExecutionData[] = [];
    const invalid: INodeExecutionData[] = [];
    // Fail closed: with "On Error: Continue", n8n would pass the input items through on output 0,
    // which is Valid. A failure before an item was decided (credentials, connection) sends every
    // undecided item to Invalid instead, with the reason.
    const failed = await verifyItems(this, items, valid, invalid).then(
      () => undefined,
      (reason: unknown) => executionError(this, reason),
    );
    if (failed) {
      if (!this.continueOnFail()) throw failed;
      for (const i of unanswered(items, [...valid, ...invalid]))
        invalid.push({ json: { valid: false, outcome: 'error', error: failed.message }, pairedItem: { item: i } });
    }
    if (this.getNodeParameter('output', 0, 'branches') === 'single') {
      const item = (d: INodeExecutionData) => (d.pairedItem as { item: number }).item;
      return [[...valid, ...invalid].sort((a, b) => item(a) - item(b))];
    }
    return [valid, invalid];
  }
}

async function verifyItems(ctx: IExecuteFunctions, items: INodeExecutionData[], valid: INodeExecutionData[], invalid: INodeExecutionData[]): Promise<void> {
  await withOtpClient(ctx, async (base) => {
    for (let i = 0; i < items.length; i++) {
      try {
        const by = ctx.getNodeParameter('verifyBy', i) as 'phone' | 'session';
        const code = String(ctx.getNodeParameter('code', i) ?? '');
        // Bad input is the flow's error, named, not an answer that looks like a wrong code or an unknown number.
        // Spaces and dashes are dropped before comparing ("123 456"), so "-" is as empty as "".
        if (!normalizeCode(code))
          throw new NodeOperationError(
            ctx.getNode(),
            'Code is empty (spaces and dashes do not count): map the code the user typed (e.g. {{ $json.body.code }})',
            { itemIndex: i },
          );
        const responseMode = (ctx.getNodeParameter('publicResponse', i, false) as boolean) ? 'public' : 'full';
        const purpose = ctx.getNodeParameter('purpose', i, 'login') as 'login' | 'transaction' | 'recovery' | 'custom';
        const context = purpose === 'transaction' ? (ctx.getNodeParameter('context', i, '') as string) : undefined;
        const bounded = base.withCallTimeout(callTimeoutMs(ctx, i));
        let result;
        if (by === 'session') {
          result = await bounded.verifySession(String(ctx.getNodeParameter('sessionId', i) ?? '').trim(), code, { responseMode, purpose, context });
        } else {
          const region = defaultRegion(ctx, i);
          const otp = region ? bounded.withDefaultRegion(region) : bounded;
          const tenant = String(ctx.getNodeParameter('tenant', i, 'default') ?? '').trim() || undefined;
          const phone = String(ctx.getNodeParameter('phone', i) ?? '');
          if (!phone.trim()) throw new NodeOperationError(ctx.getNode(), 'Phone is empty: map the number the code was sent to', { itemIndex: i });
          otp.normalize(phone);
          result = await otp.verify(phone, code, { tenant, responseMode, purpose, context });
        }
        (result.valid === true ? valid : invalid).push(resultItem(ctx, i, { ...result }));
      } catch (err) {
        if (ctx.continueOnFail()) {
          invalid.push({ json: { valid: false, outcome: 'error', error: (err as Error).message }, pairedItem: { item: i } });
          continue;
        }
        throw itemError(ctx, err, i);
      }
    }
  });
}
