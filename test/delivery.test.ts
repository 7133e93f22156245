/**
 * Delivery receipts end to end, on the real dev server and the simulator over
 * real TCP: receipts before the response, receipts on the bind that did not
 * submit (two workers, two binds each), a worker killed while it waits for a
 * receipt, multipart aggregation, unknown ids, signed delivery callbacks,
 * the status endpoint and a graceful shutdown.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { connectOtpClient, type DeliveryCallbackEvent, type OtpClient } from '../client';
import { loadConfig, type OtpConfig } from '../config/config';
import { freePort } from '../dev/temporal-server';
import { SmscSimulator } from '../sim/smsc-simulator';
import { startWorker, type RunningOtpWorker } from '../worker';
import { accepted, codeFrom, quietRuntime, startStack, temporalAddress, TEST_PROFILES, type TestStack } from './helpers/stack';
import { waitFor } from './helpers/wait';
import { startHttpReceiver } from './helpers/http-receiver';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined);
});

async function stack(simOptions: ConstructorParameters<typeof SmscSimulator>[0] = {}, env: Record<string, string> = {}): Promise<TestStack> {
  const s = await startStack(simOptions, env);
  cleanup.push(() => s.stop());
  return s;
}

const delivered = (otp: OtpClient, phone: string, what = 'delivered') =>
  waitFor(
    // Right after a worker is killed, the server may still route a query to its sticky queue, where it
    // times out: that says nothing about the session, so ask again.
    () => otp.status(phone).catch(() => undefined),
    (st) => st?.code?.delivery === 'delivered',
    what,
  );

test('a receipt that arrives before the submit_sm_resp still reaches its session', async () => {
  const s = await stack({ receiptBeforeResponse: true });
  const phone = '+33612600001';
  accepted(await s.otp.send(phone));
  const st = await delivered(s.otp, phone);
  expect(st?.code?.deliveryStat).toBe('DELIVRD');
  expect(s.sim.receiptsSent).toHaveLength(1);
});

test('two workers with two binds each: receipts land on a bind that did not submit, every session ends right', async () => {
  quietRuntime();
  const sim = new SmscSimulator({ smppPort: 0, httpPort: 0, quiet: true, receiptRouting: 'other', behaviours: { '+33612610009': 'undeliverable' } });
  await sim.start();
  cleanup.push(() => sim.stop());
  const config = loadConfig({
    TEMPORAL_ADDRESS: temporalAddress(),
    OTP_TASK_QUEUE: `otp-two-${randomUUID()}`,
    OTP_TENANT: `two${randomUUID().slice(0, 8)}`,
    SMSC_PORT: String(sim.smppPort),
    SMSC_BINDS: '2',
    OTP_PROFILES: JSON.stringify(TEST_PROFILES),
    OTP_SENDER_APPROVAL: 'off',
    // As test/helpers/stack.ts pins them: a CI machine busy with other suites must not turn a send away as too old.
    OTP_MAX_SEND_WAIT_MS: '10000',
    OTP_CLIENT_SEND_TARGET_MS: '10000',
  });
  const workers: RunningOtpWorker[] = [];
  for (let i = 0; i < 2; i++) {
    const w = await startWorker(config, { workflowBundle: { codePath: process.env.OTP_TEST_BUNDLE! }, workerOptions: { shutdownGraceTime: '1 second' } });
    workers.push(w);
    cleanup.push(() => w.shutdown());
  }
  await Promise.all(workers.map((w) => Promise.all(w.smsc.routes[0].binds.map((b) => b.ready(5000)))));
  expect(sim.sessionCount).toBe(4);
  const otp = await connectOtpClient(config);
  cleanup.push(() => otp.temporal.connection.close());
  const phones = Array.from({ length: 10 }, (_, i) => `+3361261000${i}`);
  await Promise.all(phones.map((p) => otp.send(p).then(accepted)));
  for (const p of phones) {
    const want = p === '+33612610009' ? 'failed' : 'delivered';
    await waitFor(
      () => otp.status(p),
      (st) => st?.code?.delivery === want,
      `session ${p}`,
    );
  }
  // Every receipt went to a session other than the one that submitted the message.
  expect(sim.receiptsSent).toHaveLength(10);
  for (const r of sim.receiptsSent) expect(r.session).not.toBe(sim.submits.find((x) => x.id === r.submitId)!.session);
  // Both workers submitted some of them.
  expect(new Set(sim.submits.map((x) => x.session)).size).toBeGreaterThan(1);
});

test('a worker killed while it waits for a receipt: after a restart the session completes when the receipt arrives', async () => {
  const sim = new SmscSimulator({ smppPort: 0, httpPort: 0, quiet: true, holdReceipts: true });
  await sim.start();
  cleanup.push(() => sim.stop());
  const env = {
    ...process.env,
    TEMPORAL_ADDRESS: temporalAddress(),
    OTP_TASK_QUEUE: `otp-kill-${randomUUID()}`,
    OTP_TENANT: `kill${randomUUID().slice(0, 8)}`,
    SMSC_PORT: String(sim.smppPort),
    OTP_PROFILES: JSON.stringify(TEST_PROFILES),
    OTP_SENDER_APPROVAL: 'off',
  };
  const spawnWorker = async (): Promise<ChildProcess> => {
    const child = spawn(process.execPath, [join(__dirname, '..', 'dist', 'worker.js')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    cleanup.push(async () => void child.kill('SIGKILL'));
    await waitFor(
      async () => out,
      (o) => /worker: polling/.test(o) && /bound/.test(o),
      'worker start',
      30_000,
    );
    return child;
  };
  const first = await spawnWorker();
  const otp = await connectOtpClient(loadConfig(env, 'client'));
  cleanup.push(() => otp.temporal.connection.close());
  const phone = '+33612620001';
  accepted(await otp.send(phone));
  const code = codeFrom(sim.messages(phone)[0].text);
  expect((await otp.status(phone))?.code?.delivery).toBe('submitted');

  first.kill('SIGKILL');
  await new Promise((r) => first.once('exit', r));
  await waitFor(
    async () => sim.sessionCount,
    (n) => n === 0,
    'the dead bind to drop',
  );

  await spawnWorker();
  expect(sim.releaseReceipts()).toBe(1);
  await delivered(otp, phone, 'delivery after restart');
  expect(await otp.verify(phone, code)).toMatchObject({ valid: true, outcome: 'verified' });
}, 90_000);

test('a multipart message counts as delivered once every segment is', async () => {
  const s = await stack();
  const phone = '+33612630001';
  const sent = accepted(
    await s.otp.send(phone, {
      profile: 'fast',
      messageText: `{brand}: your code is {code}. ${'Please keep this message private and do not forward it. '.repeat(3)}`,
    }),
  );
  expect(sent.segments).toBe(2);
  const st = await delivered(s.otp, phone);
  expect(st?.events.filter((e) => e.type === 'receipt')).toHaveLength(2);
  expect(s.sim.messages(phone)[0].segments).toBe(2);
});

test('a receipt for an unknown message id is acknowledged and crashes nothing', async () => {
  const s = await stack();
  expect(await s.sim.sendUnknownReceipt()).toBe(0);
  const phone = '+33612640001';
  accepted(await s.otp.send(phone));
  await delivered(s.otp, phone);
});

describe('delivery callbacks', () => {
  interface Received {
    event: DeliveryCallbackEvent;
    headers: IncomingMessage['headers'];
    raw: string;
  }

  async function callbackServer(failFirst: (e: DeliveryCallbackEvent) => number): Promise<{ url: string; received: Received[] }> {
    const received: Received[] = [];
    const failures = new Map<string, number>();
    const http = await startHttpReceiver((r) => {
      const event = JSON.parse(r.raw) as DeliveryCallbackEvent;
      received.push({ event, headers: r.headers, raw: r.raw });
      const n = failures.get(event.eventId) ?? 0;
      if (n >= failFirst(event)) return 204;
      failures.set(event.eventId, n + 1);
      return 503;
    });
    cleanup.push(http.close);
    return { url: `${http.base}/dlr`, received };
  }

  test('each status change is POSTed, signed, retried on failure and deduplicable by eventId', async () => {
    const s = await stack({}, { OTP_CALLBACK_KEY: 'callback-key-for-tests-123' });
    const { url, received } = await callbackServer((e) => (e.status === 'delivered' ? 2 : 0));
    const phone = '+33612650001';
    const sent = accepted(await s.otp.send(phone, { callbackUrl: url }));
    await waitFor(
      async () => received.filter((r) => r.event.status === 'delivered').length,
      (n) => n === 3,
      'delivered callback retried twice',
    );

    const statuses = received.map((r) => r.event.status);
    expect(statuses).toEqual(['submitted', 'delivered', 'delivered', 'delivered']);
    const [submitted, ...deliveredTries] = received;
    expect(new Set(deliveredTries.map((r) => r.event.eventId)).size).toBe(1); // retries share the id
    expect(deliveredTries[0].event.eventId).not.toBe(submitted.event.eventId);
    expect(submitted.event).toMatchObject({ sessionId: sent.sessionId, codeSeq: 1, status: 'submitted', attempts: 1 });
    expect(deliveredTries[0].event).toMatchObject({ status: 'delivered', stat: 'DELIVRD', err: '000' });
    for (const r of received) {
      const expected = createHmac('sha256', 'callback-key-for-tests-123').update(`${r.headers['x-otp-timestamp']}.${r.raw}`).digest('hex');
      expect(r.headers['x-otp-signature']).toBe(`sha256=${expected}`);
      expect(r.headers['x-otp-event-id']).toBe(r.event.eventId);
      expect(r.raw).not.toContain('612650001');
    }
    const st = await s.otp.status(phone);
    expect(st?.events.some((e) => e.type === 'callback' && e.detail.includes('delivered delivered'))).toBe(true);
  }, 60_000);

  test('a callback URL that is not http(s) is refused and nothing is sent', async () => {
    const s = await stack();
    await expect(s.otp.send('+33612650002', { callbackUrl: 'ftp://example.com/x' })).rejects.toThrow(/callbackUrl URL scheme must be http or https/);
    expect(s.sim.messages('+33612650002')).toHaveLength(0);
  });
});

test('bind state is observable, and a graceful shutdown unbinds', async () => {
  const port = await freePort();
  const s = await stack({}, { OTP_STATUS_PORT: String(port), SMSC_BINDS: '2' });
  await Promise.all(s.worker.smsc.routes[0].binds.map((b) => b.ready(5000)));
  const status = (await (await fetch(s.worker.statusUrl!)).json()) as { routes: { name: string; up: boolean; binds: { state: string; mode: string }[] }[] };
  expect(status.routes).toEqual([expect.objectContaining({ name: 'smsc', up: true })]);
  expect(status.routes[0].binds.map((b) => [b.mode, b.state])).toEqual([
    ['transceiver', 'bound'],
    ['transceiver', 'bound'],
  ]);
  await s.worker.shutdown();
  expect(s.sim.received.unbinds).toBe(2);
});

export type { OtpConfig };

test('an SMSC that answers a submit late: one SMS, the send is accepted, the late id is linked and its receipt delivers the session', async () => {
  const phone = '+33612660001';
  // A simulator of our own, so the route can carry short timeouts (SMSC_ROUTES).
  const sim = new SmscSimulator({ smppPort: 0, httpPort: 0, quiet: true });
  await sim.start();
  cleanup.push(() => sim.stop());
  sim.timing.setDestination(phone, { responseDelayMs: null }); // accepted and delivered, submit_sm_resp held back
  const port = await freePort();
  const t = await stack(
    {},
    {
      OTP_STATUS_PORT: String(port),
      SMSC_ROUTES: JSON.stringify([
        { name: 'smsc', host: '127.0.0.1', port: sim.smppPort, systemId: 'otp', password: 'secret', responseTimeoutMs: 300, submitDeadlineMs: 700 },
      ]),
    },
  );
  const sent = accepted(await t.otp.send(phone));
  expect(sent.maskedPhone).not.toContain('612660001');
  // Not sent again while the SMSC may have it: not by the route, not by the activity's retries.
  expect(sim.submits.filter((x) => x.to === phone)).toHaveLength(1);
  expect(sim.timing.releaseResponses()).toBe(1);
  const st = await delivered(t.otp, phone, 'delivered through the late answer');
  expect(st?.code?.deliveryStat).toBe('DELIVRD');
  expect(sim.messages(phone)).toHaveLength(1);
  const status = (await (await fetch(t.worker.statusUrl!)).json()) as { submits: Record<string, number>; receipts: Record<string, number> };
  expect(status.submits).toMatchObject({ inDoubt: 0, inDoubtTotal: 1, lateAnswers: 1, unconfirmedParts: 1, possibleDuplicates: 0 });
  expect(status.receipts.lateLinked).toBe(1);
}, 60_000);

test('refused credentials: the send error and the status name the refusal, and the worker stops binding', async () => {
  quietRuntime();
  const sim = new SmscSimulator({ smppPort: 0, httpPort: 0, quiet: true });
  await sim.start();
  cleanup.push(() => sim.stop());
  const port = await freePort();
  const config = loadConfig({
    TEMPORAL_ADDRESS: temporalAddress(),
    OTP_TASK_QUEUE: `otp-refused-${randomUUID()}`,
    OTP_TENANT: `ref${randomUUID().slice(0, 8)}`,
    OTP_STATUS_PORT: String(port),
    OTP_PROFILES: JSON.stringify(TEST_PROFILES),
    OTP_SENDER_APPROVAL: 'off',
    SMSC_ROUTES: JSON.stringify([{ name: 'smsc', host: '127.0.0.1', port: sim.smppPort, systemId: 'otp', password: 'wrong', maxBindRefusals: 1 }]),
  });
  const w = await startWorker(config, { workflowBundle: { codePath: process.env.OTP_TEST_BUNDLE! }, workerOptions: { shutdownGraceTime: '1 second' } });
  cleanup.push(() => w.shutdown());
  const otp = await connectOtpClient(config);
  cleanup.push(() => otp.temporal.connection.close());
  await waitFor(
    async () => w.smsc.routes[0].refusals.stopped,
    (x) => x,
    'refused',
  );
  await expect(otp.send('+33612670001')).rejects.toThrow(/SMS dispatch failed: .*bind refused by the SMSC: invalid password \(0x0E\)/);
  const status = (await (await fetch(w.statusUrl!)).json()) as { routes: { bindRefusals: { stopped: boolean; reason: string } }[] };
  expect(status.routes[0].bindRefusals).toMatchObject({ stopped: true, reason: 'bind refused by the SMSC: invalid password (0x0E)' });
  expect(sim.timing.bindAttempts.get('otp')).toBe(1);
  // The operator fixes the password on the SMSC side and resets: the worker binds again.
  sim.opts.accounts.otp = 'wrong';
  const reset = await fetch(w.statusUrl!.replace('/status', '/binds/reset'), { method: 'POST' });
  expect(await reset.json()).toEqual({ reset: ['smsc'] });
  await w.smsc.ready(5000);
}, 60_000);
