/**
 * Property-based fuzzing of the payload codecs (issue 13): encode→decode
 * round-trips any payload; a random or tampered ciphertext is a typed
 * refusal (clients) or the UNENCRYPTED marker (workers), never a crash and
 * never another plaintext; the carried-state MAC and the JSON editing the
 * worker codecs share hold on arbitrary JSON.
 */
import fc from 'fast-check';
import { METADATA_ENCODING_KEY, type Payload } from '@temporalio/common';
import { CodeKeyring } from '../../activities/code';
import { UNENCRYPTED_PAYLOAD } from '../../contract';
import { CarriedStateCodec } from '../../codec/carried-state-codec';
import { editJsonObject } from '../../codec/json-payload';
import { AesGcmPayloadCodec, ENCRYPTED_ENCODING, KEY_ID_METADATA, PayloadCodecError, parsePayloadKeys } from '../../codec/payload-codec';
import { fuzz } from '../helpers/fuzz';

const KEYS = parsePayloadKeys(`k1:${Buffer.alloc(32, 7).toString('base64')},k0:${Buffer.alloc(32, 3).toString('base64')}`);
const client = new AesGcmPayloadCodec(KEYS);
const worker = new AesGcmPayloadCodec(KEYS, { unreadable: 'refuse' });
const OTHER = new AesGcmPayloadCodec(parsePayloadKeys(`k1:${Buffer.alloc(32, 8).toString('base64')}`));

const bytes = (maxLength: number) => fc.uint8Array({ maxLength }).map((b) => Buffer.from(b));
const jsonData = fc.jsonValue({ maxDepth: 3 }).map((v) => Buffer.from(JSON.stringify(v) ?? 'null'));
const payloadArb: fc.Arbitrary<Payload> = fc.record(
  {
    metadata: fc
      .dictionary(fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('encoding', '__proto__', 'constructor')), bytes(40), { maxKeys: 4 })
      .map((m) => ({ [METADATA_ENCODING_KEY]: Buffer.from('json/plain'), ...m })),
    data: fc.oneof(jsonData, bytes(300)),
  },
  { requiredKeys: ['metadata'] },
);

function same(a: Payload, b: Payload): void {
  const norm = (p: Payload) => ({
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('hex')])),
    data: p.data ? Buffer.from(p.data).toString('hex') : undefined,
  });
  expect(norm(a)).toEqual(norm(b));
}

function isMarker(p: Payload): boolean {
  return Buffer.from(p.data ?? []).toString() === JSON.stringify(UNENCRYPTED_PAYLOAD);
}

/** Ways an encrypted payload is broken in transit or forged. */
type Tamper =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'truncate'; to: number }
  | { kind: 'extend'; extra: Buffer }
  | { kind: 'replace'; data: Buffer }
  | { kind: 'keyId'; id: string }
  | { kind: 'splice'; at: number; extra: Buffer };
const tamperArb: fc.Arbitrary<Tamper> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('truncate' as const), to: fc.nat() }),
  fc.record({ kind: fc.constant('extend' as const), extra: bytes(20).filter((b) => b.length > 0) }),
  fc.record({ kind: fc.constant('replace' as const), data: bytes(80) }),
  fc.record({ kind: fc.constant('keyId' as const), id: fc.string({ maxLength: 8 }) }),
  fc.record({ kind: fc.constant('splice' as const), at: fc.nat(), extra: bytes(8).filter((b) => b.length > 0) }),
);

function tamper(enc: Payload, t: Tamper): Payload {
  const data = Buffer.from(enc.data ?? []);
  switch (t.kind) {
    case 'flip': {
      const copy = Buffer.from(data);
      copy[t.at % copy.length] ^= 1 << t.bit;
      return { ...enc, data: copy };
    }
    case 'truncate':
      return { ...enc, data: data.subarray(0, t.to % data.length) };
    case 'extend':
      return { ...enc, data: Buffer.concat([data, t.extra]) };
    case 'replace':
      return { ...enc, data: t.data };
    case 'keyId':
      return { ...enc, metadata: { ...enc.metadata, [KEY_ID_METADATA]: Buffer.from(t.id) } };
    case 'splice': {
      const at = t.at % (data.length + 1);
      return { ...enc, data: Buffer.concat([data.subarray(0, at), t.extra, data.subarray(at)]) };
    }
  }
}

describe('AES-GCM payload codec', () => {
  test('encode→decode round-trips any payload: JSON or bytes, any metadata keys (numRuns 800)', async () => {
    await fc.assert(
      fc.asyncProperty(payloadArb, async (p) => {
        const [enc] = await client.encode([p]);
        expect(Buffer.from(enc.metadata![METADATA_ENCODING_KEY]!).toString()).toBe(ENCRYPTED_ENCODING);
        const [back] = await client.decode([enc]);
        same(back, p);
        const [back2] = await worker.decode([enc]);
        same(back2, p);
      }),
      fuzz(800, 1601),
    );
  });

  test('a tampered or forged ciphertext is a PayloadCodecError (clients) or the UNENCRYPTED marker (workers), never a plaintext (numRuns 1500)', async () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      await fc.assert(
        fc.asyncProperty(payloadArb, tamperArb, async (p, t) => {
          const [enc] = await client.encode([p]);
          const bad = tamper(enc, t);
          const unchanged =
            Buffer.from(bad.data ?? []).equals(Buffer.from(enc.data ?? [])) && Buffer.from(bad.metadata![KEY_ID_METADATA] ?? []).toString() === 'k1';
          if (unchanged) return; // e.g. a key id rewritten to itself
          await expect(client.decode([bad])).rejects.toBeInstanceOf(PayloadCodecError);
          const [refused] = await worker.decode([bad]);
          expect(isMarker(refused)).toBe(true);
        }),
        fuzz(1500, 1602),
      );
    } finally {
      process.off('warning', onWarning);
      warn.mockRestore();
    }
    expect(warnings).toEqual([]); // no short-tag deprecation or other process warning on the way
  });

  test('a payload encrypted under another key with the same id is refused, never opened as something else (numRuns 300)', async () => {
    await fc.assert(
      fc.asyncProperty(payloadArb, async (p) => {
        const [enc] = await OTHER.encode([p]);
        await expect(client.decode([enc])).rejects.toBeInstanceOf(PayloadCodecError);
      }),
      fuzz(300, 1603),
    );
  });

  test('a payload not marked encrypted decodes to the marker (refuse) or as it is (pass) (numRuns 500)', async () => {
    const pass = new AesGcmPayloadCodec(KEYS, { plaintext: 'pass' });
    await fc.assert(
      fc.asyncProperty(
        payloadArb,
        fc.option(fc.constantFrom('binary/plain', 'json/protobuf', 'binary/encrypted ', 'BINARY/ENCRYPTED'), { nil: undefined }),
        async (p, encoding) => {
          const metadata = Object.fromEntries(Object.entries(p.metadata ?? {}).filter(([k]) => k !== METADATA_ENCODING_KEY));
          const plain: Payload = { ...p, metadata: encoding === undefined ? metadata : { ...metadata, [METADATA_ENCODING_KEY]: Buffer.from(encoding) } };
          const [refused] = await client.decode([plain]);
          expect(isMarker(refused)).toBe(true);
          const [passed] = await pass.decode([plain]);
          expect(passed).toBe(plain);
        },
      ),
      fuzz(500, 1604),
    );
  });
});

describe('worker codecs on arbitrary JSON', () => {
  const keys = new CodeKeyring(['code-key-0123456789abcdef']);
  const carried = new CarriedStateCodec(keys);
  const json = (v: unknown): Payload => ({ metadata: { [METADATA_ENCODING_KEY]: Buffer.from('json/plain') }, data: Buffer.from(JSON.stringify(v)) });
  const read = (p: Payload): unknown => JSON.parse(Buffer.from(p.data!).toString());
  const objectArb = fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 5 });

  test('editJsonObject never throws on arbitrary bytes and passes non-objects through untouched (numRuns 1500)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          bytes(100),
          fc.jsonValue({ maxDepth: 2 }).map((v) => Buffer.from(JSON.stringify(v) ?? '')),
        ),
        fc.constantFrom('json/plain', 'binary/plain'),
        (data, encoding) => {
          const p: Payload = { metadata: { [METADATA_ENCODING_KEY]: Buffer.from(encoding) }, data };
          let seen = false;
          const out = editJsonObject(p, (obj) => {
            seen = true;
            expect(typeof obj === 'object' && obj !== null && !Array.isArray(obj)).toBe(true);
            return false;
          });
          expect(out).toBe(p);
          if (encoding !== 'json/plain') expect(seen).toBe(false);
        },
      ),
      fuzz(1500, 1605),
    );
  });

  test('carried state: signed on encode, kept on decode; any edit of the state or the MAC is refused (numRuns 800)', async () => {
    await fc.assert(
      fc.asyncProperty(
        objectArb,
        fc.jsonValue({ maxDepth: 3 }),
        fc.jsonValue({ maxDepth: 1 }),
        fc.oneof(fc.constant(undefined), fc.string({ maxLength: 60 })),
        async (rest, state, other, forgedMac) => {
          const base = { ...rest, carried: state };
          delete (base as Record<string, unknown>).carriedMac;
          delete (base as Record<string, unknown>).carriedRefused;
          const [signed] = await carried.encode([json(base)]);
          const [opened] = await carried.decode([signed]);
          expect(read(opened)).toEqual(JSON.parse(JSON.stringify(base)));
          // Same MAC, other state: refused unless the state serialises the same.
          const edited = { ...(read(signed) as Record<string, unknown>), carried: other };
          const [out] = await carried.decode([json(edited)]);
          const kept = JSON.stringify(other) === JSON.stringify(JSON.parse(JSON.stringify(base)).carried);
          expect((read(out) as Record<string, unknown>).carriedRefused).toBe(kept ? undefined : true);
          // A MAC the caller wrote.
          const [forged] = await carried.decode([json({ ...base, carriedMac: forgedMac })]);
          expect(read(forged)).toMatchObject({ carriedRefused: true });
          expect(read(forged)).not.toHaveProperty('carried');
        },
      ),
      fuzz(800, 1606),
    );
  });
});
