/**
 * Worker-only code secrets. Codes are derived HOTP-style from a nonce:
 * code = f(HMAC-SHA256(codeKey, workflowId|nonce)), so a retry or a
 * re-delivery sends the same code without the code being stored anywhere.
 * Digests of codes are keyed with the same worker-only key, so nothing a
 * client holds (id key, payload keys, seal public key) can test a guess.
 */
import { constants, createHash, createHmac, createPrivateKey, createPublicKey, privateDecrypt, type KeyObject } from 'node:crypto';
import { MAX_CODE_LENGTH, MIN_CODE_LENGTH } from '../contract';
import { normalizeCode, sealKeyId, type SealUse } from '../contract/keys';
import { ALPHABETS, type CodeAlphabet } from '../policy/profile';

/** Code keys by id; the first one makes new codes, the others keep codes made before a rotation valid. */
export class CodeKeyring {
  readonly current: { id: string; secret: string };
  private readonly byId: Map<string, string>;

  constructor(secrets: string[]) {
    if (secrets.length === 0) throw new Error('CodeKeyring needs at least one key');
    this.byId = new Map(secrets.map((k) => [codeKeyId(k), k]));
    this.current = { id: codeKeyId(secrets[0]), secret: secrets[0] };
  }

  /** The secret of `id`; codes issued before key ids existed (no id) use the current key. */
  secret(id: string | undefined): string {
    if (id === undefined) return this.current.secret;
    const k = this.byId.get(id);
    if (!k) throw new Error(`code key "${id}" is no longer configured (add it to OTP_CODE_KEY_PREVIOUS until its codes expire)`);
    return k;
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  ids(): string[] {
    return [...this.byId.keys()];
  }
}

/** Key id of a code key: 16 hex digits of SHA-256("otp-code-key|" + key); names the key, reveals nothing. */
export function codeKeyId(secret: string): string {
  return createHash('sha256').update(`otp-code-key|${secret}`).digest('hex').slice(0, 16);
}

export function deriveCode(codeKey: string, sessionWorkflowId: string, nonce: string, length: number, alphabet: CodeAlphabet = 'numeric'): string {
  if (!Number.isInteger(length) || length < MIN_CODE_LENGTH || length > MAX_CODE_LENGTH) {
    throw new RangeError(`code length must be ${MIN_CODE_LENGTH}–${MAX_CODE_LENGTH}, got ${length}`);
  }
  const chars = ALPHABETS[alphabet];
  const mac = createHmac('sha256', codeKey).update(`${sessionWorkflowId}|${nonce}`).digest();
  // 128 bits reduced base |alphabet|: the bias is below 1e-24 for any length we allow.
  let n = (mac.readBigUInt64BE(0) << 64n) | mac.readBigUInt64BE(8);
  const base = BigInt(chars.length);
  let code = '';
  for (let i = 0; i < length; i++) {
    code = chars[Number(n % base)] + code;
    n /= base;
  }
  return code;
}

/** base64url(HMAC-SHA256(codeKey, "digest|" + workflowId + "|" + normalizeCode(code))): what a session stores and compares. */
export function codeDigest(codeKey: string, workflowId: string, code: string): string {
  return createHmac('sha256', codeKey)
    .update(`digest|${workflowId}|${normalizeCode(code)}`, 'utf8')
    .digest('base64url');
}

/** A sealed code that this worker cannot or must not open; the message never repeats the input. */
export class SealError extends Error {
  constructor(readonly detail: 'malformed' | 'unknown_key' | 'undecryptable' | 'wrong_session') {
    super(`sealed code is invalid: ${detail}`);
    this.name = 'InvalidSealedCode';
  }
}

/** Private keys that open sealed codes (OTP_SEAL_PRIVATE_KEY: base64 PKCS#8 DER, comma-separated; rotation keeps the old ones). */
export class SealOpener {
  private readonly byId: Map<string, KeyObject>;

  constructor(privateKeysDer: Buffer[]) {
    this.byId = new Map(
      privateKeysDer.map((der) => {
        const key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
        const pub = createPublicKey(key).export({ type: 'spki', format: 'der' });
        return [sealKeyId(pub), key];
      }),
    );
  }

  /** The public key clients seal with (the first private key's). */
  static publicKeyOf(privateKeyDer: Buffer): Buffer {
    return createPublicKey(createPrivateKey({ key: privateKeyDer, format: 'der', type: 'pkcs8' })).export({ type: 'spki', format: 'der' });
  }

  /** Opens a code sealed by contract/keys.ts sealCode for `sessionId`; throws SealError otherwise. */
  open(sealed: string, sessionId: string): string {
    const found = this.peek(sealed);
    // A sealed code lifted from another session's history is not a guess for this one.
    if (found.sessionId !== sessionId) throw new SealError('wrong_session');
    return found.code;
  }

  /** Opens a sealed code and says which session, use and instant it was sealed for; throws SealError. */
  peek(sealed: string): { sessionId: string; code: string; use: SealUse; atMs: number; sealId: string } {
    const m = /^([0-9a-f]{16})\.([A-Za-z0-9_-]{16,1400})$/.exec(sealed);
    if (!m) throw new SealError('malformed');
    const bytes = Buffer.from(m[2], 'base64url');
    // One spelling per ciphertext: the unused bits of the last base64url character must be zero.
    if (bytes.toString('base64url') !== m[2]) throw new SealError('malformed');
    const key = this.byId.get(m[1]);
    if (!key) throw new SealError('unknown_key');
    let plain: Buffer;
    let body: unknown;
    try {
      plain = privateDecrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, bytes);
      body = JSON.parse(plain.toString('utf8'));
    } catch {
      throw new SealError('undecryptable');
    }
    const { s, c, u, t, n } = (body ?? {}) as { s?: unknown; c?: unknown; u?: unknown; t?: unknown; n?: unknown };
    if (
      typeof s !== 'string' ||
      typeof c !== 'string' ||
      (u !== 'verify' && u !== 'send') ||
      typeof t !== 'number' ||
      !Number.isFinite(t) ||
      typeof n !== 'string' ||
      n.length < 8
    ) {
      throw new SealError('malformed');
    }
    // Named by what it says, not how it is spelled or encrypted: a re-spelled or re-encrypted copy is the same seal.
    const sealId = createHash('sha256').update(plain).digest('hex').slice(0, 16);
    return { sessionId: s, code: normalizeCode(c), use: u, atMs: t, sealId };
  }
}
