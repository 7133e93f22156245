/**
 * Account-wide limits, connect timeouts, mutual TLS, charsets and TON/NPI,
 * over real TCP against the simulator, without Temporal.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { SmppBind } from '../smpp/bind';
import { parseRoutes } from '../config/routes-config';
import { SmscRoute, SmscRouter, type RouteConfig } from '../smpp/smsc';
import { workerShare } from '../smpp/account-share';
import { SmscSimulator } from '../sim/smsc-simulator';
import { quiet, SEND, smppKit, TLS_FIXTURES as TLS, until as waitUntil } from './helpers/smpp';

const { cleanup, sim } = smppKit();
const until = <T>(fn: () => T | undefined | false, what: string, ms = 10000) => waitUntil(fn, what, ms);

describe('account-wide limits', () => {
  test('two workers on one system_id keep, together, to the route binds and TPS', async () => {
    const s = await sim();
    // The account allows 4 binds and 10 submit_sm/s; two worker processes share it.
    const account: RouteConfig = {
      name: 'acct',
      host: '127.0.0.1',
      port: s.smppPort,
      systemId: 'otp',
      password: 'secret',
      binds: 4,
      tps: 10,
      submitDeadlineMs: 30000,
      reconnectInitialMs: 50,
    };
    const workers = [0, 1].map(() => {
      const router = new SmscRouter([workerShare(account, 2)], quiet);
      router.start();
      cleanup.push(() => router.close());
      return router;
    });
    await Promise.all(workers.map((w) => w.routes[0].allReady()));
    // Each worker fires 20 at once from idle: the moment a token bucket would burst.
    await Promise.all(
      workers.flatMap((w, i) => Array.from({ length: 20 }, (_, k) => w.submitText(`+336111${i}${String(k).padStart(4, '0')}`, 'Acme code', SEND))),
    );
    expect(s.submits.filter((r) => r.status === 0)).toHaveLength(40);
    expect(s.peakBinds.get('otp')).toBeLessThanOrEqual(4);
    // Measured by arrival at the SMSC; a window 50 ms short of a second allows for transit jitter.
    expect(s.maxSubmitsInWindow('otp', 950)).toBeLessThanOrEqual(10);
    expect(s.maxSubmitsInWindow('otp', 950)).toBeGreaterThanOrEqual(5);
  }, 20000);
});

/** Accepts TCP and never says a word: no bind_resp, no TLS ServerHello. */
async function silentServer(): Promise<{ port: number; connections: () => number }> {
  let n = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((sock) => {
    n++;
    sockets.add(sock);
    sock.on('error', () => undefined);
    sock.on('close', () => sockets.delete(sock));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { port: (server.address() as { port: number }).port, connections: () => n };
}

describe('connect timeout', () => {
  test.each([
    ['bind_resp never comes', null],
    ['the TLS handshake never completes', { servername: 'localhost' }],
  ])(
    '%s: the bind gives up after connectTimeoutMs and reconnects with backoff',
    async (_what, tls) => {
      const silent = await silentServer();
      // responseTimeoutMs is far longer than the test: only connectTimeoutMs can end each attempt.
      const bind = new SmppBind({
        name: 'silent',
        host: '127.0.0.1',
        port: silent.port,
        systemId: 'otp',
        password: 'secret',
        tls,
        connectTimeoutMs: 200,
        responseTimeoutMs: 120000,
        reconnectInitialMs: 20,
        reconnectMaxMs: 100,
        logger: quiet,
      });
      bind.start();
      cleanup.push(() => bind.close());
      await until(() => silent.connections() >= 3, 'three connection attempts');
      expect(bind.state).not.toBe('bound');
      expect(bind.describe().connectTimeouts).toBeGreaterThanOrEqual(2);
      expect(bind.describe().reconnects).toBeGreaterThanOrEqual(2);
    },
    20000,
  );

  test('connectTimeoutMs is a route field', () => {
    const [r] = parseRoutes(JSON.stringify([{ name: 'r', host: 'h', port: 1, systemId: 's', connectTimeoutMs: 3000 }]), 'test');
    expect(r.connectTimeoutMs).toBe(3000);
  });
});

describe('mutual TLS', () => {
  test('a route with tls.certFile/keyFile binds to an SMSC that demands a client certificate; without one it cannot', async () => {
    const s = await sim({
      tls: {
        key: readFileSync(join(TLS, 'server-key.pem')),
        cert: readFileSync(join(TLS, 'server-cert.pem')),
        clientCa: readFileSync(join(TLS, 'client-ca.pem')),
      },
    });
    const [config] = parseRoutes(
      JSON.stringify([
        {
          name: 'mtls',
          host: '127.0.0.1',
          port: s.smppPort,
          systemId: 'otp',
          password: 'secret',
          tls: { caFile: join(TLS, 'ca.pem'), servername: 'localhost', certFile: join(TLS, 'client-cert.pem'), keyFile: join(TLS, 'client-key.pem') },
        },
      ]),
      'test',
    );
    const good = new SmscRoute(config, quiet);
    good.start();
    cleanup.push(() => good.close());
    await good.ready(5000);
    expect((await good.submitText('+33611119001', 'Acme over mTLS', SEND)).messageIds).toHaveLength(1);
    expect(s.messages('+33611119001')[0].text).toBe('Acme over mTLS');

    const anonymous = new SmppBind({
      name: 'anon',
      host: '127.0.0.1',
      port: s.smppPort,
      systemId: 'otp',
      password: 'secret',
      tls: { ca: readFileSync(join(TLS, 'ca.pem')), servername: 'localhost' },
      logger: quiet,
      reconnectInitialMs: 5000,
    });
    anonymous.start();
    cleanup.push(() => anonymous.close());
    await expect(anonymous.ready(700)).rejects.toThrow(/not ready/);
    expect(s.boundSessions()).toHaveLength(1);
  });

  test('tls.certFile without tls.keyFile is refused at start-up', () => {
    expect(() =>
      parseRoutes(JSON.stringify([{ name: 'r', host: 'h', port: 1, systemId: 's', tls: { certFile: join(TLS, 'client-cert.pem') } }]), 'test'),
    ).toThrow(/certFile and tls.keyFile go together/);
  });
});

describe('route charset and TON/NPI', () => {
  const AUTOFILL = 'Your Acme code is 482913.\n\n@acme.example #482913';
  async function send(s: SmscSimulator, extra: Partial<RouteConfig>, to: string, text: string) {
    const r = new SmscRoute({ name: 'c', host: '127.0.0.1', port: s.smppPort, systemId: 'otp', password: 'secret', ...extra }, quiet);
    r.start();
    cleanup.push(() => r.close());
    await r.ready();
    const sent = await r.submitText(to, text, SEND);
    return { sent, records: s.submits.filter((x) => x.to === to) };
  }
  const hex = (t: string, enc: BufferEncoding = 'latin1') => Buffer.from(t, enc).toString('hex');

  test('gsm7 (default): data_coding 0, unpacked GSM 03.38 with @ as 0x00', async () => {
    const s = await sim();
    const { sent, records } = await send(s, {}, '+33611118001', AUTOFILL);
    expect(sent.dataCoding).toBe(0);
    expect(records[0].dataCoding).toBe(0);
    expect(records[0].bytesHex).toBe(hex(AUTOFILL).replace('40', '00'));
    expect(s.messages('+33611118001')[0].text).toBe(AUTOFILL);
  });

  test.each([
    ['latin1', 3],
    ['ia5', 1],
  ] as const)('%s: data_coding %p, @ goes as 0x40 so the autofill line survives', async (charset, dc) => {
    const s = await sim();
    const { sent, records } = await send(s, { charset }, '+33611118002', AUTOFILL);
    expect(sent).toMatchObject({ dataCoding: dc, encoding: 'GSM7', segments: 1 });
    expect(records[0].dataCoding).toBe(dc);
    expect(records[0].bytesHex).toBe(hex(AUTOFILL));
    expect(records[0].bytesHex).toContain(hex('@acme.example #482913'));
    expect(s.messages('+33611118002')[0].text).toBe(AUTOFILL);
  });

  test('latin1 long text: every UDH part in data_coding 3, 153 characters a part', async () => {
    const s = await sim();
    const text = `${'Votre code Acme est 482913, valable 5 minutes. '.repeat(5)}@acme.example #482913`;
    const { sent, records } = await send(s, { charset: 'latin1' }, '+33611118003', text);
    expect(sent.segments).toBe(2);
    expect(records.map((r) => r.dataCoding)).toEqual([3, 3]);
    expect(s.messages('+33611118003')[0].text).toBe(text);
  });

  test.each([
    ['ia5', 'Code: 482913 (é)'],
    ['latin1', 'Code: 482913, 5 €'],
    ['latin1', 'Code: 482913 Δ'],
    ['latin1', 'Code: 482913 😀'],
  ] as const)('%s: a text the charset cannot hold goes UCS-2 (%p)', async (charset, text) => {
    const s = await sim();
    const { sent, records } = await send(s, { charset }, '+33611118004', text);
    expect(sent.dataCoding).toBe(8);
    expect(records[0].dataCoding).toBe(8);
    expect(s.messages('+33611118004')[0].text).toBe(text);
  });

  test('sourceTon/sourceNpi/destTon/destNpi override the derived values; without them TON/NPI are derived', async () => {
    const s = await sim();
    const derived = await send(s, {}, '+33611118005', 'Acme 1');
    expect(derived.records[0]).toMatchObject({ sourceTon: 5, sourceNpi: 0, destTon: 1, destNpi: 1 });
    const over = await send(s, { sourceTon: 0, sourceNpi: 1, destTon: 0, destNpi: 1 }, '+33611118006', 'Acme 2');
    expect(over.records[0]).toMatchObject({ sourceTon: 0, sourceNpi: 1, destTon: 0, destNpi: 1 });
  });

  test('charset and TON/NPI are route fields, checked at start-up', () => {
    const [r] = parseRoutes(
      JSON.stringify([{ name: 'r', host: 'h', port: 1, systemId: 's', charset: 'latin1', sourceTon: 1, sourceNpi: 1, destTon: 0, destNpi: 1 }]),
      'test',
    );
    expect(r).toMatchObject({ charset: 'latin1', sourceTon: 1, sourceNpi: 1, destTon: 0, destNpi: 1 });
    expect(() => parseRoutes(JSON.stringify([{ name: 'r', host: 'h', port: 1, systemId: 's', charset: 'utf8' }]), 'test')).toThrow(/charset must be/);
    expect(() => parseRoutes(JSON.stringify([{ name: 'r', host: 'h', port: 1, systemId: 's', destTon: 7 }]), 'test')).toThrow(
      /destTon must be an integer from 0 to 6/,
    );
  });
});
