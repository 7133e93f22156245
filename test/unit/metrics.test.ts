/**
 * The metrics' label rules (bounded values, never more of a number than its
 * calling code) and the recorder's bookkeeping, without a worker.
 */
import { maskPhone } from '../../contract/keys';
import { BUCKETS, METRICS, countryLabel } from '../../lib/metric-names';
import { OtpMetrics, receiptStateLabel } from '../../lib/metrics';

test('the country label is the calling code of the masked number, never more of it', () => {
  expect(countryLabel(maskPhone('+33612345678'))).toBe('33');
  expect(countryLabel(maskPhone('+14155550123'))).toBe('1');
  expect(countryLabel(maskPhone('+353861234567'))).toBe('353');
  expect(countryLabel(maskPhone('+9715012345678'))).toBe('971');
  expect(countryLabel(undefined)).toBe('unknown');
  expect(countryLabel('+33612345678')).toBe('unknown');
  expect(countryLabel('garbage')).toBe('unknown');
});

test('receipt states are the SMPP words; anything else is OTHER', () => {
  expect(receiptStateLabel('DELIVRD')).toBe('DELIVRD');
  expect(receiptStateLabel('delivered')).toBe('DELIVRD');
  expect(receiptStateLabel('2')).toBe('DELIVRD');
  expect(receiptStateLabel('UNDELIV')).toBe('UNDELIV');
  expect(receiptStateLabel('something a carrier wrote +33612345678')).toBe('OTHER');
});

test('every series name is unique, prefixed otp_, and every histogram has increasing buckets', () => {
  const names = Object.values(METRICS).map((m) => m.name);
  expect(new Set(names).size).toBe(names.length);
  for (const n of names) expect(n).toMatch(/^otp_[a-z_]+$/);
  for (const b of Object.values(BUCKETS)) expect([...b]).toEqual([...b].sort((x, y) => x - y));
});

test('submit→receipt is observed for a final receipt of a tracked submit, once; every receipt is counted', async () => {
  const m = new OtpMetrics();
  m.trackSubmit('smsc', 'abc', 1000);
  m.receipt('smsc', 'abc', 'ENROUTE', 'pending', 1500);
  m.receipt('smsc', 'abc', 'DELIVRD', 'delivered', 3000);
  m.receipt('smsc', 'abc', 'DELIVRD', 'delivered', 4000);
  m.receipt('smsc', 'unknown-id', 'UNDELIV', 'failed', 4000);
  const text = await m.registry.metrics();
  expect(text).toContain(`${METRICS.receipts.name}{state="ENROUTE"} 1`);
  expect(text).toContain(`${METRICS.receipts.name}{state="DELIVRD"} 2`);
  expect(text).toContain(`${METRICS.receipts.name}{state="UNDELIV"} 1`);
  expect(text).toContain(`${METRICS.submitToReceipt.name}_count{state="DELIVRD"} 1`);
  expect(text).toContain(`${METRICS.submitToReceipt.name}_sum{state="DELIVRD"} 2`);
  expect(text).not.toContain(`${METRICS.submitToReceipt.name}_count{state="UNDELIV"}`);
});

test('a verify counts its outcome, and only a match observes send→verified', async () => {
  const m = new OtpMetrics();
  m.verified({ outcome: 'invalid_code', country: '33' });
  m.verified({ outcome: 'verified', country: '33', sinceIssuedSeconds: 12 });
  const text = await m.registry.metrics();
  expect(text).toContain(`${METRICS.verifies.name}{outcome="invalid_code",country="33"} 1`);
  expect(text).toContain(`${METRICS.verifies.name}{outcome="verified",country="33"} 1`);
  expect(text).toContain(`${METRICS.sendToVerified.name}_count{country="33"} 1`);
  expect(text).toContain(`${METRICS.sendToVerified.name}_sum{country="33"} 12`);
});

test('the Grafana dashboard queries only series the worker exports (or the Temporal SDK does)', () => {
  const dashboard = JSON.parse(require('node:fs').readFileSync(require('node:path').join(__dirname, '..', '..', 'docs', 'grafana-dashboard.json'), 'utf8')) as {
    panels: { targets?: { expr: string }[] }[];
  };
  const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
  expect(exprs.length).toBeGreaterThan(10);
  const known = new Set(Object.values(METRICS).map((m) => m.name));
  const used = new Set(exprs.flatMap((e) => e.match(/\botp_[a-z_]+/g) ?? []).map((n) => n.replace(/_(bucket|count|sum)$/, '')));
  for (const name of used) expect(known).toContain(name);
  // Every OTP series the issue asks for is on a panel.
  for (const key of [
    'sends',
    'receipts',
    'verifies',
    'sendToSubmit',
    'submitToReceipt',
    'sendToVerified',
    'bindUp',
    'windowOutstanding',
    'throttled',
    'possibleDuplicates',
    'inDoubt',
  ] as const)
    expect(used).toContain(METRICS[key].name);
  expect(exprs.some((e) => e.includes('temporal_'))).toBe(true);
});
