/**
 * The nodes read the "Temporal OTP API" credential with a parser of their own (nodes/shared/transport/clientSettings.ts),
 * so n8n does not load the worker's settings table. It must keep agreeing with the workers' loadConfig
 * in the client role: same values, same first problem (named by the credential's field).
 */
import { generateKeyPairSync } from 'node:crypto';
import { ConfigError, loadConfig } from '../../config/config';
import { clientSettings, type TemporalOtpCredentials } from '../../nodes/shared/transport';

/** The workers' setting names -> the credential's field labels. */
const LABELS: [RegExp, string][] = [
  [/TEMPORAL_ADDRESS/g, 'Address'],
  [/TEMPORAL_NAMESPACE/g, 'Namespace'],
  [/OTP_TASK_QUEUE/g, 'Task Queue'],
  [/OTP_HASH_KEY/g, 'Hash Key'],
  [/OTP_PAYLOAD_KEYS/g, 'Payload Keys'],
  [/OTP_SEAL_PUBLIC_KEY/g, 'Seal Public Key'],
];

/** What the workers' own parse makes of the same fields. */
function asWorkersRead(creds: Partial<TemporalOtpCredentials>) {
  try {
    const config = loadConfig(
      {
        TEMPORAL_ADDRESS: creds.address?.trim(),
        TEMPORAL_NAMESPACE: creds.namespace?.trim(),
        OTP_TASK_QUEUE: creds.taskQueue?.trim(),
        OTP_HASH_KEY: creds.hashSecret || undefined,
        OTP_PAYLOAD_KEYS: creds.payloadSecrets || undefined,
        OTP_SEAL_PUBLIC_KEY: creds.sealPublicKey?.trim() || undefined,
      },
      'client',
    );
    const { address, namespace, taskQueue } = config.temporal;
    return {
      settings: { address, namespace, taskQueue, hashKey: config.keys.hash[0], payloadKeys: config.keys.payload, sealPublicKey: config.keys.sealPublic },
    };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return { problem: LABELS.reduce((m, [re, label]) => m.replace(re, label), err.message) };
  }
}

const spki = (bits: number) => generateKeyPairSync('rsa', { modulusLength: bits }).publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
const key32 = (byte: number) => Buffer.alloc(32, byte).toString('base64');
const ok = { address: 'h:1', namespace: 'n', taskQueue: 'q' };

const CASES: [string, Partial<TemporalOtpCredentials>][] = [
  ['nothing filled in: the defaults and the dev-only keys', {}],
  ['a local stack', { address: '127.0.0.1:7233', namespace: 'default', taskQueue: 'otp' }],
  ['fields with spaces around them', { address: ' host:7233 ', namespace: ' ns ', taskQueue: ' q ' }],
  ['an empty address', { ...ok, address: '' }],
  ['an address of spaces', { ...ok, address: '  ' }],
  ['an address without a port', { ...ok, address: 'localhost' }],
  ['a port of six digits', { ...ok, address: 'host:123456' }],
  ['an address with a space', { ...ok, address: 'a b:1' }],
  ['an empty namespace', { ...ok, namespace: '' }],
  ['an empty task queue', { ...ok, taskQueue: '' }],
  ['a short hash key', { ...ok, hashSecret: 'short' }],
  ['a hash key of 16 spaces', { ...ok, hashSecret: ' '.repeat(16) }],
  ['a hash key', { ...ok, hashSecret: 'x'.repeat(16) }],
  ['payload keys without an id', { ...ok, payloadSecrets: 'nope' }],
  ['a payload key of 2 bytes', { ...ok, payloadSecrets: 'k1:abc' }],
  ['payload keys of commas', { ...ok, payloadSecrets: ' , ' }],
  ['two payload keys', { ...ok, payloadSecrets: `k1:${key32(1)},k2:${key32(2)}` }],
  ['a seal key that is not one', { ...ok, sealPublicKey: 'abc' }],
  ['a seal key of spaces', { ...ok, sealPublicKey: '   ' }],
  ['an RSA-1024 seal key', { ...ok, sealPublicKey: spki(1024) }],
  ['an RSA-2048 seal key with spaces around it', { ...ok, sealPublicKey: ` ${spki(2048)} ` }],
  // Several problems: the first in the workers' order.
  ['a bad address and bad payload keys', { ...ok, address: 'bad', payloadSecrets: 'nope' }],
  ['an empty namespace and bad payload keys', { ...ok, namespace: '', payloadSecrets: 'nope' }],
  ['an empty namespace, task queue and a short hash key', { ...ok, namespace: '', taskQueue: '', hashSecret: 'short' }],
  ['a short hash key and a bad seal key', { ...ok, hashSecret: 'short', sealPublicKey: 'abc' }],
];

test.each(CASES)('%s: as the workers read it', (_what, creds) => {
  expect(clientSettings(creds as TemporalOtpCredentials)).toEqual(asWorkersRead(creds));
});

test('the table covers a problem for every field the parser checks, and settings', () => {
  const problems = CASES.map(([, c]) => clientSettings(c as TemporalOtpCredentials).problem?.split(' ')[0]).filter(Boolean);
  expect(new Set(problems)).toEqual(new Set(['Address', 'Namespace', 'Task', 'Hash', 'Payload', 'Seal']));
  expect(CASES.filter(([, c]) => clientSettings(c as TemporalOtpCredentials).settings).length).toBeGreaterThan(4);
});
