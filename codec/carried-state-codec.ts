/**
 * Signs the state a session carries across continue-as-new, so that no one
 * but a worker can hand a session its state (the number, the nonce, the
 * fallback contacts). On encode, an object payload with `carried` gets
 * `carriedMac` = "<code key id>.<base64url HMAC-SHA256(code key, JSON of carried)>";
 * on decode, `carried` without a valid MAC is dropped and `carriedRefused` set,
 * so the session fails at once. Only workers hold the code key.
 *
 * Worker only; runs after decryption, like the sealed-code codec.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { editJsonObject } from './json-payload';
import type { CodeKeyring } from '../activities/code';

export class CarriedStateCodec implements PayloadCodec {
  constructor(private readonly codeKeys: CodeKeyring) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) =>
      editJsonObject(p, (obj) => {
        if (obj.carried === undefined) return false;
        obj.carriedMac = `${this.codeKeys.current.id}.${this.mac(this.codeKeys.current.secret, obj.carried)}`;
        return true;
      }),
    );
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) =>
      editJsonObject(p, (obj) => {
        const touched = 'carried' in obj || 'carriedMac' in obj || 'carriedRefused' in obj;
        if (!touched) return false;
        const mac = typeof obj.carriedMac === 'string' ? obj.carriedMac : '';
        delete obj.carriedMac;
        delete obj.carriedRefused;
        if (obj.carried === undefined) return true;
        if (!this.valid(mac, obj.carried)) {
          delete obj.carried;
          obj.carriedRefused = true;
        }
        return true;
      }),
    );
  }

  private valid(mac: string, carried: unknown): boolean {
    const [id, sig] = mac.split('.');
    if (!id || !sig || !this.codeKeys.has(id)) return false;
    const want = Buffer.from(this.mac(this.codeKeys.secret(id), carried));
    const got = Buffer.from(sig);
    return want.length === got.length && timingSafeEqual(want, got);
  }

  private mac(secret: string, carried: unknown): string {
    return createHmac('sha256', secret)
      .update(`carried|${JSON.stringify(carried)}`)
      .digest('base64url');
  }
}
