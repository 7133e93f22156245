import { generateKeyPairSync } from 'node:crypto';
import { couldBeCode, maskPhone, normalizeCode, normalizePhone, parseSealPublicKey, sealCode, sessionWorkflowId } from '../../contract/keys';
import { CodeKeyring, SealError, SealOpener, codeDigest, codeKeyId } from '../../activities/code';
import { AesGcmPayloadCodec, PayloadCodecError, parsePayloadKeys } from '../../codec/payload-codec';
import { UNENCRYPTED_PAYLOAD, isIdempotencyKey, sendRequestProblem, verifyRequestProblem } from '../../contract';

describe('request rules shared by clients and the session (issue 13)', () => {
  test('idempotency keys: printable ASCII up to 128, never an Object.prototype name', () => {
    expect(isIdempotencyKey('order-42')).toBe(true);
    for (const bad of ['__proto__', 'constructor', 'toString', 'k'.repeat(129), 'a b', '', 42]) expect(isIdempotencyKey(bad)).toBe(false);
  });
  test('a send names its problem without echoing the value', () => {
    expect(sendRequestProblem({ phone: '+33612345678', profile: 'login' })).toBeUndefined();
    expect(sendRequestProblem(null)).toMatch(/must be an object/);
    expect(sendRequestProblem({ phone: '+33612345678', codeDigest: 'd'.repeat(1000) })).toMatch(/unknown field "codeDigest"/);
    expect(sendRequestProblem({ phone: '+33612345678', ignored: undefined })).toBeUndefined();
    const long = sendRequestProblem({ phone: '+33612345678', profile: 'p'.repeat(10_000) })!;
    expect(long).toMatch(/profile must be a profile name/);
    expect(long).not.toContain('pppp');
    expect(sendRequestProblem({ phone: '+33612345678', context: 'c'.repeat(161) })).toMatch(/context must be at most 160/);
    expect(sendRequestProblem({ phone: '+33612345678', brand: {} })).toMatch(/brand must be a string/);
    expect(verifyRequestProblem({ purpose: 'admin' })).toMatch(/purpose must be one of/);
    expect(verifyRequestProblem({ sealedCode: 'x'.repeat(1501) })).toMatch(/sealedCode must be at most 1500/);
  });
});

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
  test('the code digest ignores what people type around a code, not the code', () => {
    expect(codeDigest('k'.repeat(20), 'wf', ' 123-456 ')).toBe(codeDigest('k'.repeat(20), 'wf', '123456'));
    expect(codeDigest('k'.repeat(20), 'wf', '123457')).not.toBe(codeDigest('k'.repeat(20), 'wf', '123456'));
    expect(normalizeCode(' ab-c\u00A0d\te ')).toBe('ABCDE');
  });
  test('only what can be a code is sent to a session: empty, "-", too long or other characters are not (issue 13)', () => {
    for (const good of ['123456', ' 123-456 ', 'ac7k9q', '1234567890']) expect(couldBeCode(good)).toBe(true);
    for (const bad of ['', '-', ' - - ', '12345678901', '12345\u0000', '{code}', 'x'.repeat(1_000_000)]) expect(couldBeCode(bad)).toBe(false);
  });
  test('the id key alone cannot test a guess: digests are keyed with the worker-only code key', () => {
    expect(codeDigest('code-key-0123456789', 'wf', '123456')).not.toBe(codeDigest('hash-key-0123456789', 'wf', '123456'));
  });
  test('code keys rotate by id: codes made under the previous key stay readable, an unknown id is refused', () => {
    const ring = new CodeKeyring(['new-code-key-0123456789', 'old-code-key-0123456789']);
    expect(ring.current.id).toBe(codeKeyId('new-code-key-0123456789'));
    expect(ring.secret(codeKeyId('old-code-key-0123456789'))).toBe('old-code-key-0123456789');
    expect(() => ring.secret('0000000000000000')).toThrow(/no longer configured/);
  });
});

describe('sealed codes', () => {
  const pair = () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    return { pub: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'), priv: privateKey.export({ type: 'pkcs8', format: 'der' }) };
  };
  const a = pair();
  const b = pair();

  test('only the worker holding the private key opens a sealed code, for the session it was sealed for', () => {
    const sealed = sealCode(parseSealPublicKey(a.pub), 'otp-t-session1', ' 482 913 ', 'verify');
    expect(sealed).toMatch(/^[0-9a-f]{16}\.[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain('482913');
    expect(new SealOpener([a.priv]).open(sealed, 'otp-t-session1')).toBe('482913');
    expect(() => new SealOpener([a.priv]).open(sealed, 'otp-t-session2')).toThrow(SealError);
    expect(() => new SealOpener([b.priv]).open(sealed, 'otp-t-session1')).toThrow(/unknown_key/);
    expect(() => new SealOpener([a.priv]).open('not-a-sealed-code', 'otp-t-session1')).toThrow(/malformed/);
  });

  test('a rotated seal key keeps opening codes sealed before the rotation', () => {
    const old = sealCode(parseSealPublicKey(a.pub), 's', '123456', 'send');
    const opener = new SealOpener([b.priv, a.priv]);
    expect(opener.open(old, 's')).toBe('123456');
    expect(opener.open(sealCode(parseSealPublicKey(b.pub), 's', '654321', 'verify'), 's')).toBe('654321');
    expect(SealOpener.publicKeyOf(b.priv).toString('base64')).toBe(b.pub);
  });

  test('a seal public key must be RSA of 2048 bits or more', () => {
    expect(() => parseSealPublicKey('bm90IGEga2V5')).toThrow(/DER SubjectPublicKeyInfo/);
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    expect(() => parseSealPublicKey(small)).toThrow(/2048 bits/);
  });
});

describe('phone numbers', () => {
  test('letters, extensions, control, format and bidi characters are refused, not read around (issue 13)', () => {
    for (const bad of [
      '\u202E+33612345678',
      '+33612345678\u0000',
      '+\u200B33612345678',
      'tel:+33612345678',
      '+33612345678;ext=1',
      '+33612345678x9',
      '+33 6 12 34 56 78 call me',
      '+33612345678\n+33612345679',
    ]) {
      expect(() => normalizePhone(bad)).toThrow(/invalid_characters/);
    }
    expect(() => normalizePhone('1'.repeat(65))).toThrow(/too_long/);
    expect(() => normalizePhone(33612345678 as unknown as string)).toThrow(/not_a_number/);
    expect(normalizePhone('+33 (0)6-12.34/56 78')).toBe('+33612345678');
  });
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
  test("in the workers' mode, what cannot be opened decodes to the unencrypted marker the workflows refuse", async () => {
    const [enc] = await new AesGcmPayloadCodec(k0).encode([payload]);
    const worker = new AesGcmPayloadCodec(k1, { unreadable: 'refuse' });
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const bad = Buffer.from(enc.data!);
    bad[20] ^= 1;
    for (const p of [enc, { ...enc, data: bad, metadata: { ...enc.metadata, 'encryption-key-id': Buffer.from('new') } }]) {
      const [dec] = await worker.decode([p]);
      expect(JSON.parse(Buffer.from(dec.data!).toString())).toEqual(UNENCRYPTED_PAYLOAD);
    }
    expect(warn.mock.calls.map((c) => String(c[0])).join('\n')).not.toContain('612345678');
    warn.mockRestore();
  });
  // Found by test/unit/fuzz-payload-codec.test.ts: data shorter than IV + tag threw TypeError
  // ("Invalid initialization vector", "Invalid authentication tag length"), and 12 bytes were
  // checked against a 4-byte tag cut from the IV.
  test('a payload too short for its IV and tag, or failing its tag, is a PayloadCodecError', async () => {
    const codec = new AesGcmPayloadCodec(k1);
    const [enc] = await codec.encode([payload]);
    for (const n of [0, 5, 12, 16, 27]) {
      await expect(codec.decode([{ ...enc, data: Buffer.from(enc.data!).subarray(0, n) }])).rejects.toBeInstanceOf(PayloadCodecError);
    }
    const bad = Buffer.from(enc.data!);
    bad[bad.length - 1] ^= 1;
    await expect(codec.decode([{ ...enc, data: bad }])).rejects.toThrow(PayloadCodecError);
    await expect(new AesGcmPayloadCodec(k0).decode([enc])).rejects.toThrow(PayloadCodecError);
  });
  test('a key of the wrong size is refused by name', () => {
    expect(() => parsePayloadKeys('x:AAAA')).toThrow(/payload key "x" must be 32 bytes/);
  });
});
