import type { ICredentialType, INodeProperties } from 'n8n-workflow';

/**
 * Where the OTP workers' Temporal server is, how to reach it (TLS, mTLS or a
 * Temporal Cloud API key), and the two keys clients share with the workers.
 * Read by nodes/shared/transport/clientSettings.ts; tested by a real connection (nodes/shared/methods/credentialTest.ts).
 */
export class TemporalOtpApi implements ICredentialType {
  name = 'temporalOtpApi';

  displayName = 'Temporal OTP API';

  documentationUrl = 'https://github.com/n8n-nodes-temporal-otp/n8n-nodes-temporal-otp#n8n';

  icon = { light: 'file:temporalOtp.svg', dark: 'file:temporalOtp.dark.svg' } as const;

  properties: INodeProperties[] = [
    {
      displayName: 'Address',
      name: 'address',
      type: 'string',
      default: '127.0.0.1:7233',
      required: true,
      placeholder: 'my-ns.a1b2c.tmprl.cloud:7233',
      description: 'Temporal frontend as host:port',
    },
    {
      displayName: 'Namespace',
      name: 'namespace',
      type: 'string',
      default: 'default',
      required: true,
      description: 'Temporal namespace the OTP workers use',
    },
    {
      displayName: 'Task Queue',
      name: 'taskQueue',
      type: 'string',
      default: 'otp',
      required: true,
      description: "The workers' OTP_TASK_QUEUE",
    },
    {
      displayName: 'TLS',
      name: 'tls',
      type: 'boolean',
      default: false,
      description: 'Whether to connect over TLS (always on for Temporal Cloud)',
    },
    {
      displayName: 'Server CA Certificate',
      name: 'serverCa',
      type: 'string',
      typeOptions: { rows: 4 },
      default: '',
      displayOptions: { show: { tls: [true] } },
      description: 'PEM of the CA that signed the server certificate. Empty means the system CAs.',
    },
    {
      displayName: 'Client Certificate',
      name: 'clientCert',
      type: 'string',
      typeOptions: { password: true, rows: 4 },
      default: '',
      displayOptions: { show: { tls: [true] } },
      description: 'PEM client certificate for mTLS. Leave empty without mTLS.',
    },
    {
      displayName: 'Client Key',
      name: 'clientPrivateKey',
      type: 'string',
      typeOptions: { password: true, rows: 4 },
      default: '',
      displayOptions: { show: { tls: [true] } },
      description: 'PEM private key of the client certificate',
    },
    {
      displayName: 'API Key',
      name: 'apiKey',
      type: 'string',
      typeOptions: { password: true },
      default: '',
      description: 'Temporal Cloud API key. Leave empty for a self-hosted server.',
    },
    {
      displayName: 'Hash Key',
      name: 'hashSecret',
      type: 'string',
      typeOptions: { password: true },
      default: '',
      description: "The workers' OTP_HASH_KEY. Leave empty only for a local development stack, which runs on built-in keys.",
    },
    {
      displayName: 'Payload Keys',
      name: 'payloadSecrets',
      type: 'string',
      typeOptions: { password: true },
      default: '',
      description: "The workers' OTP_PAYLOAD_KEYS (id:base64, comma-separated). Leave empty only for a local development stack.",
    },
    {
      displayName: 'Seal Public Key',
      name: 'sealPublicKey',
      type: 'string',
      typeOptions: { rows: 3 },
      default: '',
      description:
        "The workers' OTP_SEAL_PUBLIC_KEY: codes are sealed with it, so no one holding this credential can read them back from history. Leave empty only for a local development stack.",
    },
    {
      displayName: 'Identity',
      name: 'identity',
      type: 'string',
      default: '',
      placeholder: 'alice@example.com',
      description:
        "Who Send OTP's sender revision operations act as: propose, approve, reject. The workers refuse an approval by the revision's proposer, so give the people or teams who approve their own credential. Empty: the flow (n8n-flow:<workflow ID>).",
    },
  ];
}
