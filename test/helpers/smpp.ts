/**
 * What the SMPP engine tests share: a quiet logger, a send's fixed fields, a
 * simulator and a route that are closed after each test, and a poll helper.
 */
import { join } from 'node:path';
import { SmscRoute, type RouteConfig } from '../../smpp/smsc';
import { SmscSimulator, type SimulatorOptions } from '../../sim/smsc-simulator';
export { until } from './wait';

export const quiet = { info: () => undefined, warn: () => undefined };
export const SEND = { senderId: 'Acme', validitySeconds: 300 };
export const TLS_FIXTURES = join(__dirname, '..', 'fixtures', 'tls');

/**
 * Registers an afterEach that closes, newest first, what the test opened.
 * `routeDefaults` are the route fields the test file uses unless a test says otherwise.
 */
export function smppKit(routeDefaults: Partial<RouteConfig> = {}) {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });
  return {
    cleanup,
    async sim(options: SimulatorOptions = {}): Promise<SmscSimulator> {
      const s = new SmscSimulator({ smppPort: 0, httpPort: 0, quiet: true, receiptDelayMs: 10, ...options });
      await s.start();
      cleanup.push(() => s.stop());
      return s;
    },
    route(s: SmscSimulator, extra: Partial<RouteConfig> = {}): SmscRoute {
      const r = new SmscRoute(
        {
          name: 'r',
          host: '127.0.0.1',
          port: s.smppPort,
          systemId: 'otp',
          password: 'secret',
          reconnectInitialMs: 50,
          submitDeadlineMs: 2000,
          ...routeDefaults,
          ...extra,
        },
        quiet,
      );
      r.start();
      cleanup.push(() => r.close());
      return r;
    },
  };
}
