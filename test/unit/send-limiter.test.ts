/** The client's adaptive bound on sends in flight (client/send-limiter.ts) and the worker's admission (activities/admission.ts). */
import { SendAdmission } from '../../activities/admission';
import { SendLimiter } from '../../client/send-limiter';

test('the client refuses past its limit, and frees the slot when a send answers', () => {
  const l = new SendLimiter({ max: 2 });
  expect(l.tryAcquire()).toBe(true);
  expect(l.tryAcquire()).toBe(true);
  expect(l.tryAcquire()).toBe(false);
  l.release(10);
  expect(l.tryAcquire()).toBe(true);
});

test('it starts small, and an idle client does not drift up to the max', () => {
  const l = new SendLimiter({ max: 64, initial: 16 });
  expect(l.limit).toBe(16);
  for (let i = 0; i < 500; i++) {
    l.tryAcquire();
    l.release(20);
  }
  expect(l.limit).toBe(16);
});

test('slow answers shrink the limit (once per target period), fast ones grow it back to the max while it is in use', () => {
  const l = new SendLimiter({ max: 50, min: 4, targetMs: 1000, initial: 50 });
  let now = 0;
  for (let i = 0; i < 30; i++) {
    l.tryAcquire();
    l.release(3000, (now += 1000));
  }
  expect(l.limit).toBe(4);
  l.tryAcquire();
  l.release(3000, now + 10); // within the same period: no second cut
  expect(l.limit).toBe(4);
  for (let i = 0; i < 2000; i++) {
    while (l.tryAcquire());
    l.release(20, (now += 10));
  }
  expect(l.limit).toBe(50);
});

test('by default a send slower than 500 ms (a quarter of the 2 s answer budget) is slow, one of 500 ms is not', () => {
  const slow = new SendLimiter({ initial: 16 });
  slow.tryAcquire();
  slow.release(501, 10_000);
  expect(slow.limit).toBe(12);
  const inTime = new SendLimiter({ initial: 16 });
  inTime.tryAcquire();
  inTime.release(500, 10_000);
  expect(inTime.limit).toBe(16);
});

test('the worker refuses past its bound and refuses requests that waited too long', () => {
  const a = new SendAdmission({ maxInFlight: 1, maxWaitMs: 1500 });
  const first = a.enter(Date.now());
  expect(first.admitted).toBe(true);
  expect(a.enter(Date.now())).toEqual({ admitted: false, reason: 'worker_busy', retryAfterSeconds: 1 });
  if (first.admitted) first.release();
  expect(a.enter(1_000, 4_000)).toEqual({ admitted: false, reason: 'request_too_old', retryAfterSeconds: 3 });
  expect(a.enter(undefined).admitted).toBe(true);
  expect(a.stats).toMatchObject({ busy: 1, tooOld: 1 });
});

test('a too-old request is admitted when an earlier workflow task may already have sent it (a worker died mid-send)', async () => {
  const a = new SendAdmission({ maxInFlight: 1, maxWaitMs: 1500 });
  let asked = 0;
  const retried = (answer: boolean) => async () => {
    asked++;
    return answer;
  };
  // Fresh requests never ask the server.
  const fresh = await a.enterOrResume(Date.now(), retried(true));
  expect(fresh.admitted).toBe(true);
  expect(asked).toBe(0);
  if (fresh.admitted) fresh.release();
  // Too old, first workflow task: refused as before.
  expect(await a.enterOrResume(1_000, retried(false), 4_000)).toEqual({ admitted: false, reason: 'request_too_old', retryAfterSeconds: 3 });
  // Too old, but the task is a retry: the first run may have sent, so it runs again (same code at most twice).
  const resumed = await a.enterOrResume(1_000, retried(true), 4_000);
  expect(resumed.admitted).toBe(true);
  // The bound still holds for resumed sends.
  expect(await a.enterOrResume(1_000, retried(true), 4_000)).toMatchObject({ admitted: false, reason: 'worker_busy' });
  expect(a.stats).toMatchObject({ tooOld: 3, resumed: 2 });
});
