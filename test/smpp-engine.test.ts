/**
 * The ESME engine over real TCP against the simulator, without Temporal:
 * bind modes, TLS, keep-alive both ways, unbind, timeouts, window, TPS,
 * throttling, classification, message fields, routing and failover, ids.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SmppBind } from '../smpp/bind';
import { errorForStatus, isTransientStatus, SMPP_STATUS } from '../smpp/errors';
import { canonicalMessageId } from '../smpp/ids';
import type { ParsedReceipt } from '../smpp/receipt';
import { SmscRoute, SmscRouter } from '../smpp/smsc';
import { quiet, SEND, smppKit, TLS_FIXTURES as TLS, until } from './helpers/smpp';

const { cleanup, sim, route } = smppKit();

function collect(r: SmscRoute | SmscRouter): ParsedReceipt[] {
  const got: ParsedReceipt[] = [];
  if (r instanceof SmscRoute) r.onReceipt(async (x) => void got.push(x));
  else r.onReceipt(async (x) => void got.push(x));
  return got;
}

describe('binds', () => {
  test('transmitter+receiver: submits go on transmitters, receipts come on receivers', async () => {
    const s = await sim();
    const r = route(s, { bindMode: 'transmitter+receiver', binds: 2, systemType: 'OTP' });
    const receipts = collect(r);
    await r.allReady();
    expect(
      s
        .boundSessions()
        .map((b) => b.mode)
        .sort(),
    ).toEqual(['receiver', 'receiver', 'transmitter', 'transmitter']);
    const sent = await r.submitText('+33611110001', 'Acme 1', SEND);
    const rx = s
      .boundSessions()
      .filter((b) => b.mode === 'receiver')
      .map((b) => b.session);
    await until(() => receipts.find((x) => x.messageId === sent.messageIds[0]), 'receipt');
    expect(rx).toContain(s.receiptsSent.find((x) => x.submitId === sent.messageIds[0])!.session);
    expect(rx).not.toContain(s.submits.find((x) => x.id === sent.messageIds[0])!.session);
  });

  test('SMPP over TLS binds with the right CA and refuses an unknown one', async () => {
    const s = await sim({ tls: { key: readFileSync(join(TLS, 'server-key.pem')), cert: readFileSync(join(TLS, 'server-cert.pem')) } });
    const good = route(s, { tls: { ca: readFileSync(join(TLS, 'ca.pem')), servername: 'localhost' } });
    await good.ready();
    expect((await good.submitText('+33611110002', 'Acme over TLS', SEND)).messageIds).toHaveLength(1);
    expect(s.messages('+33611110002')[0].text).toBe('Acme over TLS');
    const bad = new SmppBind({
      name: 'bad',
      host: '127.0.0.1',
      port: s.smppPort,
      systemId: 'otp',
      password: 'secret',
      tls: { ca: readFileSync(join(TLS, 'other-ca.pem')), servername: 'localhost' },
      logger: quiet,
      reconnectInitialMs: 5000,
    });
    bad.start();
    cleanup.push(() => bad.close());
    await expect(bad.ready(700)).rejects.toThrow(/not ready/);
  });

  test('enquire_link both ways: we answer the SMSC, and keep the link alive ourselves', async () => {
    const s = await sim();
    const r = route(s, { binds: 2, enquireLinkMs: 1000 });
    await r.allReady();
    expect(await s.enquireLinkAll()).toBe(2);
    await until(() => s.received.enquireLinks >= 2 || undefined, 'our enquire_link', 3000);
  });

  test('an unbind from the SMSC is answered and the bind comes back', async () => {
    const s = await sim();
    const r = route(s);
    await r.allReady();
    s.unbindAll();
    await until(() => r.binds[0].state !== 'bound' || undefined, 'unbound');
    await r.allReady(3000);
    expect((await r.submitText('+33611110003', 'back', SEND)).messageIds).toHaveLength(1);
    expect(r.binds[0].stats.reconnects).toBeGreaterThanOrEqual(1);
  });

  test('every response has a timeout; a submit past it is in doubt, not failed', async () => {
    const s = await sim({ behaviours: { '+33611110004': 'slow' }, slowResponseMs: 1500 });
    const r = route(s, { responseTimeoutMs: 300, submitDeadlineMs: 250 });
    await r.ready();
    const sent = await r.submitText('+33611110004', 'slow', SEND);
    expect(sent.messageIds[0]).toMatch(/^indoubt-/);
    expect(r.stats.snapshot()).toMatchObject({ inDoubt: 1, unconfirmedParts: 1 });
  });

  test('close drains the window before unbinding: nothing in flight is lost', async () => {
    const s = await sim({ behaviours: { '+33611110005': 'slow' }, slowResponseMs: 400 });
    const r = new SmscRoute({ name: 'd', host: '127.0.0.1', port: s.smppPort, systemId: 'otp', password: 'secret', window: 10 }, quiet);
    r.start();
    await r.ready();
    const inFlight = Array.from({ length: 5 }, (_, i) => r.submitText('+33611110005', `m${i}`, SEND));
    await until(() => s.submits.filter((x) => x.to === '+33611110005').length === 5 || undefined, 'five submits');
    await r.close();
    const results = await Promise.all(inFlight);
    expect(results.every((x) => x.messageIds.length === 1)).toBe(true);
    expect(s.received.unbinds).toBe(1);
    await expect(r.submitText('+33611110005', 'late', SEND)).rejects.toThrow();
  });
});

describe('flow control', () => {
  test('the window caps outstanding submit_sm per bind', async () => {
    const s = await sim({ behaviours: { '+33611110006': 'slow' }, slowResponseMs: 150 });
    const r = route(s, { window: 2 });
    await r.ready();
    await Promise.all(Array.from({ length: 6 }, (_, i) => r.submitText('+33611110006', `w${i}`, SEND)));
    expect([...s.maxOutstanding.values()]).toEqual([2]);
  });

  test('the TPS budget spreads submits over time', async () => {
    const s = await sim();
    const r = route(s, { tps: 10, window: 50 });
    await r.ready();
    await Promise.all(Array.from({ length: 20 }, (_, i) => r.submitText('+33611110007', `t${i}`, SEND)));
    const times = s.submits.filter((x) => x.to === '+33611110007').map((x) => x.at);
    // A bucket of 10 plus 10 per second: the last of 20 cannot leave before ~1 s.
    expect(Math.max(...times) - Math.min(...times)).toBeGreaterThanOrEqual(900);
  });

  test.each(['throttle', 'queue_full'] as const)('%s backs off and succeeds once the SMSC recovers', async (behaviour) => {
    const s = await sim({ behaviours: { '+33611110008': behaviour } });
    const r = route(s, { submitDeadlineMs: 5000 });
    await r.ready();
    const sending = r.submitText('+33611110008', 'patience', SEND);
    await new Promise((x) => setTimeout(x, 400));
    s.setBehaviour('+33611110008', 'deliver');
    expect((await sending).messageIds).toHaveLength(1);
    expect(s.submits.filter((x) => x.to === '+33611110008' && x.status !== 0).length).toBeGreaterThan(1);
    expect(r.binds[0].stats.throttled).toBeGreaterThan(1);
  });

  test('OTP traffic waiting for the window goes before bulk', async () => {
    const s = await sim({ behaviours: { '+33611110009': 'slow', '+33611110010': 'slow' }, slowResponseMs: 100 });
    const r = route(s, { window: 1 });
    await r.ready();
    const bulk = Array.from({ length: 3 }, (_, i) => r.submitText('+33611110009', `bulk${i}`, { ...SEND, trafficClass: 'bulk' }));
    await new Promise((x) => setTimeout(x, 20));
    const otp = r.submitText('+33611110010', 'otp', { ...SEND, trafficClass: 'otp' });
    await Promise.all([...bulk, otp]);
    const order = s.submits.filter((x) => x.to === '+33611110009' || x.to === '+33611110010').map((x) => x.to);
    expect(order.indexOf('+33611110010')).toBe(1); // right after the bulk submit already in flight
  });

  test('generic_nack and a dropped socket are transient; a bad address is permanent', async () => {
    const s = await sim({ behaviours: { '+33611110011': 'nack', '+33611110012': 'refuse' } });
    const r = route(s, { submitDeadlineMs: 300 });
    await r.ready();
    await expect(r.submitText('+33611110011', 'x', SEND)).rejects.toMatchObject({ name: 'SmppTransientError' });
    await expect(r.submitText('+33611110012', 'x', SEND)).rejects.toMatchObject({ name: 'SmppPermanentError', commandStatus: SMPP_STATUS.ESME_RINVDSTADR });
    expect(s.submits.filter((x) => x.to === '+33611110012')).toHaveLength(1); // no retry of a permanent refusal
  });

  test('every command_status is classed', () => {
    for (const [name, status] of Object.entries(SMPP_STATUS)) {
      if (status === 0) continue;
      const err = errorForStatus('submit_sm', status);
      expect(err.message).toContain(name);
      expect(err.name).toBe(isTransientStatus(status) ? 'SmppTransientError' : 'SmppPermanentError');
    }
    expect(isTransientStatus(SMPP_STATUS.ESME_RTHROTTLED)).toBe(true);
    expect(isTransientStatus(SMPP_STATUS.ESME_RINVDSTADR)).toBe(false);
    expect(errorForStatus('submit_sm', 0x123).message).toContain('0x00000123');
  });
});

describe('message fields', () => {
  test('validity_period is the remaining lifetime; registered_delivery and TON/NPI are set', async () => {
    const s = await sim();
    const r = route(s);
    await r.ready();
    await r.submitText('+33611110013', 'a', { senderId: 'Acme', validitySeconds: 240 });
    await r.submitText('+33611110014', 'b', { senderId: '36123', validitySeconds: 60 });
    await r.submitText('+33611110015', 'c', { senderId: '+33170000000', validitySeconds: 60 });
    const [a, b, c] = ['+33611110013', '+33611110014', '+33611110015'].map((to) => s.submits.find((x) => x.to === to)!);
    expect(Math.abs(a.validitySeconds! - 240)).toBeLessThanOrEqual(2);
    expect([a.sourceTon, a.sourceNpi]).toEqual([5, 0]);
    expect([b.sourceTon, b.sourceNpi]).toEqual([3, 0]);
    expect([c.sourceTon, c.sourceNpi]).toEqual([1, 1]);
  });

  test('long texts: UDH concatenation by default, message_payload as a route option', async () => {
    const s = await sim();
    const text = `Acme ${'long text '.repeat(25)}`;
    const udh = route(s);
    await udh.ready();
    const a = await udh.submitText('+33611110016', text, SEND);
    expect(a).toMatchObject({ segments: 2 });
    expect(a.messageIds).toHaveLength(2);
    const payload = new SmscRoute({ name: 'p', host: '127.0.0.1', port: s.smppPort, systemId: 'otp', password: 'secret', longMessages: 'payload' }, quiet);
    payload.start();
    cleanup.push(() => payload.close());
    await payload.ready();
    const b = await payload.submitText('+33611110017', text, SEND);
    expect(b.messageIds).toHaveLength(1);
    expect(s.submits.find((x) => x.to === '+33611110017')!.payload).toBe(true);
    expect(s.messages('+33611110016')[0].text).toBe(text);
    expect(s.messages('+33611110017')[0].text).toBe(text);
  });
});

describe('routing and ids', () => {
  test('routes by country; fails over when a route is down', async () => {
    const fr = await sim();
    const other = await sim();
    const router = new SmscRouter(
      [
        {
          name: 'fr',
          host: '127.0.0.1',
          port: fr.smppPort,
          systemId: 'otp',
          password: 'secret',
          countries: ['FR'],
          reconnectInitialMs: 50,
          submitDeadlineMs: 300,
        },
        { name: 'any', host: '127.0.0.1', port: other.smppPort, systemId: 'otp', password: 'secret', reconnectInitialMs: 50 },
      ],
      quiet,
    );
    router.start();
    cleanup.push(() => router.close());
    await router.ready();
    expect((await router.submitText('+33611110018', 'fr', { ...SEND, country: 'FR' })).route).toBe('fr');
    expect((await router.submitText('+447400123456', 'gb', { ...SEND, country: 'GB' })).route).toBe('any');
    await fr.stop(); // the FR SMSC goes away: its binds drop and keep failing to reconnect
    await until(() => !router.route('fr')!.up || undefined, 'fr route down');
    expect((await router.submitText('+33611110019', 'failover', { ...SEND, country: 'FR' })).route).toBe('any');
    expect(other.messages('+33611110019')).toHaveLength(1);
    expect(router.describe().find((x) => x.name === 'fr')!.up).toBe(false);
  });

  test('a route with bulk only does not take OTP traffic', async () => {
    const s = await sim();
    const router = new SmscRouter(
      [{ name: 'bulk', host: '127.0.0.1', port: s.smppPort, systemId: 'otp', password: 'secret', trafficClasses: ['bulk'] }],
      quiet,
    );
    router.start();
    cleanup.push(() => router.close());
    await expect(router.submitText('+33611110020', 'x', SEND)).rejects.toThrow(/no SMSC route serves/);
  });

  test('hex submit ids meet decimal receipt ids in one canonical key', async () => {
    const s = await sim({ messageIds: { submit: 'hex', receipt: 'decimal' }, receiptTlvs: false });
    const r = route(s, { messageIds: { submit: 'hex', receipt: 'decimal' } });
    const receipts = collect(r);
    await r.ready();
    const sent = await r.submitText('+33611110021', 'ids', SEND);
    const id = sent.messageIds[0];
    expect(id).toMatch(/^[0-9a-f]+$/);
    const receipt = await until(() => receipts[0], 'receipt');
    expect(receipt).toMatchObject({ idSource: 'text', messageId: BigInt(`0x${id}`).toString(10) });
    expect(r.receiptKey(receipt)).toBe(r.submitKey(id));
    expect(canonicalMessageId('00FF', 'hex')).toBe('255');
    expect(canonicalMessageId('0255', 'decimal')).toBe('255');
    expect(canonicalMessageId(' AbC ', 'string')).toBe('abc');
  });

  test('a receipt for an id nobody submitted is acknowledged, and nothing breaks', async () => {
    const s = await sim();
    const r = route(s);
    collect(r);
    await r.ready();
    expect(await s.sendUnknownReceipt()).toBe(0);
    expect((await r.submitText('+33611110022', 'still fine', SEND)).messageIds).toHaveLength(1);
  });
});

test('a route from SMSC_ROUTES JSON with only the required fields binds and sends (defaults fill the rest)', async () => {
  const s = await sim();
  const { parseRoutes } = await import('../config/routes-config');
  const [config] = parseRoutes(JSON.stringify([{ name: 'min', host: '127.0.0.1', port: s.smppPort, systemId: 'otp', password: 'secret' }]), 'test');
  const r = new SmscRoute(config, quiet);
  r.start();
  cleanup.push(() => r.close());
  await r.ready();
  expect((await r.submitText('+33611110023', 'minimal route', SEND)).messageIds).toHaveLength(1);
  expect(r.binds[0].describe()).toMatchObject({ state: 'bound', outstanding: 0 });
});
