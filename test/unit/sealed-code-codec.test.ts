import { generateKeyPairSync } from 'node:crypto';
import { parseSealPublicKey, sealCode } from '../../contract/keys';
import { CodeKeyring, SealOpener, codeDigest } from '../../activities/code';
import { SealedCodeCodec } from '../../codec/sealed-code-codec';

const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pub = parseSealPublicKey(publicKey.export({ type: 'spki', format: 'der' }).toString('base64'));
const codec = new SealedCodeCodec(new SealOpener([privateKey.export({ type: 'pkcs8', format: 'der' })]), new CodeKeyring(['code-key-0123456789']));
const json = (text: string) => ({ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(text) });
const read = async (text: string) => JSON.parse(Buffer.from((await codec.decode([json(text)]))[0].data!).toString()) as Record<string, unknown>;

test('a sealed code reaches the workflow as digests under every code key, never as the code', async () => {
  const out = await read(JSON.stringify({ sealedCode: sealCode(pub, 'otp-t-s1', '482913', 'verify'), purpose: 'login' }));
  const opened = out.opened as { sealedFor: string; use: string; digests: Record<string, string> };
  expect(opened).toMatchObject({ sealedFor: 'otp-t-s1', use: 'verify' });
  expect(Object.values(opened.digests)).toContain(codeDigest('code-key-0123456789', 'otp-t-s1', '482913'));
  expect(JSON.stringify(out.opened)).not.toContain('482913');
});

test('an `opened` a caller wrote is dropped, however the JSON spells its keys', async () => {
  const forged = { sealedFor: 'otp-t-s1', use: 'verify', sealedAtMs: Date.now(), sealId: 'x', digests: { '': 'forged' }, fingerprint: 'f' };
  expect((await read(JSON.stringify({ purpose: 'login', opened: forged }))).opened).toBeUndefined();
  // "sealed\u0043ode" is sealedCode once parsed: the codec parses, it does not search bytes.
  const escaped = `{"sealed\\u0043ode":"not-a-seal","opened":${JSON.stringify(forged)}}`;
  expect((await read(escaped)).opened).toMatchObject({ error: 'malformed', digests: {} });
  expect((await read(`{"\\u006fpened":${JSON.stringify(forged)}}`)).opened).toBeUndefined();
});
