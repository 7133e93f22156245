/**
 * Code derivation, HOTP-style: code = f(HMAC-SHA256(codeKey, workflowId|nonce)).
 * Deterministic for a given nonce, so an activity retry or a re-delivery
 * sends the same code without the code ever being stored anywhere.
 */
import { createHmac } from 'node:crypto';
import { MAX_CODE_LENGTH, MIN_CODE_LENGTH } from '../contract';
import { ALPHABETS, type CodeAlphabet } from '../policy/profile';

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
