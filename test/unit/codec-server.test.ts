import { AesGcmPayloadCodec, parsePayloadKeys } from '../../lib/payload-codec';
import { startCodecServer, type RunningCodecServer } from '../../lib/codec-server';

const codec = new AesGcmPayloadCodec(parsePayloadKeys(`k1:${Buffer.alloc(32, 9).toString('base64')}`));
let open: RunningCodecServer;
let locked: RunningCodecServer;

beforeAll(async () => {
  open = await startCodecServer({ codec, port: 0 });
  locked = await startCodecServer({ codec, port: 0, token: 'ops-token-123' });
});
afterAll(async () => {
  await open?.close();
  await locked?.close();
});

const plain = { metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: Buffer.from('{"phone":"+33612345678"}').toString('base64') };
const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

test('encode then decode round-trips through HTTP, as the Web UI calls it', async () => {
  const enc = (await (await post(`${open.url}/encode`, { payloads: [plain] })).json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
  expect(Buffer.from(enc.payloads[0].metadata.encoding, 'base64').toString()).toBe('binary/encrypted');
  expect(Buffer.from(enc.payloads[0].data, 'base64').toString('latin1')).not.toContain('612345678');
  const dec = (await (await post(`${open.url}/decode`, enc)).json()) as { payloads: typeof plain[] };
  expect(dec.payloads[0]).toEqual(plain);
});

test('CORS preflight allows the Web UI origin', async () => {
  const res = await fetch(`${open.url}/decode`, { method: 'OPTIONS' });
  expect(res.status).toBe(204);
  expect(res.headers.get('access-control-allow-origin')).toBe('http://localhost:8233');
  expect(res.headers.get('access-control-allow-headers')).toContain('x-namespace');
});

test('with a token, only a caller holding it can decode', async () => {
  const [enc] = await codec.encode([{ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('"x"') }]);
  const body = { payloads: [{ metadata: Object.fromEntries(Object.entries(enc.metadata!).map(([k, v]) => [k, Buffer.from(v).toString('base64')])), data: Buffer.from(enc.data!).toString('base64') }] };
  expect((await post(`${locked.url}/decode`, body)).status).toBe(401);
  expect((await post(`${locked.url}/decode`, body, { authorization: 'Bearer wrong' })).status).toBe(401);
  expect((await post(`${locked.url}/decode`, body, { authorization: 'Bearer ops-token-123' })).status).toBe(200);
});

test('malformed bodies get a 400 that says what is expected', async () => {
  const res = await fetch(`${open.url}/decode`, { method: 'POST', body: 'nope' });
  expect(res.status).toBe(400);
  expect(await res.json()).toEqual({ error: 'body must be JSON: {"payloads": [...]}' });
});
