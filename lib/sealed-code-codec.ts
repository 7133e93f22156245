/**
 * Opens sealed codes in the worker, before workflow code sees a payload.
 *
 * A request that carries `sealedCode` (verify, or a send with the caller's
 * code) reaches the workflow with `opened`: the code's digest under every code
 * key the worker holds, and a keyed fingerprint of the request. The code itself
 * never enters the workflow, and the session decides synchronously with no
 * local activity (no extra history event). Decoding is deterministic for a
 * given set of keys, so a replay sees the same `opened`.
 *
 * Worker only: it needs OTP_CODE_KEY and the seal private key. Listed before the
 * encryption codec, so it decodes after decryption and encodes as a no-op.
 */
import { createHmac } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import type { OpenedCode } from '../contract';
import { codeDigest, SealError, type CodeKeyring, type SealOpener } from '../activities/code';

const MARK = Buffer.from('"sealedCode"');

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
    const data = p.data ? Buffer.from(p.data) : undefined;
    // Cheap test first: only requests with a sealed code are parsed.
    if (!data || data.indexOf(MARK) < 0) return p;
    let body: unknown;
    try {
      body = JSON.parse(data.toString('utf8'));
    } catch {
      return p;
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return p;
    const req = body as Record<string, unknown>;
    // Whatever a caller put in `opened` is discarded: only this codec makes it.
    delete req.opened;
    if (typeof req.sealedCode === 'string') req.opened = this.openCode(req.sealedCode, req);
    return { ...p, data: Buffer.from(JSON.stringify(req), 'utf8') };
  }

  private openCode(sealed: string, req: Record<string, unknown>): OpenedCode {
    let found;
    try {
      found = this.seal.peek(sealed);
    } catch (err) {
      return { sealedFor: '', digests: {}, fingerprint: '', error: err instanceof SealError ? err.detail : 'undecryptable' };
    }
    const { sessionId, code } = found;
    const digests = Object.fromEntries(this.codeKeys.ids().map((id) => [id, codeDigest(this.codeKeys.secret(id), sessionId, code)]));
    // Codes made before key ids existed were digested with the current key.
    digests[''] = digests[this.codeKeys.current.id];
    const str = (k: string) => (typeof req[k] === 'string' ? (req[k] as string) : '');
    const fingerprint = createHmac('sha256', this.codeKeys.current.secret)
      .update(JSON.stringify(['request', sessionId, code, str('purpose') || 'login', str('profile'), str('context').trim(), str('phone'), str('channel')]))
      .digest('base64url');
    return { sealedFor: sessionId, digests, fingerprint };
  }
}
