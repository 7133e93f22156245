import { NodeOperationError, type IExecuteFunctions, type INodeExecutionData } from 'n8n-workflow';
import type { OtpPurpose } from '../../../client';
import { normalizeCode } from '../../../contract/keys';
import { answerItems } from '../../shared/helpers/errors';
import { callTimeoutMs, resultItem } from '../../shared/helpers/item';
import type { VerifyRequest } from '../helpers/interfaces';
import { operations } from './otp';

const VALID = 0;
const INVALID = 1;

/** What item i asks whichever way it verifies: the code, the answer's detail, the purpose and context. */
function verifyRequest(ctx: IExecuteFunctions, i: number): VerifyRequest {
  const code = String(ctx.getNodeParameter('code', i) ?? '');
  // Bad input is the flow's error, named, not an answer that looks like a wrong code or an unknown number.
  // Spaces and dashes are dropped before comparing ("123 456"), so "-" is as empty as "".
  if (!normalizeCode(code))
    throw new NodeOperationError(ctx.getNode(), 'Code is empty (spaces and dashes do not count): map the code the user typed (e.g. {{ $json.body.code }})', {
      itemIndex: i,
    });
  const responseMode = (ctx.getNodeParameter('publicResponse', i, false) as boolean) ? 'public' : 'full';
  const purpose = ctx.getNodeParameter('purpose', i, 'login') as OtpPurpose;
  const context = purpose === 'transaction' ? (ctx.getNodeParameter('context', i, '') as string) : undefined;
  return { code, responseMode, purpose, context };
}

/**
 * Routes each item to Valid or Invalid, so a flow branches without an IF node. Fails closed: with
 * "On Error: Continue", n8n would pass the input items through on output 0, which is Valid; a failed
 * item goes to Invalid instead, with the reason.
 */
export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
  const answers = await answerItems(
    this,
    async (otp, i) => {
      // Anything but "session" verifies by phone, as it always has.
      const by = this.getNodeParameter('verifyBy', i) === 'session' ? operations.session : operations.phone;
      const request = verifyRequest(this, i);
      const result = await by.execute(this, otp.withCallTimeout(callTimeoutMs(this, i)), i, request);
      return { output: result.valid === true ? VALID : INVALID, item: resultItem(this, i, { ...result }) };
    },
    (i, message) => ({ output: INVALID, item: { json: { valid: false, outcome: 'error', error: message }, pairedItem: { item: i } } }),
  );
  const items = (output: number) => answers.filter((a) => a.output === output).map((a) => a.item);
  if (this.getNodeParameter('output', 0, 'branches') === 'single') {
    const index = (d: INodeExecutionData) => (d.pairedItem as { item: number }).item;
    return [answers.map((a) => a.item).sort((a, b) => index(a) - index(b))];
  }
  return [items(VALID), items(INVALID)];
}
