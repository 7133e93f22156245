/**
 * The embedded dev server keeps its SQLite file in WAL mode (for speed) and a
 * session still survives a restart of the server: the code sent before it
 * verifies after it, and a repeat verify is answered from the same session.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startDevServer, type DevServer } from '../lib/temporal-server';
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
