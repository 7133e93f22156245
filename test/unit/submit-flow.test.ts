/** The rules behind SMPP flow control, without sockets: pauses, refusals, references, deadlines. */
import { submitDeadline, SUBMIT_LINK_MARGIN_MS } from '../../activities/late-links';
import { parseRoutes } from '../../config/routes-config';
import { BindRefusals, DEFAULT_BIND_REFUSED_BACKOFF_MS, describeBindRefusal, isCredentialRefusal } from '../../smpp/bind-refusals';
import { SMPP_STATUS } from '../../smpp/errors';
import { ThrottlePause } from '../../smpp/flow-pause';
import { ConcatLedger, concatHeader } from '../../smpp/multipart';

test('a throttling pause only ever extends: a later, shorter one never cuts it', () => {
  const p = new ThrottlePause({ throttleInitialMs: 100, throttleMaxMs: 400 });
  const now = 1_000_000;
  p.extend(1000, now);
  p.extend(100, now + 10);
  expect(p.until).toBe(now + 1000);
  // Throttles in a row double the step up to the maximum; an accepted submit starts it over.
  expect([p.throttled(now + 2000), p.throttled(now + 2000), p.throttled(now + 2000), p.throttled(now + 2000)]).toEqual([100, 200, 400, 400]);
  p.accepted();
  expect(p.throttled(now + 5000)).toBe(100);
});

test('bind refusals: readable reason, minutes between tries, a stop after the maximum, and a reset', () => {
  expect(describeBindRefusal(SMPP_STATUS.ESME_RINVPASWD)).toBe('bind refused by the SMSC: invalid password (0x0E)');
  expect(describeBindRefusal(SMPP_STATUS.ESME_RINVSYSID)).toBe('bind refused by the SMSC: invalid system_id (0x0F)');
  expect(isCredentialRefusal(SMPP_STATUS.ESME_RBINDFAIL)).toBe(true);
  expect(isCredentialRefusal(SMPP_STATUS.ESME_RSYSERR)).toBe(false);
  const r = new BindRefusals();
  expect(DEFAULT_BIND_REFUSED_BACKOFF_MS).toBeGreaterThanOrEqual(60_000);
  expect(r.tryBind(0)).toBe(true);
  r.refused(SMPP_STATUS.ESME_RINVPASWD, 0);
  expect(r.waitMs(0)).toBe(DEFAULT_BIND_REFUSED_BACKOFF_MS);
  expect(r.tryBind(1000)).toBe(false);
  // After a refusal one bind at a time probes the account.
  const later = DEFAULT_BIND_REFUSED_BACKOFF_MS;
  expect([r.tryBind(later), r.tryBind(later)]).toEqual([true, false]);
  r.settled();
  r.refused(SMPP_STATUS.ESME_RINVPASWD, later);
  r.refused(SMPP_STATUS.ESME_RINVPASWD, later);
  expect(r.stopped).toBe(true);
  expect(r.waitMs(Number.MAX_SAFE_INTEGER)).toBe(Infinity);
  expect(r.blocking()).toMatch(/stopped after 3 refusals/);
  let reset = 0;
  r.on('reset', () => reset++);
  r.reset();
  expect([reset, r.stopped, r.tryBind()]).toEqual([1, false, true]);
});

test('concatenation references roll per destination; a message keeps its reference and its accepted parts across retries', () => {
  const l = new ConcatLedger();
  const a = l.begin('+33600000001', 'm1', 2, 8, 'r').ref;
  const b = l.begin('+33600000001', 'm2', 2, 8, 'r').ref;
  const other = l.begin('+33600000002', 'm3', 2, 8, 'r').ref;
  expect(b).toBe((a + 1) % 0x10000);
  expect(other).not.toBeUndefined();
  l.accepted('m1', 1, 'id-1');
  expect(l.begin('+33600000001', 'm1', 2, 8, 'r')).toEqual({ ref: a, accepted: ['id-1'], resent: 0 });
  // Another route cannot reuse parts whose receipts come back elsewhere: they go again, counted.
  expect(l.begin('+33600000001', 'm1', 2, 8, 'other')).toEqual({ ref: a, accepted: [], resent: 1 });
  // Once whole, a later send (a staggered retry) sends every part again, under the same reference.
  l.complete('m1');
  expect(l.begin('+33600000001', 'm1', 2, 8, 'other')).toEqual({ ref: a, accepted: [], resent: 0 });
  expect([...concatHeader(8, 0x1234, 2, 1)]).toEqual([0x05, 0x00, 0x03, 0x34, 2, 1]);
  expect([...concatHeader(16, 0x1234, 2, 1)]).toEqual([0x06, 0x08, 0x04, 0x12, 0x34, 2, 1]);
});

test('a submit ends inside its activity timeout, with time left to link its ids', () => {
  expect(submitDeadline({ currentAttemptScheduledTimestampMs: 1000, startToCloseTimeoutMs: 10_000 })).toBe(11_000 - SUBMIT_LINK_MARGIN_MS);
});

test('route settings for flow control are read and checked', () => {
  const base = { name: 'r', host: 'h', port: 2775, systemId: 'otp' };
  const [r] = parseRoutes(
    JSON.stringify([
      {
        ...base,
        resubmitInDoubt: true,
        concatRefBits: 16,
        throttleInitialMs: 50,
        throttleMaxMs: 500,
        bindStableMs: 10_000,
        bindRefusedBackoffMs: 60_000,
        maxBindRefusals: 2,
      },
    ]),
    'test',
  );
  expect(r).toMatchObject({
    resubmitInDoubt: true,
    concatRefBits: 16,
    throttleInitialMs: 50,
    throttleMaxMs: 500,
    bindStableMs: 10_000,
    bindRefusedBackoffMs: 60_000,
    maxBindRefusals: 2,
  });
  expect(() => parseRoutes(JSON.stringify([{ ...base, concatRefBits: 12 }]), 'test')).toThrow('concatRefBits must be 8 or 16');
  expect(() => parseRoutes(JSON.stringify([{ ...base, resubmitInDoubt: 'yes' }]), 'test')).toThrow('resubmitInDoubt must be true or false');
});
