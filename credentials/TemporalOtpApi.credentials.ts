import type { ICredentialType, INodeProperties } from 'n8n-workflow';

/** Where the OTP workers' Temporal server is, and the keys clients share with the workers. */
export class TemporalOtpApi implements ICredentialType {
  name = 'temporalOtpApi';
  displayName = 'Temporal OTP';
  documentationUrl = 'https://github.com/n8n-nodes-temporal-otp/n8n-nodes-temporal-otp#readme';
  icon = 'file:temporalOtp.svg' as const;
  properties: INodeProperties[] = [
    { displayName: 'Address', name: 'address', type: 'string', default: '127.0.0.1:7233', required: true, placeholder: 'temporal.example.com:7233', description: 'Temporal frontend host:port' },
    { displayName: 'Namespace', name: 'namespace', type: 'string', default: 'default', required: true },
    { displayName: 'Task Queue', name: 'taskQueue', type: 'string', default: 'otp', required: true, description: 'Task queue the OTP workers poll (OTP_TASK_QUEUE)' },
    {
      displayName: 'Hash Key',
      name: 'hashKey',
      type: 'string',
      typeOptions: { password: true },
      default: '',
      description: "The workers' OTP_HASH_KEY. Leave empty only for the embedded dev stack.",
    },
    {
      displayName: 'Payload Keys',
      name: 'payloadKeys',
      type: 'string',
      typeOptions: { password: true },
      default: '',
      description: "The workers' OTP_PAYLOAD_KEYS (id:base64, comma-separated). Leave empty only for the embedded dev stack.",
    },
  ];
}
