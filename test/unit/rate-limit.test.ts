import { RateLimiter, type RateClock } from '../../smpp/rate-limit';
import { DEFAULT_ROUTE_TPS, oversubscribedRoutes, workerShare } from '../../smpp/account-share';
import type { RouteConfig } from '../../smpp/smsc';

/** A virtual clock: sleep advances time, so the test counts takes per window without waiting. */
function virtualClock(): RateClock & { t: number } {
  const c = { t: 0, now: () => c.t, sleep: async (ms: number) => void (c.t += Math.max(1, ms)) };
  return c;
}

function maxInWindow(times: number[], windowMs: number): number {
  let max = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i] - times[j] >= windowMs) j++;
    max = Math.max(max, i - j + 1);
  }
  return max;
}

test.each([10, 7, 2.5, 0.5])('no 1 s window holds more than the rate (%p/s), even from idle: no 2× burst', async (rate) => {
  const clock = virtualClock();
  const limiter = new RateLimiter(rate, clock);
  const times: number[] = [];
  await Promise.all(Array.from({ length: 60 }, () => limiter.take().then(() => times.push(clock.now()))));
  expect(maxInWindow(times, 1000)).toBeLessThanOrEqual(Math.max(1, Math.floor(rate)));
  // …and it still delivers the rate: 60 takes need about 60 / rate seconds, not far more.
  expect(times[59]).toBeLessThanOrEqual(Math.ceil(60 / Math.max(1, Math.floor(rate))) * Math.max(1000, 1000 / rate));
});

test('0 means unlimited', async () => {
  const clock = virtualClock();
  const limiter = new RateLimiter(0, clock);
  await Promise.all(Array.from({ length: 1000 }, () => limiter.take()));
  expect(clock.now()).toBe(0);
});

const base: RouteConfig = { name: 'r', host: 'h', port: 1, systemId: 's', password: 'p' };

test('each of N workers takes floor(binds / N) binds (at least 1) and tps / N', () => {
  expect(workerShare({ ...base, binds: 4, tps: 100 }, 2)).toMatchObject({ binds: 2, tps: 50 });
  expect(workerShare({ ...base, binds: 3, tps: 10 }, 2)).toMatchObject({ binds: 1, tps: 5 });
  expect(workerShare({ ...base, binds: 1, tps: 10 }, 3)).toMatchObject({ binds: 1, tps: 10 / 3 });
  expect(workerShare(base, 2)).toMatchObject({ binds: 1, tps: DEFAULT_ROUTE_TPS / 2 });
  expect(workerShare({ ...base, tps: 0 }, 4).tps).toBe(0);
  expect(workerShare({ ...base, binds: 5 }, 1)).toMatchObject({ binds: 5 });
  expect(
    oversubscribedRoutes(
      [
        { ...base, binds: 2 },
        { ...base, name: 'q', binds: 1 },
      ],
      2,
    ),
  ).toEqual(['q']);
});
