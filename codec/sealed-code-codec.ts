/**
 * Opens sealed codes in the worker, before workflow code sees a payload.
 *
 * A request that carries `sealedCode` (verify, or a send with the caller's
 * code) reaches the workflow with `opened`: the code's digest under every code
 * key the worker holds, a keyed fingerprint of the request, and what the seal
 * was for and when. The code itself never enters the workflow, and the session
 * decides synchronously with no local activity (no extra history event).
 * Decoding is deterministic for a given set of keys, so a replay sees the same.
 *
 * Every JSON object payload is parsed, however it is spelled, and any `opened`
 * a caller put there is dropped: only this codec makes one.
 *
 * Worker only: it needs OTP_CODE_KEY and the seal private key. Listed before the
 * encryption codec, so it decodes after decryption and encodes as a no-op.
 */
import { createHash, createHmac } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { editJsonObject } from './json-payload';
import { EMPTY_CODE, type OpenedCode } from '../contract';
import { codeDigest, SealError, type CodeKeyring, type SealOpener } from '../activities/code';

export class SealedCodeCodec implements PayloadCodec {
  constructor(
    private readonly seal: SealOpener,
    private readonly codeKeys: CodeKeyring,
  ) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads;
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => this.open(p));
  }

  private open(p: Payload): Payload {
    return editJsonObject(p, (req) => {
      const forged = Object.prototype.hasOwnProperty.call(req, 'opened');
      if (!forged && typeof req.sealedCode !== 'string') return false;
      delete req.opened;
      if (typeof req.sealedCode === 'string') req.opened = this.openCode(req.sealedCode, req);
      return true;
    });
  }

  private openCode(sealed: string, req: Record<string, unknown>): OpenedCode {
    let found;
    try {
      found = this.seal.peek(sealed);
    } catch (err) {
      const sealId = createHash('sha256').update(sealed).digest('hex').slice(0, 16);
      return { sealedFor: '', use: '', sealedAtMs: 0, sealId, digests: {}, fingerprint: '', error: err instanceof SealError ? err.detail : 'undecryptable' };
    }
    const { sessionId, code, use, atMs, sealId } = found;
    const digests = Object.fromEntries(this.codeKeys.ids().map((id) => [id, codeDigest(this.codeKeys.secret(id), sessionId, code)]));
    // Codes made before key ids existed were digested with the current key.
    digests[''] = digests[this.codeKeys.current.id];
    const str = (k: string) => (typeof req[k] === 'string' ? (req[k] as string) : '');
    const fingerprint = createHmac('sha256', this.codeKeys.current.secret)
      .update(JSON.stringify(['request', sessionId, code, str('purpose') || 'login', str('profile'), str('context').trim(), str('phone'), str('channel')]))
      .digest('base64url');
    // Flagged for the update validator, which refuses it; the handler never reads `error`, so replays are unchanged.
    return { sealedFor: sessionId, use, sealedAtMs: atMs, sealId, digests, fingerprint, ...(code === '' ? { error: EMPTY_CODE } : {}) };
  }
}
