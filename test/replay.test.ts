/**
 * Replays recorded histories (test/histories/, made by scripts/record-histories.ts)
 * against today's workflow code. A change that breaks determinism for
 * workflows already running fails here; guard such changes with patched().
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { workerDataConverter } from '../codec/worker-converter';
import { loadConfig } from '../config/config';
import { quietRuntime } from './helpers/stack';

const dir = join(__dirname, 'histories');
const files = readdirSync(dir).filter((f) => f.endsWith('.history.pb'));
// The histories were recorded with the dev payload key.
const dataConverter = workerDataConverter(loadConfig({}));
/** Mailboxes and shards check their id's prefix (a squat under a session id ends at once): replay under a real-looking one. */
const workflowIdOf = (file: string) =>
  file.startsWith('receipt-mailbox')
    ? 'dlr-smsc-replayed'
    : file.startsWith('velocity-shard')
      ? 'otp-velocity:default:0'
      : file.startsWith('sender-approval')
        ? 'otp-approval:default'
        : `otp-default-${file.replace(/\W/g, '').padEnd(32, 'x').slice(0, 32)}`;
const load = (file: string) => temporal.api.history.v1.History.decode(readFileSync(join(dir, file)));

beforeAll(() => quietRuntime());

test('there are recorded histories for sessions and mailboxes, of v0.1, v2, v3 and today (v3 with search attributes)', () => {
  expect(files).toEqual(
    expect.arrayContaining([
      'session-verified.history.pb',
      'session-resent-failed-locked.history.pb',
      'receipt-mailbox.history.pb',
      'velocity.history.pb',
      'session-v2-verified.history.pb',
      'session-v2-resent-failed-locked.history.pb',
      'session-v2-retried.history.pb',
      'receipt-mailbox-v2.history.pb',
      'velocity-shard.history.pb',
      'session-v3-verified-idempotent.history.pb',
      'session-v3-lockout.history.pb',
      'session-v3-transaction.history.pb',
      'session-v3-retried.history.pb',
      'session-search-attributes.history.pb',
      'session-search-attributes-failed.history.pb',
      'session-v4-verified.history.pb',
      'sender-approval.history.pb',
    ]),
  );
});

test.each(files)('%s replays against the current workflow code', async (file) => {
  const history = load(file);
  expect(history.events.length).toBeGreaterThan(5);
  await expect(
    Worker.runReplayHistory({ workflowBundle: { codePath: process.env.OTP_TEST_BUNDLE! }, dataConverter }, history, workflowIdOf(file)),
  ).resolves.toBeUndefined();
});

test('replay catches a workflow change that is not deterministic', async () => {
  const drifted = await bundleWorkflowCode({
    workflowsPath: require.resolve('./fixtures/drifted-workflows'),
    logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} },
  });
  await expect(Worker.runReplayHistory({ workflowBundle: drifted, dataConverter }, load('session-verified.history.pb'))).rejects.toBeInstanceOf(
    DeterminismViolationError,
  );
});
