/**
 * One real Temporal dev server and one workflow bundle per jest run.
 * TEMPORAL_ADDRESS set in the environment means: use that server, start none.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { startDevServer, type DevServer } from '../../dev/temporal-server';
import { workflowBundleSources } from '../../lib/workflow-bundle';

export const BUNDLE_PATH = join(__dirname, '..', '..', 'node_modules', '.cache', 'otp-test', 'workflow-bundle.js');

declare global {
  // eslint-disable-next-line no-var
  var __otpDevServer: DevServer | undefined;
}

export default async function globalSetup(): Promise<void> {
  const [server, bundle] = await Promise.all([
    process.env.TEMPORAL_ADDRESS ? Promise.resolve(undefined) : startDevServer({ port: 0, headless: true }),
    bundleWorkflowCode({
      ...workflowBundleSources(),
      logger: quietLogger(),
    }),
  ]);
  mkdirSync(join(BUNDLE_PATH, '..'), { recursive: true });
  writeFileSync(BUNDLE_PATH, bundle.code);
  process.env.OTP_TEST_BUNDLE = BUNDLE_PATH;
  if (server) {
    globalThis.__otpDevServer = server;
    process.env.OTP_TEST_TEMPORAL_ADDRESS = server.address;
  } else {
    process.env.OTP_TEST_TEMPORAL_ADDRESS = process.env.TEMPORAL_ADDRESS;
  }
}

function quietLogger() {
  const noop = () => undefined;
  return { trace: noop, debug: noop, info: noop, warn: console.warn, error: console.error, log: noop };
}
