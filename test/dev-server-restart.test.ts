/**
 * The embedded dev server keeps its SQLite file in WAL mode (for speed) and a
 * session still survives a restart of the server: the code sent before it
 * verifies after it, and a repeat verify is answered from the same session.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { Connection } from '@temporalio/client';
import { freePort, startDevServer, temporalCliPath, type DevServer } from '../dev/temporal-server';
import { checkSearchAttributes } from '../lib/search-attributes';
import { until } from './helpers/smpp';
import { accepted, codeFrom, startStack, type TestStack } from './helpers/stack';

const dir = mkdtempSync(join(tmpdir(), 'otp-wal-'));
let server: DevServer | undefined;
let stack: TestStack | undefined;
afterAll(async () => {
  await stack?.stop().catch(() => undefined);
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('a session survives a restart of the dev server (SQLite in WAL mode)', async () => {
  const port = await freePort();
  const dbFile = join(dir, 'temporal.sqlite');
  server = await startDevServer({ port, headless: true, dbFile });
  const env = { TEMPORAL_ADDRESS: server.address, OTP_TASK_QUEUE: 'otp-wal', OTP_TENANT: 'wal' };
  stack = await startStack({}, env);
  const phone = '+33612740001';
  accepted(await stack.otp.send(phone));
  const code = codeFrom((await stack.waitForSms(phone))[0].text);
  // WAL mode: SQLite keeps its write-ahead log beside the database file.
  expect(readdirSync(dir)).toContain('temporal.sqlite-wal');
  await stack.stop();
  stack = undefined;
  await server.stop();

  server = await startDevServer({ port, headless: true, dbFile });
  stack = await startStack({}, env);
  expect((await stack.otp.status(phone))?.code?.state).toBe('active');
  expect(await stack.otp.verify(phone, code)).toMatchObject({ valid: true, outcome: 'verified' });
  expect(await stack.otp.verify(phone, code)).toMatchObject({ valid: false, outcome: 'already_verified' });
}, 120_000);

test("a database made before the search attributes existed gets them at npm start's next start", async () => {
  const port = await freePort();
  const dbFile = join(dir, 'old.sqlite');
  // The dev server as an earlier version started it: no --search-attribute flags.
  const old = spawn(
    temporalCliPath(),
    ['server', 'start-dev', '--headless', '--ip', '127.0.0.1', '--port', String(port), '--db-filename', dbFile, '--log-level', 'error'],
    { stdio: 'ignore' },
  );
  const exited = new Promise((r) => old.once('exit', r));
  try {
    const connection = await until(
      () => Connection.connect({ address: `127.0.0.1:${port}`, connectTimeout: '1 second' }).catch(() => undefined),
      'the old server',
      30_000,
    );
    const custom = async (c: Connection) => Object.keys((await c.operatorService.listSearchAttributes({ namespace: 'default' })).customAttributes ?? {});
    expect(await custom(connection)).not.toContain('OtpStatus');
    await connection.close();
  } finally {
    old.kill('SIGTERM');
    await exited;
  }
  const again = await startDevServer({ port, headless: true, dbFile });
  try {
    const connection = await Connection.connect({ address: again.address });
    await expect(checkSearchAttributes(connection.operatorService, 'default', again.address)).resolves.toBe('ok');
    await connection.close();
  } finally {
    await again.stop();
  }
});
