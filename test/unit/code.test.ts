import { deriveCode } from '../../activities/code';
import { constantTimeEqual } from '../../workflows/constant-time';

describe('deriveCode', () => {
  test('is deterministic for one nonce, so a retry resends the same code', () => {
    expect(deriveCode('k'.repeat(32), 'wf', 'nonce-1', 6)).toBe(deriveCode('k'.repeat(32), 'wf', 'nonce-1', 6));
  });
  test('differs across nonces, sessions and keys', () => {
    const base = deriveCode('k'.repeat(32), 'wf', 'n', 8);
    expect(deriveCode('k'.repeat(32), 'wf', 'n2', 8)).not.toBe(base);
    expect(deriveCode('k'.repeat(32), 'wf2', 'n', 8)).not.toBe(base);
    expect(deriveCode('j'.repeat(32), 'wf', 'n', 8)).not.toBe(base);
  });
  test.each([6, 7, 8, 10])('gives %i digits, zero-padded', (len) => {
    for (let i = 0; i < 50; i++) expect(deriveCode('key-for-tests-000', 'wf', `n${i}`, len)).toMatch(new RegExp(`^\\d{${len}}$`));
  });
  test('spreads over the whole range (first digit is not biased)', () => {
    const firsts = new Set<string>();
    for (let i = 0; i < 400; i++) firsts.add(deriveCode('key-for-tests-000', 'wf', `n${i}`, 6)[0]);
    expect(firsts.size).toBe(10);
  });
  test('alphanumeric codes use only unambiguous characters', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 300; i++) for (const ch of deriveCode('key-for-tests-000', 'wf', `n${i}`, 8, 'alphanumeric')) seen.add(ch);
    for (const ambiguous of '0O1IL5S2Z8B') expect(seen.has(ambiguous)).toBe(false);
    expect(seen.size).toBe(25);
  });
  test.each([5, 11, 6.5])('refuses length %p', (len) => {
    expect(() => deriveCode('key-for-tests-000', 'wf', 'n', len)).toThrow(/code length must be 6–10/);
  });
});

describe('constantTimeEqual', () => {
  test('equal strings match; any difference, shorter or longer, does not', () => {
    expect(constantTimeEqual('abcdef', 'abcdef')).toBe(true);
    expect(constantTimeEqual('abcdeg', 'abcdef')).toBe(false);
    expect(constantTimeEqual('abcde', 'abcdef')).toBe(false);
    expect(constantTimeEqual('abcdefg', 'abcdef')).toBe(false);
    expect(constantTimeEqual('', 'abcdef')).toBe(false);
    expect(constantTimeEqual('', '')).toBe(true);
  });
});
