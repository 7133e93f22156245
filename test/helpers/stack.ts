/**
 * A whole OTP stack for one test file: the SMSC simulator on free loopback
 * ports, a worker on its own task queue, and a typed client, all against the
 * run's real Temporal server. Nothing is shared between test files.
 */
import { randomUUID } from 'node:crypto';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { OtpClient, type SendAccepted, type SendOtpResult } from '../../client';
import type { OtpConfig } from '../../config/config';
import { startLocalStack } from '../../dev/local-stack';
import { registerSearchAttributes } from '../../lib/search-attributes';
import { freePort, temporalTestServerPath } from '../../dev/temporal-server';
import type { SmscSimulator, SimulatorOptions, InboxMessage } from '../../sim/smsc-simulator';
import type { RunningOtpWorker } from '../../worker';

let runtimeInstalled = false;
/** Keeps SDK logs to warnings; call before anything creates the Temporal Runtime. */
export function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // Already installed by another helper in this worker process.
  }
}

export interface TestStack {
  sim: SmscSimulator;
  worker: RunningOtpWorker;
  otp: OtpClient;
  config: OtpConfig;
  /** Polls the phone inbox over HTTP, as a handset would be read. */
  waitForSms(to: string, count?: number, timeoutMs?: number): Promise<InboxMessage[]>;
  stop(): Promise<void>;
}

/**
 * Profiles the integration tests use on top of the presets. "fast" lifts the
 * resend cooldown and window so a test can send several codes in a row.
 */
export const TEST_PROFILES = {
  fast: { resendCooldownSeconds: 0, maxSendsPerWindow: 100, allowCustomChannel: true, allowCallerMessage: true, allowCallerBrand: true, callerContacts: true },
  'fast-lock3': { extends: 'fast', maxAttempts: 3 },
  'fast-lock1': { extends: 'fast', maxAttempts: 1 },
  'fast-len8': { extends: 'fast', codeLength: 8 },
  'fast-ttl60': { extends: 'fast', ttlSeconds: 60 },
};

/**
 * History events of a session that sends, gets its receipt and verifies: 19 for the work itself and 2
 * upserts of changed search attributes (after the receipt and the verify; the client indexed the
 * session at start, and the send's own step writes none). Clients start v6 sessions, which write no
 * patch marker (a session without `v` adds 2: the marker and the SDK's TemporalChangeVersion upsert).
 */
export const SESSION_EVENT_BUDGET = 21;

export function temporalAddress(): string {
  const address = process.env.OTP_TEST_TEMPORAL_ADDRESS;
  if (!address) throw new Error('OTP_TEST_TEMPORAL_ADDRESS is not set: run tests through jest (global setup starts the server)');
  return address;
}

export async function startStack(simOptions: SimulatorOptions = {}, env: Record<string, string> = {}): Promise<TestStack> {
  quietRuntime();
  const stack = await startLocalStack({
    temporalAddress: temporalAddress(),
    sim: simOptions,
    // Tests receive callbacks and webhooks on loopback, which workers refuse unless allowed. A
    // loaded CI machine can take over 1.5 s to start a session: tests of freshness set their own wait.
    // Approval off unless a test turns it on (test/sender-approval.test.ts).
    env: {
      OTP_TASK_QUEUE: `otp-test-${randomUUID()}`,
      OTP_TENANT: `t${randomUUID().slice(0, 8)}`,
      OTP_PROFILES: JSON.stringify(TEST_PROFILES),
      OTP_OUTBOUND_ALLOW: '127.0.0.1',
      OTP_MAX_SEND_WAIT_MS: '10000',
      // A slow spell must not shrink the test client's limit until a burst of sends is refused as client_busy.
      OTP_CLIENT_SEND_TARGET_MS: '10000',
      OTP_SENDER_APPROVAL: 'off',
      ...env,
    },
    worker: { workflowBundle: { codePath: process.env.OTP_TEST_BUNDLE! }, workerOptions: { shutdownGraceTime: '1 second' } },
  });
  const { sim } = stack;
  return {
    ...stack,
    async waitForSms(to, count = 1, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const res = await fetch(`${sim.inboxUrl}/messages?to=${encodeURIComponent(to)}`);
        const messages = (await res.json()) as InboxMessage[];
        if (messages.length >= count) return messages;
        if (Date.now() > deadline) throw new Error(`expected ${count} SMS to ${to}, inbox has ${messages.length} after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
  };
}

/** The real time-skipping test server, with the session's search attributes registered (it cannot list them, so workers do not check). */
export async function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: temporalTestServerPath() }, port: await freePort() },
  });
  await registerSearchAttributes(env.client.connection.operatorService, env.namespace ?? 'default');
  return env;
}

/** The same stack on the real time-skipping test server, for timers of minutes or hours. */
export async function startTimeSkippingStack(env: Record<string, string> = {}): Promise<TestStack & { env: TestWorkflowEnvironment }> {
  quietRuntime();
  const testEnv = await createTimeSkippingEnv();
  try {
    const stack = await startStack({ receiptDelayMs: 10 }, { TEMPORAL_ADDRESS: testEnv.address, OTP_TENANT: 'default', ...env });
    // Sessions take a sealed code for 10 minutes of their own (skipped) time: seal on that clock.
    const otp = new OtpClient({
      client: stack.otp.temporal,
      taskQueue: stack.config.temporal.taskQueue,
      hashKey: stack.config.keys.hash[0],
      sealPublicKey: stack.config.keys.sealPublic,
      tenant: stack.config.tenant,
      sealClock: () => testEnv.currentTimeMs(),
    });
    return {
      ...stack,
      otp,
      env: testEnv,
      async stop() {
        await stack.stop();
        await testEnv.teardown();
      },
    };
  } catch (err) {
    await testEnv.teardown();
    throw err;
  }
}

/** Narrows a send result to an accepted one, failing the test with the refusal otherwise. */
export function accepted(r: SendOtpResult): SendAccepted {
  if (r.status !== 'sent') throw new Error(`expected the send to be accepted, got ${JSON.stringify(r)}`);
  return r;
}

/** Reads the code out of an SMS body as a person would. */
export function codeFrom(text: string): string {
  const m =
    /code is ([0-9A-Z]{4,10})/.exec(text) ??
    /code (?:est |)([0-9A-Z]{4,10})/.exec(text) ??
    /код ([0-9A-Z]{4,10})/.exec(text) ??
    /#([0-9A-Z]{4,10})$/.exec(text);
  if (!m) throw new Error(`no code in SMS text: ${text}`);
  return m[1];
}
