/**
 * The "Temporal OTP API" credential, read and checked by the rules the workers use (config/client-settings.ts),
 * without the worker's settings table. A problem names the credential's field, as the builder sees it.
 */
import type { TLSConfig } from '@temporalio/client';
import { parsePayloadKeys, type PayloadKey } from '../../../codec/payload-codec';
import {
  DEFAULT_TEMPORAL_ADDRESS,
  DEFAULT_TEMPORAL_NAMESPACE,
  DEV_HASH_KEY,
  DEV_PAYLOAD_KEYS,
  DEV_SEAL_PUBLIC_KEY,
  MIN_SECRET_LENGTH,
  TEMPORAL_ADDRESS_PATTERN,
  TEMPORAL_ADDRESS_RULE,
} from '../../../config/client-settings';
import { DEFAULT_TASK_QUEUE } from '../../../contract';
import { parseSealPublicKey } from '../../../contract/keys';

/** The credential's fields as n8n hands them over (credentials/TemporalOtpApi.credentials.ts). */
export interface TemporalOtpCredentials {
  address: string;
  namespace: string;
  taskQueue: string;
  tls?: boolean;
  serverCa?: string;
  clientCert?: string;
  clientPrivateKey?: string;
  apiKey?: string;
  hashSecret?: string;
  payloadSecrets?: string;
  sealPublicKey?: string;
  /** Who sender approval calls act as (an operator's e-mail); empty: the flow. */
  identity?: string;
}

/** How the connection is secured: TLS (always with an API key), mTLS, or a Temporal Cloud API key. */
export interface TransportSecurity {
  tls?: TLSConfig;
  apiKey?: string;
}

/** What a client needs from the credential besides its transport security: where Temporal is, and the keys it shares with the workers. */
export interface ClientSettings {
  address: string;
  namespace: string;
  taskQueue: string;
  /** OTP_HASH_KEY: the session id key. */
  hashKey: string;
  /** OTP_PAYLOAD_KEYS: the first encrypts, all decrypt. */
  payloadKeys: PayloadKey[];
  /** OTP_SEAL_PUBLIC_KEY: base64 DER of the workers' RSA public key. */
  sealPublicKey: string;
}

/** TLS and the API key from the credential: nothing to check, the server's handshake does. */
export function transportSecurity(creds: TemporalOtpCredentials): TransportSecurity {
  const tls =
    creds.tls || creds.apiKey
      ? {
          serverRootCACertificate: creds.serverCa ? Buffer.from(creds.serverCa) : undefined,
          clientCertPair:
            creds.clientCert && creds.clientPrivateKey ? { crt: Buffer.from(creds.clientCert), key: Buffer.from(creds.clientPrivateKey) } : undefined,
        }
      : undefined;
  return { tls, apiKey: creds.apiKey || undefined };
}

type Checked = { settings: ClientSettings; problem?: undefined } | { settings?: undefined; problem: string };

/** A required text field, trimmed: absent, its default (as in the workers' settings); empty, a problem. */
function required(label: string, value: string | undefined, fallback: string): { value: string } | { problem: string } {
  const v = (value ?? fallback).trim();
  return v ? { value: v } : { problem: `${label} must not be empty` };
}

/**
 * Settings from the credential, or the first problem in the order the workers check theirs (address,
 * payload keys, namespace, task queue, hash key, seal key). Empty keys are the dev-only ones, for a local stack.
 */
export function clientSettings(creds: TemporalOtpCredentials): Checked {
  try {
    return check(creds);
  } catch (err) {
    // A field that is not text (never from n8n's form) is a problem too, not a crash of the credential test.
    return { problem: (err as Error).message };
  }
}

function check(creds: TemporalOtpCredentials): Checked {
  const address = required('Address', creds.address, DEFAULT_TEMPORAL_ADDRESS);
  if ('problem' in address) return address;
  if (!TEMPORAL_ADDRESS_PATTERN.test(address.value)) return { problem: `Address ${TEMPORAL_ADDRESS_RULE} (got "${address.value}")` };
  let payloadKeys: PayloadKey[];
  try {
    payloadKeys = parsePayloadKeys(creds.payloadSecrets || DEV_PAYLOAD_KEYS);
  } catch (err) {
    return { problem: `Payload Keys: ${(err as Error).message}` };
  }
  const namespace = required('Namespace', creds.namespace, DEFAULT_TEMPORAL_NAMESPACE);
  if ('problem' in namespace) return namespace;
  const taskQueue = required('Task Queue', creds.taskQueue, DEFAULT_TASK_QUEUE);
  if ('problem' in taskQueue) return taskQueue;
  const hashKey = creds.hashSecret || DEV_HASH_KEY;
  if (hashKey.length < MIN_SECRET_LENGTH) return { problem: `Hash Key must be at least ${MIN_SECRET_LENGTH} characters` };
  const sealPublicKey = creds.sealPublicKey?.trim() || DEV_SEAL_PUBLIC_KEY;
  try {
    parseSealPublicKey(sealPublicKey);
  } catch (err) {
    // The contract names the workers' setting; the builder sees the credential's field.
    return { problem: (err as Error).message.replace('OTP_SEAL_PUBLIC_KEY', 'Seal Public Key') };
  }
  return { settings: { address: address.value, namespace: namespace.value, taskQueue: taskQueue.value, hashKey, payloadKeys, sealPublicKey } };
}
