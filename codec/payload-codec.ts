/**
 * AES-256-GCM PayloadCodec with a key id on every payload, so keys can be
 * rotated: the first key encrypts, every configured key can decrypt.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { METADATA_ENCODING_KEY, type Payload, type PayloadCodec } from '@temporalio/common';
import { UNENCRYPTED_PAYLOAD } from '../contract';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * A payload marked encrypted that this process cannot open: a key it does not
 * hold, too short for its IV and tag, a tag that fails, or not a payload inside.
 */
export class PayloadCodecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PayloadCodecError';
  }
}

export interface PayloadKey {
  id: string;
  /** 32 bytes. */
  key: Buffer;
}

/** Parses "id:base64key[,id2:base64key2…]"; the first key is the one that encrypts. */
export function parsePayloadKeys(spec: string): PayloadKey[] {
  const keys = spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const at = entry.indexOf(':');
      if (at < 1) throw new Error('each payload key must look like <id>:<base64 of 32 bytes>');
      const id = entry.slice(0, at);
      const key = Buffer.from(entry.slice(at + 1), 'base64');
      if (key.length !== 32) throw new Error(`payload key "${id}" must be 32 bytes of base64, got ${key.length} bytes`);
      return { id, key };
    });
  if (keys.length === 0) throw new Error('at least one payload key is required');
  return keys;
}

/** A plain JSON payload standing for "this arrived unencrypted" (see contract UNENCRYPTED_PAYLOAD). */
const UNENCRYPTED: Payload = { metadata: { [METADATA_ENCODING_KEY]: Buffer.from('json/plain') }, data: Buffer.from(JSON.stringify(UNENCRYPTED_PAYLOAD)) };

export interface PayloadCodecOptions {
  /**
   * "refuse": a payload that is not encrypted decodes to UNENCRYPTED_PAYLOAD, which
   * the workflows refuse (a forged receipt or cancel from someone without the keys).
   * "pass": it decodes as it is (the codec server, which only displays).
   * @default "refuse"
   */
  plaintext?: 'refuse' | 'pass';
  /**
   * A payload marked encrypted that this process cannot open (a key it does not hold, a failed
   * tag). "throw": decoding fails (clients: the caller sees why). "refuse": it decodes to
   * UNENCRYPTED_PAYLOAD like a plain one (workers: else one forged signal or update argument
   * fails the session's workflow task again and again, stalling it).
   * @default "throw"
   */
  unreadable?: 'throw' | 'refuse';
}

export class AesGcmPayloadCodec implements PayloadCodec {
  private readonly byId: Map<string, Buffer>;
  constructor(
    private readonly keys: PayloadKey[],
    private readonly options: PayloadCodecOptions = {},
  ) {
    if (keys.length === 0) throw new Error('AesGcmPayloadCodec needs at least one key');
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const { id, key } = this.keys[0];
    return payloads.map((p) => {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const plain = Buffer.from(JSON.stringify({ metadata: encodeMeta(p.metadata), data: p.data ? Buffer.from(p.data).toString('base64') : undefined }));
      const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: { [METADATA_ENCODING_KEY]: Buffer.from(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: Buffer.from(id) },
        data,
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => {
      const encoding = p.metadata?.[METADATA_ENCODING_KEY];
      if (!encoding || Buffer.from(encoding).toString() !== ENCRYPTED_ENCODING) return this.options.plaintext === 'pass' ? p : UNENCRYPTED;
      if (this.options.unreadable !== 'refuse') return this.open(p);
      try {
        return this.open(p);
      } catch (err) {
        this.warnOnce((err as Error).message);
        return UNENCRYPTED;
      }
    });
  }

  private open(p: Payload): Payload {
    const keyId = Buffer.from(p.metadata?.[KEY_ID_METADATA] ?? []).toString();
    const key = this.byId.get(keyId);
    if (!key) throw new PayloadCodecError(`payload was encrypted with key "${keyId}", which this process does not hold`);
    const buf = Buffer.from(p.data ?? []);
    // Shorter data would make the tag overlap the IV, or a tag shorter than 16 bytes that GCM still accepts.
    if (buf.length < IV_BYTES + TAG_BYTES) throw new PayloadCodecError(`encrypted payload of ${buf.length} bytes is shorter than its IV and tag`);
    let plain: Buffer;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, buf.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
      decipher.setAuthTag(buf.subarray(buf.length - TAG_BYTES));
      plain = Buffer.concat([decipher.update(buf.subarray(IV_BYTES, buf.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new PayloadCodecError(`payload under key "${keyId}" failed authentication (tampered, or another key under that id)`);
    }
    return openedPayload(plain);
  }

  private readonly warned = new Set<string>();
  /** Once per reason (which key, or a failed tag), never any content. */
  private warnOnce(reason: string): void {
    if (this.warned.has(reason) || this.warned.size >= 100) return;
    this.warned.add(reason);
    console.warn(`payload codec: refused a payload it cannot open (${reason}): a forgery, or a key missing from OTP_PAYLOAD_KEYS`);
  }
}

/** The payload inside an authenticated plaintext; anything else is refused, never half-read. */
function openedPayload(plain: Buffer): Payload {
  let parsed: unknown;
  try {
    parsed = JSON.parse(plain.toString());
  } catch {
    throw new PayloadCodecError('decrypted payload is not JSON');
  }
  const { metadata, data } = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as { metadata?: unknown; data?: unknown };
  if (
    typeof metadata !== 'object' ||
    metadata === null ||
    Array.isArray(metadata) ||
    !Object.values(metadata).every((v) => typeof v === 'string') ||
    (data !== undefined && typeof data !== 'string')
  ) {
    throw new PayloadCodecError('decrypted payload is not a payload');
  }
  return {
    metadata: Object.fromEntries(Object.entries(metadata as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
    data: data === undefined ? undefined : Buffer.from(data, 'base64'),
  };
}

function encodeMeta(meta: Payload['metadata']): Record<string, string> {
  return Object.fromEntries(Object.entries(meta ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')]));
}
