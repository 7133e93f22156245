import { NodeConnectionTypes, NodeOperationError, type IDataObject, type IExecuteFunctions, type INodeExecutionData, type INodeType, type INodeTypeDescription } from 'n8n-workflow';
import { withOtpClient } from '../shared/transport';

/** Sends a one-time code by SMS through the OTP workers (Temporal update-with-start). */
export class SendOtp implements INodeType {
  description: INodeTypeDescription = {
    displayName: 'Send OTP',
    name: 'sendOtp',
    icon: 'file:sendOtp.svg',
    group: ['transform'],
    version: 1,
    subtitle: '={{$parameter["operation"]}}',
    description: 'Send a one-time code by SMS over your own SMSC, durably',
    defaults: { name: 'Send OTP' },
    inputs: [NodeConnectionTypes.Main],
    outputs: [NodeConnectionTypes.Main],
    usableAsTool: true,
    credentials: [{ name: 'temporalOtpApi', required: true }],
    properties: [
      {
        displayName: 'Operation',
        name: 'operation',
        type: 'options',
        noDataExpression: true,
        options: [
          { name: 'Send', value: 'send', action: 'Send a code', description: 'Issue a new code and send it by SMS' },
          { name: 'Get Status', value: 'status', action: 'Get session status', description: 'Delivery and verification state of the session' },
        ],
        default: 'send',
      },
      { displayName: 'Phone', name: 'phone', type: 'string', default: '', required: true, placeholder: '+33612345678', description: 'Recipient in E.164 form' },
      { displayName: 'Tenant', name: 'tenant', type: 'string', default: 'default', description: 'Separates sessions of different apps or customers' },
      {
        displayName: 'Idempotency Key',
        name: 'idempotencyKey',
        type: 'string',
        default: '',
        displayOptions: { show: { operation: ['send'] } },
        description: 'The same key returns the first answer and sends no second code',
      },
    ],
  };

  async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
    const items = this.getInputData();
    const out: INodeExecutionData[] = [];
    await withOtpClient(this, async (otp) => {
      for (let i = 0; i < items.length; i++) {
        try {
          const operation = this.getNodeParameter('operation', i) as string;
          const phone = this.getNodeParameter('phone', i) as string;
          const tenant = (this.getNodeParameter('tenant', i) as string) || undefined;
          let json: IDataObject;
          if (operation === 'send') {
            const idempotencyKey = (this.getNodeParameter('idempotencyKey', i) as string) || undefined;
            json = { ...(await otp.send(phone, { tenant, idempotencyKey })) };
          } else {
            json = { ...((await otp.status(phone, { tenant })) ?? { found: false }) };
          }
          out.push({ json, pairedItem: { item: i } });
        } catch (err) {
          if (this.continueOnFail()) {
            out.push({ json: { error: (err as Error).message }, pairedItem: { item: i } });
            continue;
          }
          throw new NodeOperationError(this.getNode(), err as Error, { itemIndex: i });
        }
      }
    });
    return [out];
  }
}
