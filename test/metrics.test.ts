/**
 * Issue 12, metrics: the worker's GET /metrics over HTTP, around one send,
 * its delivery receipt and its verify on the real dev server and simulator.
 * Every OTP series counts that one session once, with bounded labels; the
 * SMPP gauges and the Temporal SDK's own worker series are in the same
 * scrape; no number and no code is anywhere in it.
 */
import { DefaultLogger } from '@temporalio/worker';
import { installSdkMetrics } from '../lib/metrics';
import { METRICS, SDK_METRIC_PREFIX } from '../lib/metric-names';
import { freePort } from '../dev/temporal-server';
import { matches, parseExposition, sumOf, type Sample } from '../lib/prom-text';
import { until } from './helpers/smpp';
import { accepted, codeFrom, startStack, type TestStack } from './helpers/stack';

const PHONE = '+33612345678';
let stack: TestStack;
let metricsPort: number;

async function scrape(): Promise<{ text: string; samples: Sample[] }> {
  const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  const text = await res.text();
  return { text, samples: parseExposition(text) };
}

const value = sumOf;

function has(samples: Sample[], name: string, labels: Record<string, string> = {}): boolean {
  return samples.some((s) => s.name === name && matches(s, labels));
}

beforeAll(async () => {
  metricsPort = await freePort();
  const sdkPort = await freePort();
  // Before startStack creates the Runtime: the SDK exports its worker metrics only when installed first.
  expect(installSdkMetrics(sdkPort, new DefaultLogger('WARN'))).toBe(true);
  stack = await startStack({}, { OTP_METRICS_PORT: String(metricsPort), OTP_SDK_METRICS_PORT: String(sdkPort) });
});
afterAll(async () => {
  await stack?.stop();
});

test('one send, its receipt and its verify each count once, by country calling code, with no number or code in the scrape', async () => {
  expect(stack.worker.metricsUrl).toBe(`http://127.0.0.1:${metricsPort}/metrics`);
  const before = (await scrape()).samples;

  const sent = accepted(await stack.otp.send(PHONE));
  expect(sent.channel).toBe('sms');
  const [sms] = await stack.waitForSms(PHONE);
  const code = codeFrom(sms.text);
  await until(async () => (await stack.otp.status(PHONE))?.code?.delivery === 'delivered', 'the delivery receipt');
  expect(await stack.otp.verify(PHONE, code)).toMatchObject({ valid: true, outcome: 'verified' });
  expect(await stack.otp.verify(PHONE, '000000')).toMatchObject({ valid: false, outcome: 'already_verified' });

  // The session reports verifies through its sink once the workflow task completes: wait for the second one.
  const after = await until(async () => {
    const s = (await scrape()).samples;
    return value(s, METRICS.verifies.name, { outcome: 'already_verified' }) > value(before, METRICS.verifies.name, { outcome: 'already_verified' }) && s;
  }, 'the verify outcomes in /metrics');
  const delta = (name: string, labels: Record<string, string>) => value(after, name, labels) - value(before, name, labels);

  expect(delta(METRICS.sends.name, { channel: 'sms', country: '33', outcome: 'sent' })).toBe(1);
  expect(delta(METRICS.sends.name, {})).toBe(1);
  expect(delta(METRICS.receipts.name, { state: 'DELIVRD' })).toBe(1);
  expect(delta(METRICS.verifies.name, { outcome: 'verified', country: '33' })).toBe(1);
  expect(delta(METRICS.verifies.name, { outcome: 'already_verified', country: '33' })).toBe(1);
  expect(delta(METRICS.verifies.name, {})).toBe(2);
  // Latency histograms: one observation each, under the labels the dashboard groups by.
  expect(delta(`${METRICS.sendToSubmit.name}_count`, { country: '33' })).toBe(1);
  expect(delta(`${METRICS.submitToReceipt.name}_count`, { state: 'DELIVRD' })).toBe(1);
  expect(delta(`${METRICS.sendToVerified.name}_count`, { country: '33' })).toBe(1);
  expect(value(after, `${METRICS.sendToVerified.name}_bucket`, { country: '33', le: '+Inf' })).toBe(1);

  // Conversion by country is verified over sent: both counters carry the same country label.
  const conversion =
    value(after, METRICS.verifies.name, { outcome: 'verified', country: '33' }) / value(after, METRICS.sends.name, { outcome: 'sent', country: '33' });
  expect(conversion).toBe(1);

  // Bounded labels only: no number, no code, no session id.
  const { text } = await scrape();
  expect(text).not.toContain('612345678');
  expect(text).not.toContain(sent.sessionId);
  const otpLabels = after.filter((s) => s.name.startsWith('otp_')).flatMap((s) => Object.values(s.labels));
  expect(otpLabels).not.toContain(code);
  expect(otpLabels.filter((v) => /\d{4,}/.test(v))).toEqual([]);
});

test('bind state, window use, throttling and possible duplicates come from the SMPP engine at scrape time', async () => {
  const { samples } = await scrape();
  const route = stack.config.routes[0].name;
  const binds = samples.filter((s) => s.name === METRICS.bindUp.name);
  expect(binds.length).toBeGreaterThan(0);
  for (const b of binds) {
    expect(b).toMatchObject({ labels: { route, bind: expect.any(String) }, value: 1 });
    expect(value(samples, METRICS.bindState.name, { route, bind: b.labels.bind, state: 'bound' })).toBe(1);
    expect(value(samples, METRICS.windowSize.name, { route, bind: b.labels.bind })).toBe(10);
    expect(value(samples, METRICS.windowOutstanding.name, { route, bind: b.labels.bind })).toBe(0);
    expect(value(samples, METRICS.throttled.name, { route, bind: b.labels.bind })).toBe(0);
  }
  expect(value(samples, METRICS.bindState.name, { state: 'disconnected' })).toBe(0);
  expect(has(samples, METRICS.throttlePause.name, { route })).toBe(true);
  expect(has(samples, METRICS.possibleDuplicates.name)).toBe(true);
  expect(value(samples, METRICS.possibleDuplicates.name)).toBe(0);
  expect(has(samples, METRICS.inDoubt.name)).toBe(true);
  expect(has(samples, METRICS.sendsInFlight.name)).toBe(true);
});

test("the Temporal SDK's own worker metrics are in the same scrape, for this worker's task queue", async () => {
  const { samples } = await scrape();
  const sdk = samples.filter((s) => s.name.startsWith(SDK_METRIC_PREFIX));
  expect(sdk.length).toBeGreaterThan(0);
  const taskQueue = stack.config.temporal.taskQueue;
  expect(sdk.some((s) => s.labels.task_queue === taskQueue)).toBe(true);
  // Workflow tasks ran for the session: the SDK timed them.
  expect(sdk.some((s) => s.name.startsWith(`${SDK_METRIC_PREFIX}workflow_task_execution_latency`) && s.labels.task_queue === taskQueue)).toBe(true);
});
