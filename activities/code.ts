/**
 * Code derivation, HOTP-style: code = f(HMAC-SHA256(codeKey, workflowId|nonce)).
 * Deterministic for a given nonce, so an activity retry or a staggered resend
 * sends the same code without the code ever being stored anywhere.
 */
import { createHmac } from 'node:crypto';
import { MAX_CODE_LENGTH, MIN_CODE_LENGTH } from '../contract';

export function deriveCode(codeKey: string, sessionWorkflowId: string, nonce: string, length: number): string {
  if (!Number.isInteger(length) || length < MIN_CODE_LENGTH || length > MAX_CODE_LENGTH) {
    throw new RangeError(`code length must be ${MIN_CODE_LENGTH}–${MAX_CODE_LENGTH}, got ${length}`);
  }
  const mac = createHmac('sha256', codeKey).update(`${sessionWorkflowId}|${nonce}`).digest();
  // 64 bits modulo 10^length: bias below 1e-9 for length ≤ 10.
  const n = mac.readBigUInt64BE(0) % 10n ** BigInt(length);
  return n.toString().padStart(length, '0');
}
