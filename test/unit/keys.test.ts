import { codeDigest, maskPhone, normalizePhone, sessionWorkflowId } from '../../contract/keys';
import { AesGcmPayloadCodec, parsePayloadKeys } from '../../lib/payload-codec';

describe('session ids and digests', () => {
  test('the session id is stable per (tenant, phone) and hides the number', () => {
    const id = sessionWorkflowId('hash-key-0123456789', 'acme', '+33612345678');
    expect(id).toBe(sessionWorkflowId('hash-key-0123456789', 'acme', '+33612345678'));
    expect(id).toMatch(/^otp-acme-[A-Za-z0-9_-]{32}$/);
    expect(id).not.toContain('612345678');
    expect(sessionWorkflowId('hash-key-0123456789', 'other', '+33612345678')).not.toBe(id);
    expect(sessionWorkflowId('another-key-0123456', 'acme', '+33612345678').slice(-32)).not.toBe(id.slice(-32));
  });
  test('a tenant outside the safe alphabet is refused by name', () => {
    expect(() => sessionWorkflowId('hash-key-0123456789', 'a b', '+33612345678')).toThrow(/tenant "a b" is invalid/);
  });
  test('the code digest ignores surrounding spaces and case, not the code', () => {
    expect(codeDigest('k'.repeat(20), 'wf', ' 123456 ')).toBe(codeDigest('k'.repeat(20), 'wf', '123456'));
    expect(codeDigest('k'.repeat(20), 'wf', '123457')).not.toBe(codeDigest('k'.repeat(20), 'wf', '123456'));
  });
});

describe('phone numbers', () => {
  test('normalises to E.164, with a default region for national forms', () => {
    expect(normalizePhone('+33 6 12 34 56 78')).toBe('+33612345678');
    expect(normalizePhone('06 12 34 56 78', 'FR')).toBe('+33612345678');
  });
  test('rejects invalid numbers without echoing them', () => {
    expect(() => normalizePhone('+33 1')).toThrow(/phone number is invalid/);
    expect(() => normalizePhone('0612345678')).toThrow(/invalid_country/);
    try {
      normalizePhone('+3361234');
    } catch (err) {
      expect((err as Error).message).not.toContain('3361234');
    }
  });
  test('masks all but the calling code and the last three digits', () => {
    expect(maskPhone('+33612345678')).toBe('+33••••••678');
    expect(maskPhone('+14155550123')).toBe('+1•••••••123');
  });
});

describe('AES-GCM payload codec', () => {
  const k1 = parsePayloadKeys(`new:${Buffer.alloc(32, 1).toString('base64')}`);
  const k0 = parsePayloadKeys(`old:${Buffer.alloc(32, 2).toString('base64')}`);
  const payload = { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('{"phone":"+33612345678"}') };

  test('round-trips, and the ciphertext hides the data', async () => {
    const codec = new AesGcmPayloadCodec(k1);
    const [enc] = await codec.encode([payload]);
    expect(Buffer.from(enc.data!).toString('latin1')).not.toContain('612345678');
    expect(Buffer.from(enc.metadata!['encryption-key-id']!).toString()).toBe('new');
    const [dec] = await codec.decode([enc]);
    expect(Buffer.from(dec.data!).toString()).toBe('{"phone":"+33612345678"}');
    expect(Buffer.from(dec.metadata!.encoding!).toString()).toBe('json/plain');
  });
  test('rotation: new key encrypts, old key still decrypts', async () => {
    const [old] = await new AesGcmPayloadCodec(k0).encode([payload]);
    const rotated = new AesGcmPayloadCodec([...k1, ...k0]);
    const [dec] = await rotated.decode([old]);
    expect(Buffer.from(dec.data!).toString()).toContain('+33612345678');
  });
  test('an unknown key id and a tampered payload both fail loudly', async () => {
    const [enc] = await new AesGcmPayloadCodec(k0).encode([payload]);
    await expect(new AesGcmPayloadCodec(k1).decode([enc])).rejects.toThrow(/key "old"/);
    const bad = Buffer.from(enc.data!);
    bad[20] ^= 1;
    await expect(new AesGcmPayloadCodec(k0).decode([{ ...enc, data: bad }])).rejects.toThrow();
  });
  test('a key of the wrong size is refused by name', () => {
    expect(() => parsePayloadKeys('x:AAAA')).toThrow(/payload key "x" must be 32 bytes/);
  });
});
