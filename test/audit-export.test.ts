/**
 * The audit export against the real stack: a send, its receipt, a wrong and a
 * right code, a resend; then the export through its function and through the
 * built CLI (node dist/scripts/audit.js; run `npm run build` first).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Client } from '@temporalio/client';
import { OtpClient, otpDataConverter } from '../client';
import { exportAudit, temporalAuditSource } from '../audit/export';
import { CSV_COLUMNS, type AuditLine } from '../audit/lines';
import { accepted, codeFrom, startStack, temporalAddress, type TestStack } from './helpers/stack';
import { waitFor } from './helpers/wait';

const PHONE = '+33612347001';
const DIGITS = PHONE.slice(1);
const BACKEND_IDENTITY = 'audit-test-backend@ops';
let stack: TestStack;
let tenant: string;
let fromMs: number;

/** RFC 4180, enough for the export's own output: quoted cells, doubled quotes, commas and newlines inside quotes. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') ((cell += '"'), i++);
      else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') (row.push(cell), (cell = ''));
    else if (ch === '\n') (row.push(cell), rows.push(row), (row = []), (cell = ''));
    else cell += ch;
  }
  if (quoted) throw new Error('CSV ends inside a quoted cell');
  if (cell || row.length) throw new Error('CSV does not end with a newline');
  return rows;
}

async function waitDelivered(seq: number): Promise<void> {
  await waitFor(
    async () => (await stack.otp.status(PHONE))?.code,
    (code) => code?.seq === seq && code.delivery === 'delivered',
    `code #${seq} delivered`,
    10_000,
  );
}

/** The export, retried while visibility catches up with the session. */
async function exportLines(options: { format?: 'jsonl' | 'csv'; idKey?: string } = {}): Promise<string> {
  let out = '';
  await waitFor(
    async () => {
      out = '';
      const summary = await exportAudit({
        source: temporalAuditSource(stack.otp.temporal),
        payloadKeys: stack.config.keys.payload,
        tenant,
        fromMs,
        toMs: Date.now() + 60_000,
        format: options.format ?? 'jsonl',
        idKey: options.idKey,
        write: (s) => void (out += s),
      });
      expect(summary.skipped).toBe(0);
      return summary.lines;
    },
    (lines) => lines >= 2,
    'the export to hold the session',
    10_000,
    200,
  );
  return out;
}

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [join(__dirname, '..', 'dist', 'scripts', 'audit.js'), ...args], {
    // Dev keys, like the stack; nothing else from this process's environment.
    env: { PATH: process.env.PATH ?? '', TEMPORAL_ADDRESS: temporalAddress() },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

let first: ReturnType<typeof accepted>;
let resend: ReturnType<typeof accepted>;

beforeAll(async () => {
  stack = await startStack();
  tenant = stack.config.tenant;
  fromMs = Date.now() - 1000;
  // Sends from a backend with an identity of its own; verifies from the stack's client.
  const backend = new OtpClient({
    client: new Client({
      connection: stack.otp.temporal.connection,
      namespace: stack.config.temporal.namespace,
      dataConverter: otpDataConverter(stack.config.keys.payload),
      identity: BACKEND_IDENTITY,
    }),
    taskQueue: stack.config.temporal.taskQueue,
    hashKey: stack.config.keys.hash[0],
    sealPublicKey: stack.config.keys.sealPublic,
    tenant,
  });
  first = accepted(await backend.send(PHONE, { profile: 'fast' }));
  const code = codeFrom((await stack.waitForSms(PHONE))[0].text);
  await waitDelivered(1);
  expect((await stack.otp.verify(PHONE, code === '000000' ? '111111' : '000000')).outcome).toBe('invalid_code');
  expect((await stack.otp.verify(PHONE, code)).outcome).toBe('verified');
  resend = accepted(await backend.send(PHONE, { profile: 'fast' }));
  await stack.waitForSms(PHONE, 2);
  await waitDelivered(2);
});
afterAll(async () => {
  await stack?.stop();
});

test('one line per send: masked number, profile@revision, sender, identity, attempts with receipts, verify outcome', async () => {
  const out = await exportLines();
  const lines = out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as AuditLine)
    .sort((a, b) => (a.codeSeq ?? 0) - (b.codeSeq ?? 0));
  expect(lines).toHaveLength(2);
  const [l1, l2] = lines;
  for (const [l, sent] of [
    [l1, first],
    [l2, resend],
  ] as const) {
    expect(l).toMatchObject({
      sessionId: sent.sessionId,
      maskedPhone: '+33••••••001',
      phone: null,
      status: 'sent',
      codeSeq: sent.codeSeq,
      channel: 'sms',
      profile: sent.profile,
      sender: 'OTPDemo',
      identity: BACKEND_IDENTITY,
      expiresAt: sent.expiresAt,
      repeat: false,
    });
    expect(l.profile).toMatch(/^fast@[0-9a-f]{12}$/);
    expect(Date.parse(l.answeredAt!)).toBeGreaterThanOrEqual(Date.parse(l.requestedAt));
    expect(l.attempts).toHaveLength(1);
    expect(l.attempts[0]).toMatchObject({ channel: 'sms', kind: 'first', route: 'smsc', sender: 'OTPDemo', outcome: 'delivered' });
    expect(l.attempts[0].messageIds).toContain(sent.messageId);
    expect(l.attempts[0].receipts).toEqual([expect.objectContaining({ messageId: sent.messageId, stat: 'DELIVRD', outcome: 'delivered' })]);
  }
  expect(l1.verify).toMatchObject({ outcome: 'verified', valid: true, count: 2 });
  expect(l2.verify).toBeNull();
  expect(out).not.toContain(DIGITS);
});

test('the full number only with the id key', async () => {
  const out = await exportLines({ idKey: stack.config.keys.hash[0] });
  const lines = out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as AuditLine);
  expect(lines.map((l) => l.phone)).toEqual([PHONE, PHONE]);
  // A key that is not the one the ids were made with shows no number.
  const other = await exportLines({ idKey: 'some-other-id-key-0123456789' });
  expect(other).not.toContain(DIGITS);
});

test('CSV output parses: a header and one row per send', async () => {
  const rows = parseCsv(await exportLines({ format: 'csv' }));
  expect(rows[0]).toEqual([...CSV_COLUMNS]);
  expect(rows).toHaveLength(3);
  for (const row of rows.slice(1)) {
    expect(row).toHaveLength(CSV_COLUMNS.length);
    const cell = (c: (typeof CSV_COLUMNS)[number]) => row[CSV_COLUMNS.indexOf(c)];
    expect(cell('sessionId')).toBe(first.sessionId);
    expect(cell('identity')).toBe(BACKEND_IDENTITY);
    expect(cell('maskedPhone')).toBe('+33••••••001');
    expect((JSON.parse(cell('attempts')) as { outcome: string }[])[0].outcome).toBe('delivered');
  }
  expect(
    rows
      .map((r) => r[CSV_COLUMNS.indexOf('verifyOutcome')])
      .slice(1)
      .sort(),
  ).toEqual(['', 'verified']);
});

test('the built CLI: CSV and JSONL to stdout, the number only with --id-key, exit 2 naming a bad option', async () => {
  const window = ['--tenant', tenant, '--from', new Date(fromMs).toISOString(), '--to', new Date(Date.now() + 60_000).toISOString()];
  const csv = await runCli([...window, '--format', 'csv']);
  expect(csv.stderr).toContain('"lines":2');
  expect(csv.code).toBe(0);
  const rows = parseCsv(csv.stdout);
  expect(rows).toHaveLength(3);
  expect(csv.stdout).not.toContain(DIGITS);

  const withKey = await runCli([...window, '--id-key', stack.config.keys.hash[0]]);
  expect(withKey.code).toBe(0);
  expect(
    withKey.stdout
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as AuditLine).phone),
  ).toEqual([PHONE, PHONE]);

  const bad = await runCli([...window, '--format', 'xml']);
  expect(bad.code).toBe(2);
  expect(JSON.parse(bad.stderr)).toMatchObject({ error: 'AuditUsageError', problem: 'format' });
  const noTenant = await runCli(['--from', '2026-11-27', '--to', '2026-11-28']);
  expect(noTenant.code).toBe(2);
  expect(noTenant.stderr).toContain('--tenant is required');
  const wrongKey = await runCli([...window, '--id-key', 'not-the-id-key-0123456789']);
  expect(wrongKey.code).toBe(2);
  expect(wrongKey.stderr).not.toContain('not-the-id-key');
});
