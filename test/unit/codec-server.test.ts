import { AesGcmPayloadCodec, parsePayloadKeys } from '../../codec/payload-codec';
import { CodecServerConfigError, isLoopbackHost, startCodecServer, type CodecServerOptions, type RunningCodecServer } from '../../codec/codec-server';

const codec = new AesGcmPayloadCodec(parsePayloadKeys(`k1:${Buffer.alloc(32, 9).toString('base64')}`));
const TOKEN = 'ops-token-0123456789abcdef';
let open: RunningCodecServer;
let locked: RunningCodecServer;

beforeAll(async () => {
  open = await startCodecServer({ codec, port: 0, production: false, allowEncode: true });
  locked = await startCodecServer({ codec, port: 0, token: TOKEN, production: false, allowEncode: true });
});
afterAll(async () => {
  await open?.close();
  await locked?.close();
});

const plain = { metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: Buffer.from('{"phone":"+33612345678"}').toString('base64') };
const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

async function encrypted(): Promise<{ payloads: { metadata: Record<string, string>; data: string }[] }> {
  const [enc] = await codec.encode([{ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('"x"') }]);
  return {
    payloads: [
      {
        metadata: Object.fromEntries(Object.entries(enc.metadata!).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
        data: Buffer.from(enc.data!).toString('base64'),
      },
    ],
  };
}

test('encode then decode round-trips through HTTP, as the Web UI calls it', async () => {
  const enc = (await (await post(`${open.url}/encode`, { payloads: [plain] })).json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
  expect(Buffer.from(enc.payloads[0].metadata.encoding, 'base64').toString()).toBe('binary/encrypted');
  expect(Buffer.from(enc.payloads[0].data, 'base64').toString('latin1')).not.toContain('612345678');
  const dec = (await (await post(`${open.url}/decode`, enc)).json()) as { payloads: (typeof plain)[] };
  expect(dec.payloads[0]).toEqual(plain);
});

test('CORS preflight allows the Web UI origin, also on the token path', async () => {
  for (const url of [`${open.url}/decode`, `${locked.uiEndpoint}/decode`]) {
    const res = await fetch(url, {
      method: 'OPTIONS',
      headers: { origin: 'http://localhost:8233', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('http://localhost:8233');
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');
    expect(res.headers.get('access-control-allow-headers')).toContain('x-namespace');
    expect(res.headers.get('access-control-allow-headers')).toContain('content-type');
  }
});

test('malformed bodies get a 400 that says what is expected', async () => {
  const res = await fetch(`${open.url}/decode`, { method: 'POST', body: 'nope' });
  expect(res.status).toBe(400);
  expect(await res.json()).toEqual({ error: 'body must be JSON: {"payloads": [...]}' });
});

describe('with a token', () => {
  test('the Web UI form: endpoint http://host:port/<token>, POST <endpoint>/decode with X-Namespace', async () => {
    expect(locked.uiEndpoint).toBe(`${locked.url}/${TOKEN}`);
    expect(open.uiEndpoint).toBe(open.url);
    const res = await post(`${locked.uiEndpoint}/decode`, await encrypted(), { 'x-namespace': 'default' });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('http://localhost:8233');
    expect(((await res.json()) as { payloads: { data: string }[] }).payloads[0].data).toBe(Buffer.from('"x"').toString('base64'));
  });

  test('mounted under a prefix, only the last two segments count', async () => {
    expect((await post(`${locked.url}/codec/${TOKEN}/decode`, await encrypted())).status).toBe(200);
  });

  test('the CLI/SDK form: Authorization: Bearer <token>', async () => {
    expect((await post(`${locked.url}/decode`, await encrypted(), { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    expect((await post(`${locked.url}/encode`, { payloads: [plain] }, { authorization: `bearer ${TOKEN}` })).status).toBe(200);
  });

  test.each<[string, string, Record<string, string>]>([
    ['no token at all', '/decode', {}],
    ['a wrong bearer token', '/decode', { authorization: 'Bearer wrong' }],
    ['a bearer token one character off', '/decode', { authorization: `Bearer ${TOKEN.slice(0, -1)}g` }],
    ['a bearer token with a suffix', '/decode', { authorization: `Bearer ${TOKEN}x` }],
    ['a token in the wrong scheme', '/decode', { authorization: `Basic ${TOKEN}` }],
    ['a wrong path token', '/not-the-token-0123456789/decode', {}],
    ['a path token one character off', `/${TOKEN.slice(0, -1)}g/decode`, {}],
    ['the path token as a prefix only', `/${TOKEN}/x/decode`, {}],
    ['the UI passing the user OIDC token instead', '/decode', { authorization: 'Bearer eyJhbGciOiJSUzI1NiJ9.e30.sig' }],
  ])('%s is 401, and CORS still lets the UI read it', async (_, path, headers) => {
    const res = await post(`${locked.url}${path}`, await encrypted(), headers);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    expect(res.headers.get('access-control-allow-origin')).toBe('http://localhost:8233');
    expect(JSON.stringify(await res.json())).not.toContain(TOKEN);
  });

  test('every check compares fixed-length digests with timingSafeEqual, whatever the length given', async () => {
    // The module object itself (an ES namespace import cannot be spied on); codec/codec-server reads it at call time.
    const spy = jest.spyOn(require('node:crypto') as typeof import('node:crypto'), 'timingSafeEqual');
    try {
      for (const given of ['x', TOKEN.slice(0, -1), `${TOKEN}${'y'.repeat(100)}`]) {
        spy.mockClear();
        expect((await post(`${locked.url}/${given}/decode`, await encrypted(), { authorization: `Bearer ${given}` })).status).toBe(401);
        expect(spy).toHaveBeenCalledTimes(2);
        for (const [a, b] of spy.mock.calls) expect([a.byteLength, b.byteLength]).toEqual([32, 32]);
      }
    } finally {
      spy.mockRestore();
    }
  });
});

describe('refuses to start without a token where that is unsafe', () => {
  async function refusal(options: Omit<CodecServerOptions, 'codec'>): Promise<CodecServerConfigError> {
    const err = await startCodecServer({ codec, port: 0, ...options }).then(
      async (running) => {
        await running.close();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CodecServerConfigError);
    return err as CodecServerConfigError;
  }

  test.each(['0.0.0.0', '::', '192.168.1.20', 'codec.example.com', ''])('listening on %j', async (host) => {
    const err = await refusal({ host, production: false });
    expect(err.reason).toBe('token_required_non_loopback');
    expect(err.message).toMatch(/set OTP_CODEC_TOKEN/);
  });

  test('NODE_ENV=production, even on loopback', async () => {
    const err = await refusal({ host: '127.0.0.1', production: true });
    expect(err.reason).toBe('token_required_production');
    expect(err.message).toMatch(/NODE_ENV=production.*set OTP_CODEC_TOKEN/);
  });

  test('production defaults to NODE_ENV', async () => {
    const before = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      expect((await refusal({})).reason).toBe('token_required_production');
      const running = await startCodecServer({ codec, port: 0, token: TOKEN });
      await running.close();
    } finally {
      process.env.NODE_ENV = before;
    }
  });

  test.each(['', 'short-token', 'has a space 0123456789', 'slash/in/the/token/0123', 'x'.repeat(513)])('a malformed token %j', async (token) => {
    const err = await refusal({ token, production: false });
    expect(err.reason).toBe('token_malformed');
    expect(err.message).not.toContain(token || '\u0000');
  });

  test('loopback hosts', () => {
    for (const h of ['127.0.0.1', '127.9.9.9', 'localhost', 'LOCALHOST', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1'])
      expect(isLoopbackHost(h)).toBe(true);
    for (const h of ['0.0.0.0', '::', '', '10.0.0.1', '::ffff:10.0.0.1', 'fe80::1%lo0', 'localhost.example.com', '128.0.0.1'])
      expect(isLoopbackHost(h)).toBe(false);
  });
});

describe('review findings', () => {
  test('encode is off unless asked for: a caller cannot write payloads as a key holder', async () => {
    const server = await startCodecServer({ codec, port: 0, production: false });
    try {
      expect((await post(`${server.url}/encode`, { payloads: [plain] })).status).toBe(403);
      expect((await post(`${server.url}/decode`, await encrypted())).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  test('without a token, a request whose Host is not loopback (DNS rebinding) is refused', async () => {
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const url = new URL(`${open.url}/decode`);
      const req = request(
        {
          host: '127.0.0.1',
          port: url.port,
          path: '/decode',
          method: 'POST',
          headers: { host: 'rebind.attacker.example', 'content-type': 'application/json' },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify({ payloads: [] }));
    });
    expect(status).toBe(403);
  });
});
