/**
 * Constant-time string comparison for digests inside the workflow sandbox,
 * where node:crypto's timingSafeEqual is not available. The time taken
 * depends only on the length of `expected`.
 */
export function constantTimeEqual(candidate: string, expected: string): boolean {
  let diff = candidate.length ^ expected.length;
  for (let i = 0; i < expected.length; i++) {
    diff |= (candidate.charCodeAt(i % Math.max(candidate.length, 1)) || 0) ^ expected.charCodeAt(i);
  }
  return diff === 0;
}
