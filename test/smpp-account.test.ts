/**
 * Account-wide limits, connect timeouts, mutual TLS, charsets and TON/NPI,
 * over real TCP against the simulator, without Temporal.
 */
import { SmscRouter, type RouteConfig } from '../smpp/smsc';
import { workerShare } from '../smpp/account-share';
import { SmscSimulator, type SimulatorOptions } from '../sim/smsc-simulator';

const quiet = { info: () => undefined, warn: () => undefined };
const SEND = { senderId: 'Acme', validitySeconds: 300 };
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function sim(options: SimulatorOptions = {}): Promise<SmscSimulator> {
  const s = new SmscSimulator({ smppPort: 0, httpPort: 0, quiet: true, receiptDelayMs: 10, ...options });
  await s.start();
  cleanup.push(() => s.stop());
  return s;
}

describe('account-wide limits', () => {
  test('two workers on one system_id keep, together, to the route binds and TPS', async () => {
    const s = await sim();
    // The account allows 4 binds and 10 submit_sm/s; two worker processes share it.
    const account: RouteConfig = { name: 'acct', host: '127.0.0.1', port: s.smppPort, systemId: 'otp', password: 'secret', binds: 4, tps: 10, submitDeadlineMs: 30000, reconnectInitialMs: 50 };
    const workers = [0, 1].map(() => {
      const router = new SmscRouter([workerShare(account, 2)], quiet);
      router.start();
      cleanup.push(() => router.close());
      return router;
    });
    await Promise.all(workers.map((w) => w.routes[0].allReady()));
    // Each worker fires 20 at once from idle: the moment a token bucket would burst.
    await Promise.all(workers.flatMap((w, i) => Array.from({ length: 20 }, (_, k) => w.submitText(`+336111${i}${String(k).padStart(4, '0')}`, 'Acme code', SEND))));
    expect(s.submits.filter((r) => r.status === 0)).toHaveLength(40);
    expect(s.peakBinds.get('otp')).toBeLessThanOrEqual(4);
    // Measured by arrival at the SMSC; a window 50 ms short of a second allows for transit jitter.
    expect(s.maxSubmitsInWindow('otp', 950)).toBeLessThanOrEqual(10);
    expect(s.maxSubmitsInWindow('otp', 950)).toBeGreaterThanOrEqual(5);
  }, 20000);
});
