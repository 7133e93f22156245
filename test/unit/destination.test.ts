import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import type { LookupAddress } from 'node:dns';
import { guardedLookup, signedPost } from '../../activities/http-post';
import { DestinationError, blockedRange, checkAddress, checkUrl, parseOutboundPolicy, type OutboundPolicy } from '../../policy/destination';

const none = parseOutboundPolicy(undefined);

/** The reason checkUrl refuses with, or 'ok'. */
function urlVerdict(url: string, policy: OutboundPolicy = none): string {
  try {
    checkUrl(url, policy);
    return 'ok';
  } catch (err) {
    if (err instanceof DestinationError) return err.reason;
    throw err;
  }
}

function addressVerdict(ip: string, policy: OutboundPolicy = none, host?: string): string {
  try {
    checkAddress(ip, policy, host);
    return 'ok';
  } catch (err) {
    if (err instanceof DestinationError) return err.reason;
    throw err;
  }
}

describe('blocked ranges', () => {
  test.each([
    ['0.1.2.3', 'this-network'],
    ['10.20.30.40', 'private'],
    ['100.64.0.1', 'shared-cgnat'],
    ['100.127.255.254', 'shared-cgnat'],
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['169.254.169.254', 'link-local'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.0.0.8', 'ietf-protocol'],
    ['192.168.1.1', 'private'],
    ['198.18.0.1', 'benchmarking'],
    ['198.19.255.1', 'benchmarking'],
    ['224.0.0.251', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'broadcast'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456::1', 'unique-local'],
    ['fe80::1', 'link-local'],
    ['febf::1', 'link-local'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['64:ff9b::a9fe:a9fe', 'link-local'],
    ['64:ff9b::10.0.0.1', 'private'],
    ['::127.0.0.1', 'ipv4-compatible'],
  ])('%s is %s', (ip, range) => {
    expect(blockedRange(ip)).toBe(range);
    expect(addressVerdict(ip)).toBe(`private_address:${range}`);
  });

  test.each([
    '8.8.8.8',
    '100.63.255.255',
    '100.128.0.0',
    '172.15.255.255',
    '172.32.0.0',
    '192.0.1.1',
    '198.17.255.255',
    '198.20.0.0',
    '223.255.255.255',
    '1.1.1.1',
    '2606:4700:4700::1111',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
  ])('%s is public', (ip) => {
    expect(blockedRange(ip)).toBeNull();
    expect(addressVerdict(ip)).toBe('ok');
  });
});

describe('checkUrl', () => {
  test.each([
    ['http://169.254.169.254/latest/meta-data/iam/', 'private_address:link-local'],
    ['http://127.0.0.1:8080/hook', 'private_address:loopback'],
    ['http://[::1]/hook', 'private_address:loopback'],
    ['http://[::ffff:127.0.0.1]/hook', 'private_address:loopback'],
    ['http://[::ffff:a9fe:a9fe]/', 'private_address:link-local'],
    ['http://[64:ff9b::7f00:1]/', 'private_address:loopback'],
    ['http://[fe80::1]/', 'private_address:link-local'],
    ['http://[fd00::5]/', 'private_address:unique-local'],
    ['http://0.0.0.0/', 'private_address:this-network'],
    ['http://10.0.0.1/', 'private_address:private'],
    ['http://192.168.0.10/', 'private_address:private'],
    // WHATWG URL normalises these to dotted IPv4 before we see the host.
    ['http://2130706433/', 'private_address:loopback'],
    ['http://0x7f.1/', 'private_address:loopback'],
    ['http://0177.0.0.1/', 'private_address:loopback'],
    ['http://0xa9fea9fe/', 'private_address:link-local'],
    ['http://127.1/', 'private_address:loopback'],
    ['ftp://hooks.example.com/', 'not_http'],
    ['file:///etc/passwd', 'not_http'],
    ['javascript:alert(1)', 'not_http'],
    ['https://user:pass@hooks.example.com/', 'credentials_in_url'],
    ['https://user@hooks.example.com/', 'credentials_in_url'],
    ['not a url', 'invalid_url'],
    ['/relative', 'invalid_url'],
  ])('%s -> %s', (url, reason) => {
    expect(urlVerdict(url)).toBe(reason);
  });

  test('a URL over 2048 characters is refused before parsing', () => {
    expect(urlVerdict(`https://hooks.example.com/${'x'.repeat(2048)}`)).toBe('too_long');
  });

  test('public hosts and names pass the static check (names are checked again once resolved)', () => {
    expect(urlVerdict('https://hooks.example.com/otp?x=1')).toBe('ok');
    expect(urlVerdict('http://8.8.8.8/')).toBe('ok');
    expect(urlVerdict('http://[2606:4700:4700::1111]/')).toBe('ok');
    expect(urlVerdict('http://localhost/')).toBe('ok');
    expect(urlVerdict(`https://h.example.com/${'x'.repeat(2048 - 'https://h.example.com/'.length)}`)).toBe('ok');
  });

  test('messages name the host, never the path or query', () => {
    expect(() => checkUrl('https://u:secret@hooks.example.com/p?token=abc', none)).toThrow(/hooks\.example\.com/);
    try {
      checkUrl('https://u:secret@hooks.example.com/p?token=abc', none);
    } catch (err) {
      expect((err as Error).message).not.toMatch(/secret|token=abc/);
    }
  });
});

describe('allowlist', () => {
  test('an address or network entry opens a blocked range, and only that one', () => {
    const p = parseOutboundPolicy('127.0.0.1, 10.0.0.0/8, fd00::/8');
    expect(urlVerdict('http://127.0.0.1:9000/', p)).toBe('ok');
    expect(urlVerdict('http://2130706433/', p)).toBe('ok');
    expect(urlVerdict('http://127.0.0.2/', p)).toBe('private_address:loopback');
    expect(urlVerdict('http://10.9.8.7/', p)).toBe('ok');
    expect(urlVerdict('http://[fd12::1]/', p)).toBe('ok');
    expect(urlVerdict('http://[fc00::1]/', p)).toBe('private_address:unique-local');
    expect(urlVerdict('http://169.254.169.254/', p)).toBe('private_address:link-local');
    expect(addressVerdict('::ffff:127.0.0.1', p)).toBe('ok');
  });

  test('a host name entry does not open a blocked range: the address needs its own entry', () => {
    const p = parseOutboundPolicy('hooks.internal');
    expect(addressVerdict('10.1.2.3', p, 'hooks.internal')).toBe('private_address:private');
    expect(addressVerdict('10.1.2.3', parseOutboundPolicy('hooks.internal,10.1.2.3'), 'hooks.internal')).toBe('ok');
  });

  test('requireAllowlist: public destinations must match a host, wildcard or network entry', () => {
    const p = parseOutboundPolicy('hooks.example.com, *.example.net, 203.0.113.0/24', { requireAllowlist: true });
    expect(urlVerdict('https://hooks.example.com/', p)).toBe('ok');
    expect(urlVerdict('https://HOOKS.example.com./', p)).toBe('ok');
    expect(urlVerdict('https://a.example.net/', p)).toBe('ok');
    expect(urlVerdict('https://a.b.example.net/', p)).toBe('ok');
    expect(urlVerdict('http://203.0.113.9/', p)).toBe('ok');
    expect(urlVerdict('http://8.8.8.8/', p)).toBe('not_allowed');
    // example.net itself and look-alike suffixes are not under the wildcard.
    expect(addressVerdict('8.8.8.8', p, 'example.net')).toBe('not_allowed');
    expect(addressVerdict('8.8.8.8', p, 'evilexample.net')).toBe('not_allowed');
    expect(addressVerdict('8.8.8.8', p, 'hooks.example.com')).toBe('ok');
    // A name not listed may still land in a listed network once resolved.
    expect(urlVerdict('https://other.example.org/', p)).toBe('ok');
    expect(addressVerdict('203.0.113.5', p, 'other.example.org')).toBe('ok');
    expect(addressVerdict('198.51.100.5', p, 'other.example.org')).toBe('not_allowed');
    // With name entries only, an unlisted name is refused before any lookup.
    expect(urlVerdict('https://other.example.org/', parseOutboundPolicy('hooks.example.com', { requireAllowlist: true }))).toBe('not_allowed');
  });

  test('requireAllowlist defaults to false', () => {
    expect(parseOutboundPolicy('hooks.example.com').requireAllowlist).toBe(false);
    expect(urlVerdict('https://elsewhere.example.org/', parseOutboundPolicy('hooks.example.com'))).toBe('ok');
  });

  test('empty entries and whitespace are ignored', () => {
    expect(parseOutboundPolicy(' a.example.com , ,b.example.com,')).toMatchObject({ hosts: ['a.example.com', 'b.example.com'] });
    expect(parseOutboundPolicy('')).toMatchObject({ hosts: [], suffixes: [], networks: [] });
  });

  test.each([
    ['10.0.0.1/8', /bits set beyond the prefix/],
    ['10.0.0.0/33', /prefix must be 0–32/],
    ['fd00::/129', /prefix must be 0–128/],
    ['10.0.0.0/x', /prefix must be/],
    ['nonsense/8', /address\/prefix/],
    ['10.0.0.0/8/9', /address\/prefix/],
    ['https://hooks.example.com', /not a URL/],
    ['hooks.example.com:443', /expected a host name/],
    ['*', /expected a host name/],
    ['*.', /expected a host name/],
    ['-bad.example.com', /expected a host name/],
    ['bad_name.example.com', /expected a host name/],
    ['exa mple.com', /expected a host name/],
    ['2130706433', /dotted-decimal/],
    ['0x7f.1', /dotted-decimal/],
    ['127.1', /dotted-decimal/],
  ])('refuses the entry %s', (spec, message) => {
    let caught: unknown;
    try {
      parseOutboundPolicy(spec);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(DestinationError);
    expect((caught as DestinationError).reason).toBe('bad_allowlist');
    expect((caught as DestinationError).message).toMatch(message);
  });
});

describe('signedPost', () => {
  let server: Server;
  let port: number;
  let received: { headers: IncomingHttpHeaders; body: string }[] = [];
  let status = 204;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(status, status === 302 ? { location: 'http://127.0.0.1:1/' } : {});
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    received = [];
    status = 204;
  });

  const body = JSON.stringify({ sessionId: 's1', code: '123456' });

  async function refusal(promise: Promise<number>): Promise<ApplicationFailure> {
    const err = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ApplicationFailure);
    return err as ApplicationFailure;
  }

  test('posts, signed, when the address is allowlisted', async () => {
    const before = Math.floor(Date.now() / 1000);
    const result = await signedPost('cb-key', `http://127.0.0.1:${port}/hook`, body, 'evt-1', 'webhook channel', parseOutboundPolicy('127.0.0.1'));
    expect(result).toBe(204);
    expect(received).toHaveLength(1);
    const [{ headers, body: got }] = received;
    expect(got).toBe(body);
    expect(headers['content-type']).toBe('application/json');
    expect(headers['x-otp-event-id']).toBe('evt-1');
    const timestamp = String(headers['x-otp-timestamp']);
    expect(Number(timestamp)).toBeGreaterThanOrEqual(before);
    expect(headers['x-otp-signature']).toBe(`sha256=${createHmac('sha256', 'cb-key').update(`${timestamp}.${body}`).digest('hex')}`);
  });

  test('a loopback literal without the allowlist is refused, non-retryable, and nothing is sent', async () => {
    const err = await refusal(signedPost('k', `http://127.0.0.1:${port}/hook`, body, 'evt-2', 'webhook channel', none));
    expect(err.type).toBe('InvalidDestination');
    expect(err.nonRetryable).toBe(true);
    expect(err.message).toMatch(/^webhook channel refused: 127\.0\.0\.1 is a loopback address/);
    expect(received).toHaveLength(0);
  });

  test('a name resolving to loopback (localhost) is refused at lookup time', async () => {
    // The static check lets a name through; the refusal comes from the connection's own lookup.
    expect(urlVerdict(`http://localhost:${port}/hook`)).toBe('ok');
    const err = await refusal(signedPost('k', `http://localhost:${port}/hook`, body, 'evt-3', 'delivery callback', none));
    expect(err.type).toBe('InvalidDestination');
    expect(err.nonRetryable).toBe(true);
    expect(err.cause).toBeInstanceOf(DestinationError);
    expect((err.cause as DestinationError).reason).toMatch(/^private_address:loopback$/);
    expect(err.message).toMatch(/localhost resolves to a loopback address/);
    expect(received).toHaveLength(0);
  });

  test('a name is accepted once its addresses are allowlisted; only those addresses reach the socket', async () => {
    const policy = parseOutboundPolicy('127.0.0.1');
    const addresses = await new Promise<LookupAddress[]>((resolve, reject) =>
      guardedLookup(policy)('localhost', { all: true }, (err, found) => (err ? reject(err) : resolve(found as LookupAddress[]))),
    );
    expect(addresses).toEqual([{ address: '127.0.0.1', family: 4 }]);
    expect(await signedPost('k', `http://localhost:${port}/hook`, body, 'evt-4', 'delivery callback', policy)).toBe(204);
    expect(received).toHaveLength(1);
  });

  test('a redirect is a failure and is not followed; errors name only the host', async () => {
    status = 302;
    await expect(
      signedPost('k', `http://127.0.0.1:${port}/hook?secret=1`, body, 'evt-5', 'delivery callback', parseOutboundPolicy('127.0.0.1')),
    ).rejects.toThrow(new Error(`delivery callback to 127.0.0.1:${port} answered HTTP 302`));
    expect(received).toHaveLength(1);
  });

  test('a network error is an ordinary (retryable) error naming the host', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const err = await signedPost('k', `http://127.0.0.1:${deadPort}/`, body, 'evt-6', 'delivery callback', parseOutboundPolicy('127.0.0.1')).catch(
      (e: unknown) => e,
    );
    expect(err).not.toBeInstanceOf(ApplicationFailure);
    expect((err as Error).message).toBe(`delivery callback to 127.0.0.1:${deadPort} failed: ECONNREFUSED`);
  });

  test('a bad URL is refused before any connection', async () => {
    const err = await refusal(signedPost('k', 'ftp://example.com/', body, 'evt-7', 'delivery callback', none));
    expect(err.nonRetryable).toBe(true);
    expect((err.cause as DestinationError).reason).toBe('not_http');
  });
});

describe('IPv6 forms that tunnel to IPv4 or are not routable (review findings)', () => {
  test.each([
    '::ffff:0:7f00:1',
    '::ffff:0:a9fe:a9fe',
    '64:ff9b:1::a9fe:a9fe',
    '2002:a9fe:a9fe::1',
    '2001:0:4136:e378:8000:63bf:3fff:fdd2',
    '100::1',
    'fec0::1',
    '2001:db8::1',
  ])('%s is refused', (ip) => {
    expect(blockedRange(ip)).not.toBeNull();
  });
});
