import { NodeConnectionTypes, NodeOperationError, type IExecuteFunctions, type INodeExecutionData, type INodeType, type INodeTypeDescription } from 'n8n-workflow';
import { withOtpClient } from '../shared/transport';

/** Checks a code; routes to Valid or Invalid so a flow branches without an IF node. */
export class VerifyOtp implements INodeType {
  description: INodeTypeDescription = {
    displayName: 'Verify OTP',
    name: 'verifyOtp',
    icon: 'file:verifyOtp.svg',
    group: ['transform'],
    version: 1,
    description: 'Check a one-time code; branches to Valid or Invalid',
    defaults: { name: 'Verify OTP' },
    inputs: [NodeConnectionTypes.Main],
    outputs: [NodeConnectionTypes.Main, NodeConnectionTypes.Main],
    outputNames: ['Valid', 'Invalid'],
    usableAsTool: true,
    credentials: [{ name: 'temporalOtpApi', required: true }],
    properties: [
      { displayName: 'Phone', name: 'phone', type: 'string', default: '', required: true, placeholder: '+33612345678', description: 'The number the code was sent to' },
      { displayName: 'Code', name: 'code', type: 'string', default: '', required: true, description: 'The code the user typed' },
      { displayName: 'Tenant', name: 'tenant', type: 'string', default: 'default' },
    ],
  };

  async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
    const items = this.getInputData();
    const valid: INodeExecutionData[] = [];
    const invalid: INodeExecutionData[] = [];
    await withOtpClient(this, async (otp) => {
      for (let i = 0; i < items.length; i++) {
        try {
          const phone = this.getNodeParameter('phone', i) as string;
          const code = this.getNodeParameter('code', i) as string;
          const tenant = (this.getNodeParameter('tenant', i) as string) || undefined;
          const result = await otp.verify(phone, code, { tenant });
          (result.valid ? valid : invalid).push({ json: { ...result }, pairedItem: { item: i } });
        } catch (err) {
          if (this.continueOnFail()) {
            invalid.push({ json: { error: (err as Error).message }, pairedItem: { item: i } });
            continue;
          }
          throw new NodeOperationError(this.getNode(), err as Error, { itemIndex: i });
        }
      }
    });
    return [valid, invalid];
  }
}
