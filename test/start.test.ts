/**
 * `npm start`'s launcher (dist/scripts/start.js) against the run's Temporal
 * server (TEMPORAL_ADDRESS: start none): it brings up the simulator, the worker
 * and the codec server, an OTP goes through and shows in the worker's
 * GET /metrics, and SIGINT stops every child.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { join } from 'node:path';
import { connectOtpClient } from '../client';
import { loadConfig } from '../config/config';
import { freePort } from '../dev/temporal-server';
import { temporalAddress } from './helpers/stack';
import { settleFor, waitFor } from './helpers/wait';
import { METRICS, SDK_METRIC_PREFIX } from '../lib/metric-names';
import { parseExposition, sumOf } from '../lib/prom-text';
import { workerEnv } from '../lib/worker-node-flags';

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

test('starts simulator, worker and codec server; an OTP goes through; SIGINT stops them all', async () => {
  const [smppPort, httpPort, codecPort, metricsPort, sdkMetricsPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const env = {
    ...process.env,
    TEMPORAL_ADDRESS: temporalAddress(),
    OTP_TASK_QUEUE: `otp-start-${randomUUID()}`,
    OTP_TENANT: `start${randomUUID().slice(0, 8)}`,
    SMSC_PORT: String(smppPort),
    SIM_HTTP_PORT: String(httpPort),
    OTP_CODEC_PORT: String(codecPort),
    // A cold worker on a loaded CI machine can take over the default 1.5 s to its first send.
    OTP_MAX_SEND_WAIT_MS: '10000',
    // npm start serves metrics on 9464 by default: a test takes ports of its own.
    OTP_METRICS_PORT: String(metricsPort),
    OTP_SDK_METRICS_PORT: String(sdkMetricsPort),
  };
  const child: ChildProcess = spawn(process.execPath, [join(__dirname, '..', 'dist', 'scripts', 'start.js')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    await waitFor(
      () => output,
      (logs) => /worker: polling task queue/.test(logs),
      'the stack to come up',
      30_000,
      100,
    );
    expect(output).toContain('OTP stack is up');
    // The launcher preloads jemalloc where it is installed (.ci/run installs it), and the worker says what it runs on.
    expect(output).toMatch(
      /jemalloc/.test(workerEnv(process.env).LD_PRELOAD ?? '') ? /worker: polling .*malloc jemalloc/ : /worker: polling .*malloc of the C library/,
    );
    expect(output).toContain(`(external, from TEMPORAL_ADDRESS)`);
    expect(output).toContain(`http://localhost:${codecPort}`);
    expect(await listening(smppPort)).toBe(true);
    expect(await listening(codecPort)).toBe(true);

    const otp = await connectOtpClient(loadConfig(env, 'client'));
    try {
      const sent = await otp.send('+33612398765');
      expect(sent.status).toBe('sent');
      const inbox = (await (await fetch(`http://127.0.0.1:${httpPort}/messages?to=%2B33612398765`)).json()) as { text: string }[];
      expect(inbox).toHaveLength(1);
      const code = /code is (\d{6})/.exec(inbox[0].text)![1];
      expect((await otp.verify('+33612398765', code === '000000' ? '111111' : '000000')).outcome).toBe('invalid_code');
      expect((await otp.verify('+33612398765', code)).outcome).toBe('verified');
      await settleFor(300, 'negative check: the logs of the verifies reach the pipe before they are searched for secrets');
      // Logs of the whole stack: the worker's SDK and SMPP logs, the simulator's and the launcher's.
      expect(output).toContain('code dispatched');
      expect(output).not.toContain('612398765');
      expect(output).not.toMatch(new RegExp(`\\b${code}\\b`));

      // The acceptance: curl of the metrics endpoint during npm start shows the series after one send.
      expect(output).toContain(`Metrics           http://127.0.0.1:${metricsPort}/metrics`);
      const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      const samples = parseExposition(text);
      expect(sumOf(samples, METRICS.sends.name, { channel: 'sms', country: '33', outcome: 'sent' })).toBe(1);
      expect(sumOf(samples, METRICS.verifies.name, { outcome: 'verified', country: '33' })).toBe(1);
      expect(sumOf(samples, METRICS.verifies.name, { outcome: 'invalid_code', country: '33' })).toBe(1);
      expect(sumOf(samples, `${METRICS.sendToSubmit.name}_count`, { country: '33' })).toBe(1);
      expect(sumOf(samples, METRICS.bindUp.name)).toBeGreaterThan(0);
      expect(samples.some((x) => x.name.startsWith(SDK_METRIC_PREFIX) && x.labels.task_queue === env.OTP_TASK_QUEUE)).toBe(true);
      expect(text).not.toContain('612398765');
    } finally {
      await otp.temporal.connection.close();
    }
  } finally {
    child.kill('SIGINT');
  }
  expect(await exited).toBe(0);
  expect(output).toContain('stopping: worker, simulator, Temporal server');
  expect(await listening(smppPort)).toBe(false);
  expect(await listening(httpPort)).toBe(false);
  expect(await listening(codecPort)).toBe(false);
  expect(await listening(metricsPort)).toBe(false);
});
