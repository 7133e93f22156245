/**
 * Issue 13, deliverable 4: a table of hostile inputs, each put through one surface of a real stack:
 * the typed client (OtpClient), the CLI (node dist/scripts/otp.js; run `npm run build` first), raw
 * Temporal calls (a plain Client with the deployment's data converter calling the session's updates
 * and update-with-start directly, past every client check), and the n8n nodes (their execute(),
 * with an IExecuteFunctions made here and parameter defaults from n8n-workflow's NodeHelpers: not a
 * real n8n, which takes minutes to start; test/n8n/e2e.test.ts drives that one).
 *
 * Every row asserts its typed answer (an error type, a refusal status or verify outcome, the CLI's
 * JSON error and exit code), that nothing reached the SMSC for its number, that no workflow task
 * of its session failed, and that no error or session event echoes a long input whole. Rows run
 * concurrently against one stack in beforeAll; each test then checks one row's observations.
 * The attacker tests of issue 9 are in security.test.ts: this table does not repeat them.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { Client, Connection, WithStartWorkflowOperation, WorkflowNotFoundError, isGrpcServiceError } from '@temporalio/client';
import { status } from '@grpc/grpc-js';
import { NodeHelpers, NodeOperationError, type IDataObject, type IExecuteFunctions, type INodeExecutionData, type INodeType } from 'n8n-workflow';
import { OTP_SESSION_WORKFLOW, SESSION_VERSION, otpDataConverter, type OtpSessionInput } from '../client';
import { maskPhone, normalizePhone, parseSealPublicKey, sealCode } from '../contract/keys';
import { SendOtp } from '../nodes/SendOtp/SendOtp.node';
import { VerifyOtp } from '../nodes/VerifyOtp/VerifyOtp.node';
import { accepted, codeFrom, startStack, type TestStack } from './helpers/stack';
import { settleFor } from './helpers/wait';

type Surface = 'client' | 'cli' | 'raw' | 'n8n';

/** What a row saw, whatever the surface. */
interface Observed {
  /** A failure: its type (OtpRequestError.type, an update failure's type, "Usage" for CLI exit 2), and message. */
  error?: { type: string; message: string };
  /** A send refusal or acceptance status, a verify outcome, "not_cancelled"… */
  answer?: string;
  exit?: number;
  /** Set when the call did not settle in time: a hang. */
  hung?: boolean;
}

/** What a row must see: a typed error (one of several), or an answer (and for the CLI, its exit code). */
type Expected = { error: string | string[]; exit?: number } | { answer: string; exit?: number };

interface Row {
  surface: Surface;
  what: string;
  /** The E.164 number whose SMSC submits must not grow, and whose session is checked. */
  watch: string;
  tenant?: string;
  run: () => Promise<Observed>;
  expect: Expected;
}

let stack: TestStack;
let raw: Client;
let n = 0;
/** A fresh French mobile number per row. */
const fresh = () => `+33613${String(++n).padStart(6, '0')}`;
/** The victim: a number with a live code, which no row may send to, or use an attempt of. */
const VICTIM = '+33613999001';
const FREEPHONE = '+80012345678';
const MB = 1_000_000;
const LONG_PROFILE = 'p'.repeat(10_000);
/** Errors and session events must cut what they quote: none holds this long a run of one input. */
const MAX_ECHO = 300;

const rows: Row[] = [];
const row = (surface: Surface, what: string, watch: string, run: () => Promise<Observed>, expected: Expected, tenant?: string) =>
  rows.push({ surface, what, watch, run, expect: expected, tenant });

// ---------------------------------------------------------------- observers

function errorOf(err: unknown): Observed {
  const e = err as { type?: unknown; name?: string; message?: string; cause?: { type?: unknown; message?: string } };
  // Raw Temporal errors carry the failure's type on their cause; the server's own refusals, a gRPC status.
  const grpc = [err, e.cause].find(isGrpcServiceError);
  const type =
    typeof e.type === 'string'
      ? e.type
      : typeof e.cause?.type === 'string'
        ? e.cause.type
        : grpc
          ? `grpc:${status[grpc.code]}`
          : `untyped ${e.name ?? typeof err}`;
  return { error: { type, message: e.cause?.message ?? e.message ?? String(err) } };
}

function answerOf(value: unknown): Observed {
  if (value === null) return { answer: 'not_found' };
  const v = value as Record<string, unknown>;
  if (typeof v.outcome === 'string') return { answer: v.outcome };
  if (typeof v.status === 'string') return { answer: v.status };
  if (typeof v.cancelled === 'boolean') return { answer: v.cancelled ? 'cancelled' : 'not_cancelled' };
  return { answer: `unexpected ${JSON.stringify(value).slice(0, 100)}` };
}

/** Settles a call, or reports a hang after `ms`. */
async function observe(call: () => Promise<unknown>, ms = 20_000): Promise<Observed> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<Observed>((resolve) => (timer = setTimeout(() => resolve({ hung: true }), ms)));
  try {
    return await Promise.race([call().then(answerOf, errorOf), hang]);
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------- surfaces

/** Hostile values go where strings belong: the table calls the client as untyped JavaScript would. */
const loose = <T>(v: unknown) => v as T;

const client = {
  send: (phone: unknown, options: Record<string, unknown> = {}) => observe(() => stack.otp.send(loose<string>(phone), options)),
  verify: (phone: unknown, code: unknown, options: Record<string, unknown> = {}) =>
    observe(() => stack.otp.verify(loose<string>(phone), loose<string>(code), options)),
  verifySession: (sessionId: unknown, code: unknown) => observe(() => stack.otp.verifySession(loose<string>(sessionId), loose<string>(code))),
  cancel: (phone: unknown, options: Record<string, unknown> = {}) => observe(() => stack.otp.cancel(loose<string>(phone), options)),
  status: (phone: unknown, options: Record<string, unknown> = {}) => observe(() => stack.otp.status(loose<string>(phone), options)),
};

function startOperation(phone: string, input: unknown = undefined) {
  const args =
    input === undefined
      ? [{ tenant: stack.config.tenant, maskedPhone: maskPhone(phone), v: SESSION_VERSION } satisfies OtpSessionInput]
      : input === NO_INPUT
        ? []
        : [input];
  return new WithStartWorkflowOperation(OTP_SESSION_WORKFLOW, {
    workflowId: stack.otp.sessionId(phone),
    taskQueue: stack.config.temporal.taskQueue,
    args,
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
}
const NO_INPUT = Symbol('no input');

const rawCalls = {
  /** The send update by update-with-start, as any backend may call it. */
  send: (phone: string, request: unknown) =>
    observe(() => raw.workflow.executeUpdateWithStart('send', { args: [request], startWorkflowOperation: startOperation(phone) })),
  verify: (phone: string, request: unknown) => observe(() => raw.workflow.getHandle(stack.otp.sessionId(phone)).executeUpdate('verify', { args: [request] })),
  cancel: (phone: string, request: unknown) => observe(() => raw.workflow.getHandle(stack.otp.sessionId(phone)).executeUpdate('cancel', { args: [request] })),
  /** A session started with a hostile input, with a good send: the session must fail at once, typed, and the caller not hang. */
  start: async (phone: string, input: unknown): Promise<Observed> => {
    const op = startOperation(phone, input);
    const call = await observe(() => raw.workflow.executeUpdateWithStart('send', { args: [{ phone }], startWorkflowOperation: op }));
    if (call.hung) return call;
    return observe(() => raw.workflow.getHandle(stack.otp.sessionId(phone)).result(), 10_000);
  },
};

const seal = (phone: string, code: string) => sealCode(parseSealPublicKey(stack.config.keys.sealPublic), stack.otp.sessionId(phone), code, 'verify');

const CLI = join(__dirname, '..', 'dist', 'scripts', 'otp.js');
function cli(...args: string[]): Promise<Observed> {
  const env = {
    ...process.env,
    TEMPORAL_ADDRESS: stack.config.temporal.address,
    OTP_TASK_QUEUE: stack.config.temporal.taskQueue,
    OTP_TENANT: stack.config.tenant,
  };
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env, timeout: 30_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const exit = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      if (exit === 0) return resolve({ exit, ...answerOf(JSON.parse(stdout) as unknown) });
      if (exit === 2) return resolve({ exit, error: { type: 'Usage', message: stderr } });
      try {
        const e = JSON.parse(stderr) as { type?: string; message?: string };
        resolve({ exit, error: { type: e.type ?? 'untyped', message: stderr } });
      } catch {
        resolve({ exit, error: { type: 'unparsed stderr', message: stderr.slice(0, 2000) } });
      }
    });
  });
}

/** One item through a node's execute(), "On Error: Stop": a failure is the node's error, as n8n would show it. */
async function node(kind: 'send' | 'verify', parameters: Record<string, unknown>): Promise<Observed> {
  const type: INodeType = kind === 'send' ? new SendOtp() : new VerifyOtp();
  const typeVersion = kind === 'send' ? 2 : 1.1;
  const info = { name: kind === 'send' ? 'Send OTP' : 'Verify OTP', type: `n8n-nodes-temporal-otp.${kind}Otp`, typeVersion };
  const defaults = NodeHelpers.getNodeParameters(type.description.properties, {}, true, false, { typeVersion }, type.description) ?? {};
  const params: Record<string, unknown> = { ...defaults, tenant: stack.config.tenant, ...parameters };
  const credentials = {
    address: stack.config.temporal.address,
    namespace: stack.config.temporal.namespace,
    taskQueue: stack.config.temporal.taskQueue,
    tls: false,
    hashSecret: '',
    payloadSecrets: '',
    sealPublicKey: '',
  };
  const ctx = {
    getInputData: (): INodeExecutionData[] => [{ json: {} }],
    getNodeParameter: (name: string, _i: number, fallback?: unknown) => (name in params ? params[name] : fallback),
    getNode: () => info,
    continueOnFail: () => false,
    getCredentials: async () => credentials,
    getWorkflow: () => ({ id: 'hostile' }),
  } as unknown as IExecuteFunctions;
  try {
    const outputs = (await type.execute!.call(ctx)) as INodeExecutionData[][];
    const json: IDataObject | undefined = outputs.flat()[0]?.json;
    return json ? answerOf(json) : { answer: 'no item' };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    // "Temporal OTP request failed: …" is the nodes' wording for an error of no known kind.
    return {
      error: {
        type: err instanceof NodeOperationError && !/^Temporal OTP request failed/.test(message) ? 'NodeError' : `untyped ${(err as Error).name}`,
        message,
      },
    };
  }
}

// ---------------------------------------------------------------- the table

const INVALID = { error: 'InvalidRequest' } as const;
/** A megabyte update: refused by the session's validator, or by the server's cap on update bytes in flight (dev/temporal-server.ts). */
const HUGE = { error: ['InvalidRequest', 'grpc:RESOURCE_EXHAUSTED'] };
const answer = (a: string) => ({ answer: a });

// Client: send options.
{
  const f = fresh;
  const sends: [string, Record<string, unknown>][] = [
    ['an idempotency key of 1,001 characters', { idempotencyKey: 'k'.repeat(1001) }],
    ['idempotency key "__proto__"', { idempotencyKey: '__proto__' }],
    ['idempotency key "constructor"', { idempotencyKey: 'constructor' }],
    ['an idempotency key with a space', { idempotencyKey: 'order 1' }],
    ['an idempotency key with a control character', { idempotencyKey: 'k\u0007' }],
    ['an idempotency key that is a number', { idempotencyKey: 42 }],
    ['an unknown profile of 10 kB', { profile: LONG_PROFILE }],
    ['profile "__proto__"', { profile: '__proto__' }],
    ['profile "constructor"', { profile: 'constructor' }],
    ['a profile that is an object', { profile: {} }],
    ['a profile that is an array', { profile: ['login'] }],
    ['a profile with a bidi override', { profile: 'login\u202E' }],
    ['a locale of 10 kB', { locale: 'l'.repeat(10_000) }],
    ['a locale with NUL', { locale: 'fr\u0000' }],
    ['a locale that is a number', { locale: 42 }],
    ['locale "hasOwnProperty"', { locale: 'hasOwnProperty' }],
    ['a context of 1 MB', { profile: 'transaction', context: 'c'.repeat(MB) }],
    ['context "{code}"', { profile: 'transaction', context: 'Pay {code} to Bob' }],
    ['context with an n8n expression', { profile: 'transaction', context: 'Pay {{ $json.amount }} to Bob' }],
    ['context with a bidi override', { profile: 'transaction', context: 'Pay €5\u202E0 to Bob' }],
    ['a brand with an n8n expression', { profile: 'fast', brand: '{{ $env.OTP_CODE_KEY }}' }],
    ['a brand of 100 kB', { profile: 'fast', brand: 'b'.repeat(100_000) }],
    ['a brand that is a number', { profile: 'fast', brand: 12 }],
    ['messageText with {{…}}', { profile: 'fast', messageText: 'Acme code {code} {{ $json.x }}' }],
    ['messageText with a bidi override', { profile: 'fast', messageText: 'Acme: {code}\u202E' }],
    ['messageText of 1 MB', { profile: 'fast', messageText: `Acme ${'m'.repeat(MB)} {code}` }],
    ['messageText with NUL', { profile: 'fast', messageText: 'Acme: {code}\u0000' }],
    ['an unknown channel', { channel: 'pigeon' }],
    ['a channel that is a number', { channel: 7 }],
    ['a javascript: callback URL', { callbackUrl: 'javascript:alert(1)' }],
    ['an email that is an object', { profile: 'fast', email: {} }],
    ['a caller code "-"', { profile: 'fast', channel: 'custom', code: '-' }],
    ['a caller code that is a number', { profile: 'fast', channel: 'custom', code: 123456 }],
    ['a caller code of 1 MB', { profile: 'fast', channel: 'custom', code: '1'.repeat(MB) }],
    ['an unknown option holding 1 MB (a raw digest)', { codeDigest: 'd'.repeat(MB) }],
    ['a tenant that is an object', { tenant: {} }],
    ['a tenant of 10 kB', { tenant: 't'.repeat(10_000) }],
    ['a tenant with a bidi override', { tenant: 'a\u202Eb' }],
  ];
  for (const [what, options] of sends) {
    const to = f();
    row('client', `send: ${what}`, to, () => client.send(to, options), INVALID);
  }
}

// Client: numbers.
{
  const to = [fresh(), fresh(), fresh(), fresh(), fresh(), fresh(), fresh()];
  const numbers: [string, unknown, string, string][] = [
    ['an empty number', '', to[0], 'invalid_number'],
    ['a number of 10 kB', 'x'.repeat(10_000), to[0], 'invalid_number'],
    ['international freephone +800', FREEPHONE, FREEPHONE, 'blocked'],
    ['international premium rate +979', '+979123456789', '+979123456789', 'blocked'],
    ['US premium rate +1 900', '+19005550123', '+19005550123', 'blocked'],
    ['UK premium rate +44 871', '+448712345678', '+448712345678', 'blocked'],
    ['a number followed by NUL', `${to[1]}\u0000`, to[1], 'invalid_number'],
    ['a number after a bidi override', `\u202E${to[2]}`, to[2], 'invalid_number'],
    ['a number with an extension', `${to[3]};ext=1`, to[3], 'invalid_number'],
    ['two numbers on two lines', `${to[4]}\n+33613999999`, to[4], 'invalid_number'],
    ['a tel: URI', `tel:${to[5]}`, to[5], 'invalid_number'],
    ['a number with a zero-width space', `+\u200B${to[6].slice(1)}`, to[6], 'invalid_number'],
    ['+0000000', '+0000000', to[0], 'invalid_number'],
    ['21 digits', `+1${'9'.repeat(20)}`, to[0], 'invalid_number'],
    ['a number of type number', 33613000001, to[0], 'invalid_number'],
    ['null', null, to[0], 'invalid_number'],
    ['an object', {}, to[0], 'invalid_number'],
    ['an unassigned international network +882', '+882345678901', '+882345678901', 'invalid_number'],
  ];
  for (const [what, phone, watch, status] of numbers) row('client', `send to ${what}`, watch, () => client.send(phone), answer(status));
}

// Client: verify, cancel and status against the victim's live code. None may use an attempt.
{
  const verifies: [string, unknown, Record<string, unknown>, Expected][] = [
    ['a null code', null, {}, INVALID],
    ['a code that is a number', 123456, {}, INVALID],
    ['a code that is an object', {}, {}, INVALID],
    ['an empty code', '', {}, answer('invalid_code')],
    ['code "-"', '-', {}, answer('invalid_code')],
    ['code " - - "', ' - - ', {}, answer('invalid_code')],
    ['a code of 1 MB', 'x'.repeat(MB), {}, answer('invalid_code')],
    ['a code with NUL', '12345\u0000', {}, answer('invalid_code')],
    ['code "{code}"', '{code}', {}, answer('invalid_code')],
    ['an unknown purpose', '123456', { purpose: 'admin' }, INVALID],
    ['purpose "__proto__"', '123456', { purpose: '__proto__' }, INVALID],
    ['an idempotency key of 1,001 characters', '123456', { idempotencyKey: 'k'.repeat(1001) }, INVALID],
    ['idempotency key "__proto__"', '123456', { idempotencyKey: '__proto__' }, INVALID],
    ['a context of 1 MB', '123456', { context: 'c'.repeat(MB) }, INVALID],
    ['a profile of 10 kB', '123456', { profile: LONG_PROFILE }, INVALID],
    ['a tenant that is an object', '123456', { tenant: {} }, INVALID],
  ];
  for (const [what, code, options, expected] of verifies) row('client', `verify: ${what}`, VICTIM, () => client.verify(VICTIM, code, options), expected);
  row('client', 'verify under tenant "__proto__"', VICTIM, () => client.verify(VICTIM, '123456', { tenant: '__proto__' }), answer('not_found'));
  row('client', 'status under tenant "constructor"', VICTIM, () => client.status(VICTIM, { tenant: 'constructor' }), answer('not_found'));
  row('client', 'verify for +800', FREEPHONE, () => client.verify(FREEPHONE, '123456'), answer('not_found'));
  row('client', 'verify for a null number', VICTIM, () => client.verify(null, '123456'), answer('not_found'));
  row('client', 'verifySession with a made-up session id', VICTIM, () => client.verifySession('otp-x', '123456'), INVALID);
  row('client', 'verifySession with a null code', VICTIM, () => client.verifySession(stack.otp.sessionId(VICTIM), null), INVALID);
  row('client', 'cancel a number of 10 kB', VICTIM, () => client.cancel('x'.repeat(10_000)), INVALID);
  row('client', 'cancel a null number', VICTIM, () => client.cancel(null), INVALID);
  row('client', 'cancel under a tenant with a space', VICTIM, () => client.cancel(VICTIM, { tenant: 'a b' }), INVALID);
  row('client', 'cancel for +800', FREEPHONE, () => client.cancel(FREEPHONE), answer('not_cancelled'));
  row('client', 'status of a number after a bidi override', VICTIM, () => client.status(`\u202E${VICTIM}`), INVALID);
  row('client', 'status under a tenant that is an object', VICTIM, () => client.status(VICTIM, { tenant: {} }), INVALID);
}

// Raw Temporal: the session's own updates, past every client check.
{
  const sends: [string, (to: string) => unknown, Expected][] = [
    ['an idempotency key of 1,001 characters', (to) => ({ phone: to, idempotencyKey: 'k'.repeat(1001) }), INVALID],
    ['a null request', () => null, INVALID],
    ['a string request', () => 'send me a code', INVALID],
    ['an array request', () => [], INVALID],
    ['a phone that is a number', () => ({ phone: 33613000001 }), INVALID],
    ['a phone with NUL inside', (to) => ({ phone: `${to.slice(0, 6)}\u0000${to.slice(6)}` }), INVALID],
    ['an unknown profile of 10 kB', (to) => ({ phone: to, profile: LONG_PROFILE }), INVALID],
    ['a locale of 10 kB', (to) => ({ phone: to, locale: 'l'.repeat(10_000) }), INVALID],
    ['a context of 1 MB', (to) => ({ phone: to, profile: 'transaction', context: 'c'.repeat(MB) }), HUGE],
    ['messageText of 1 MB', (to) => ({ phone: to, profile: 'fast', messageText: `${'m'.repeat(MB)}{code}` }), HUGE],
    ['a 1 MB raw digest', (to) => ({ phone: to, codeDigest: 'd'.repeat(MB) }), HUGE],
    ['a brand that is an object', (to) => ({ phone: to, profile: 'fast', brand: {} }), INVALID],
    ['idempotency key "__proto__"', (to) => ({ phone: to, idempotencyKey: '__proto__' }), INVALID],
    ['idempotency key "constructor"', (to) => ({ phone: to, idempotencyKey: 'constructor' }), INVALID],
    ['a channel with NUL', (to) => ({ phone: to, channel: 'sms\u0000' }), INVALID],
    ['requestedAt of 10 kB', (to) => ({ phone: to, requestedAt: 'x'.repeat(10_000) }), INVALID],
    ['a callback URL of 100 kB', (to) => ({ phone: to, callbackUrl: `https://example.com/${'u'.repeat(100_000)}` }), INVALID],
    ['context with an n8n expression', (to) => ({ phone: to, profile: 'transaction', context: 'Pay {{ $json.amount }}' }), INVALID],
    ['messageText with {{…}}', (to) => ({ phone: to, profile: 'fast', messageText: 'Acme {code} {{7*7}}' }), INVALID],
    ['a brand with a bidi override', (to) => ({ phone: to, profile: 'fast', brand: 'Acme\u202E' }), INVALID],
    ['a brand with a line break and a number to call', (to) => ({ phone: to, profile: 'fast', brand: 'Acme\r\nCall +19005550123' }), INVALID],
    ['profile "__proto__"', (to) => ({ phone: to, profile: '__proto__' }), INVALID],
    ['locale "constructor"', (to) => ({ phone: to, locale: 'constructor' }), INVALID],
  ];
  for (const [what, request, expected] of sends) {
    const to = fresh();
    row('raw', `send update: ${what}`, to, () => rawCalls.send(to, request(to)), expected);
  }
  row('raw', 'send update to international freephone +800', FREEPHONE, () => rawCalls.send(FREEPHONE, { phone: FREEPHONE }), answer('blocked'));
  row('raw', 'send update to US premium rate', '+19005550123', () => rawCalls.send('+19005550123', { phone: '+19005550123' }), answer('blocked'));

  const verifies: [string, () => unknown][] = [
    ['a null request', () => null],
    ['a sealed code of 1 MB', () => ({ sealedCode: 'x'.repeat(MB) })],
    ['a sealed code "-"', () => ({ sealedCode: seal(VICTIM, '-') })],
    ['a sealed empty code', () => ({ sealedCode: seal(VICTIM, '') })],
    ['a 1 MB raw digest beside a sealed code', () => ({ sealedCode: seal(VICTIM, '123456'), codeDigest: 'd'.repeat(MB) })],
    ['an unknown purpose', () => ({ sealedCode: seal(VICTIM, '123456'), purpose: 'admin' })],
    ['idempotency key "__proto__"', () => ({ sealedCode: seal(VICTIM, '123456'), idempotencyKey: '__proto__' })],
    ['a context of 1 MB', () => ({ sealedCode: seal(VICTIM, '123456'), context: 'c'.repeat(MB) })],
    ['a profile that is an object', () => ({ sealedCode: seal(VICTIM, '123456'), profile: {} })],
    ['a sealed code that is a number', () => ({ sealedCode: 123456 })],
    ['purpose "constructor"', () => ({ sealedCode: seal(VICTIM, '123456'), purpose: 'constructor' })],
  ];
  for (const [what, request] of verifies)
    row('raw', `verify update: ${what}`, VICTIM, () => rawCalls.verify(VICTIM, request()), what.includes('1 MB') ? HUGE : INVALID);
  const cancels: [string, unknown][] = [
    ['a reason of 1 MB', { reason: 'r'.repeat(MB) }],
    ['a reason that is a number', { reason: 12 }],
    ['an array', []],
    ['an unknown field', { reason: 'ok', extra: {} }],
  ];
  for (const [what, request] of cancels)
    row('raw', `cancel update: ${what}`, VICTIM, () => rawCalls.cancel(VICTIM, request), what.includes('1 MB') ? HUGE : INVALID);

  const inputs: [string, unknown][] = [
    ['a null workflow input', null],
    ['no workflow input', NO_INPUT],
    ['a string workflow input', 'default'],
    ['a tenant that is a number', { tenant: 42, maskedPhone: '' }],
    ['a tenant of 10 kB', { tenant: 't'.repeat(10_000), maskedPhone: '' }],
    ['a maskedPhone that is an object', { tenant: 'default', maskedPhone: {} }],
  ];
  for (const [what, input] of inputs) {
    const to = fresh();
    row('raw', `update-with-start: ${what}`, to, () => rawCalls.start(to, input), INVALID);
  }
}

// CLI.
{
  const f = fresh;
  const cases: [string, string, (to: string) => string[], Expected][] = [
    ['an idempotency key of 1,001 characters', 'x', (to) => ['send', to, '--key', 'k'.repeat(1001)], { exit: 1, error: 'InvalidRequest' }],
    ['idempotency key "__proto__"', 'x', (to) => ['send', to, '--key', '__proto__'], { exit: 1, error: 'InvalidRequest' }],
    ['an unknown profile of 10 kB', 'x', (to) => ['send', to, '--profile', LONG_PROFILE], { exit: 1, error: 'InvalidRequest' }],
    ['profile "constructor"', 'x', (to) => ['send', to, '--profile', 'constructor'], { exit: 1, error: 'InvalidRequest' }],
    ['a locale of 10 kB', 'x', (to) => ['send', to, '--locale', 'l'.repeat(10_000)], { exit: 1, error: 'InvalidRequest' }],
    [
      'context with an n8n expression',
      'x',
      (to) => ['send', to, '--profile', 'transaction', '--context', 'Pay {{ $json.amount }}'],
      { exit: 1, error: 'InvalidRequest' },
    ],
    ['brand "{code}"', 'x', (to) => ['send', to, '--profile', 'fast', '--brand', '{code}'], { exit: 1, error: 'InvalidRequest' }],
    [
      'messageText with a bidi override',
      'x',
      (to) => ['send', to, '--profile', 'fast', '--message', 'Acme {code} \u202E'],
      { exit: 1, error: 'InvalidRequest' },
    ],
    ['a tenant with a space', 'x', (to) => ['send', to, '--tenant', 'a b'], { exit: 1, error: 'InvalidRequest' }],
    ['a tenant of 10 kB', 'x', (to) => ['send', to, '--tenant', 't'.repeat(10_000)], { exit: 1, error: 'InvalidRequest' }],
    ['a caller code "-"', 'x', (to) => ['send', to, '--profile', 'fast', '--code', '-'], { exit: 1, error: 'InvalidRequest' }],
    ['an email the profile does not trust', 'x', (to) => ['send', to, '--email', 'attacker@evil.example'], { exit: 1, error: 'InvalidRequest' }],
    ['an unknown option', 'x', (to) => ['send', to, '--bogus', 'x'], { exit: 2, error: 'Usage' }],
    ['international freephone +800', FREEPHONE, () => ['send', FREEPHONE], { exit: 0, answer: 'blocked' }],
    ['international premium rate +979', '+979123456789', () => ['send', '+979123456789'], { exit: 0, answer: 'blocked' }],
    ['a number after a bidi override', 'x', (to) => ['send', `\u202E${to}`], { exit: 0, answer: 'invalid_number' }],
    ['a number with a BEL', 'x', (to) => ['send', `${to}\u0007`], { exit: 0, answer: 'invalid_number' }],
  ];
  for (const [what, watch, args, expected] of cases) {
    const to = watch === 'x' ? f() : watch;
    row('cli', `send: ${what}`, to, () => cli(...args(to)), expected);
  }
  const victim: [string, string[], Expected][] = [
    ['code "-"', ['verify', VICTIM, '-'], { exit: 0, answer: 'invalid_code' }],
    ['an empty code', ['verify', VICTIM, ''], { exit: 2, error: 'Usage' }],
    ['a code of 100 kB', ['verify', VICTIM, 'x'.repeat(100_000)], { exit: 0, answer: 'invalid_code' }],
    ['an unknown purpose', ['verify', VICTIM, '123456', '--purpose', 'admin'], { exit: 2, error: 'Usage' }],
    ['an idempotency key of 1,001 characters', ['verify', VICTIM, '123456', '--key', 'k'.repeat(1001)], { exit: 1, error: 'InvalidRequest' }],
    ['a context of 100 kB', ['verify', VICTIM, '123456', '--purpose', 'transaction', '--context', 'c'.repeat(100_000)], { exit: 1, error: 'InvalidRequest' }],
    ['status of a number of 10 kB', ['status', 'x'.repeat(10_000)], { exit: 1, error: 'InvalidRequest' }],
    ['status of a number with a BEL', ['status', `${VICTIM}\u0007`], { exit: 1, error: 'InvalidRequest' }],
  ];
  for (const [what, args, expected] of victim) row('cli', `${args[0]}: ${what}`, VICTIM, () => cli(...args), expected);
}

// n8n nodes.
{
  const NODE_ERROR = { error: 'NodeError' } as const;
  const sends: [string, (to: string) => Record<string, unknown>, Expected, string?][] = [
    ['a number after a bidi override', (to) => ({ phone: `\u202E${to}` }), answer('invalid_number')],
    ['international freephone +800', () => ({ phone: FREEPHONE }), answer('blocked'), FREEPHONE],
    ['an unknown profile of 10 kB', (to) => ({ phone: to, profile: LONG_PROFILE }), NODE_ERROR],
    ['an idempotency key of 1,001 characters', (to) => ({ phone: to, options: { idempotencyKey: 'k'.repeat(1001) } }), NODE_ERROR],
    ['idempotency key "__proto__"', (to) => ({ phone: to, options: { idempotencyKey: '__proto__' } }), NODE_ERROR],
    ['a brand with an n8n expression left in', (to) => ({ phone: to, profile: 'fast', options: { brand: '{{ $json.brand }}' } }), NODE_ERROR],
    ['context with a bidi override', (to) => ({ phone: to, profile: 'transaction', options: { context: 'Pay €5\u202E0' } }), NODE_ERROR],
    ['locale "__proto__"', (to) => ({ phone: to, options: { locale: '__proto__' } }), NODE_ERROR],
    ['a number of type number', (to) => ({ phone: Number(to.slice(1)) }), answer('invalid_number')],
    ['a brand that is an object', (to) => ({ phone: to, profile: 'fast', options: { brand: { a: 1 } } }), NODE_ERROR],
    ['an unknown channel', (to) => ({ phone: to, channel: 'pigeon' }), NODE_ERROR],
    ['a file: callback URL', (to) => ({ phone: to, options: { callbackUrl: 'file:///etc/passwd' } }), NODE_ERROR],
  ];
  for (const [what, params, expected, watch] of sends) {
    const to = watch ?? fresh();
    row('n8n', `Send OTP: ${what}`, to, () => node('send', { operation: 'send', ...params(to) }), expected);
  }
  const verify = (phone: unknown, code: unknown, extra: Record<string, unknown> = {}) => node('verify', { verifyBy: 'phone', phone, code, ...extra });
  // The node names an empty code (spaces and dashes do not count) as the flow's error.
  row('n8n', 'Verify OTP: code "-"', VICTIM, () => verify(VICTIM, '-'), NODE_ERROR);
  row('n8n', 'Verify OTP: a code with NUL', VICTIM, () => verify(VICTIM, '12345\u0000'), answer('invalid_code'));
  row('n8n', 'Verify OTP: a code of 1 MB', VICTIM, () => verify(VICTIM, 'x'.repeat(MB)), answer('invalid_code'));
  row('n8n', 'Verify OTP: a null code', VICTIM, () => verify(VICTIM, null), NODE_ERROR);
  row('n8n', 'Verify OTP: +800', FREEPHONE, () => verify(FREEPHONE, '123456'), answer('not_found'));
  row('n8n', 'Verify OTP: a tenant with a space', VICTIM, () => verify(VICTIM, '123456', { tenant: 'a b' }), NODE_ERROR);
  row('n8n', 'Cancel: a number of 10 kB', VICTIM, () => node('send', { operation: 'cancel', phone: 'x'.repeat(10_000) }), NODE_ERROR);
  row('n8n', 'Get Status: a number with a BEL', VICTIM, () => node('send', { operation: 'getStatus', phone: `${VICTIM}\u0007` }), NODE_ERROR);
}

// ---------------------------------------------------------------- running the table

interface Checked {
  observed: Observed;
  submits: number;
  /** Workflow task failures in the session's history (every run). */
  taskFailures: number;
  /** Longest session event detail. */
  longestEvent: number;
}

const results = new Map<Row, Checked>();
const baseline = new Map<string, number>();
let victimAttempts = 0;
const submitsTo = (to: string) => stack.sim.submits.filter((s) => s.to === to).length;

/** Runs `rows` with at most `width` at once. */
async function pool<T>(items: T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

function sessionIdOf(r: Row): string | undefined {
  try {
    return stack.otp.sessionId(normalizePhone(r.watch), r.tenant);
  } catch {
    return undefined;
  }
}

async function inspect(r: Row, observed: Observed): Promise<Checked> {
  const id = sessionIdOf(r);
  let taskFailures = 0;
  let longestEvent = 0;
  if (id) {
    try {
      const history = await raw.workflow.getHandle(id).fetchHistory();
      taskFailures = (history.events ?? []).filter((e) => e.workflowTaskFailedEventAttributes).length;
      const st = await stack.otp.status(r.watch).catch(() => null);
      longestEvent = Math.max(0, ...(st?.events ?? []).map((e) => e.detail.length));
    } catch (err) {
      // No session: nothing could fail in it.
      if (!(err instanceof WorkflowNotFoundError) && !/not found/i.test((err as Error).message)) throw err;
    }
  }
  return { observed, submits: submitsTo(r.watch) - (baseline.get(r.watch) ?? 0), taskFailures, longestEvent };
}

/** What the worker and the SDK logged meanwhile (its WARN lines, "Activity failed" with the error, go to stderr). */
const logged: string[] = [];
const stderrWrite = process.stderr.write;
/** Every long input is one character repeated: a run of 100 of it in a log is an echo. */
const LONG_RUNS = [...'plcdmbktxru'].map((ch) => ch.repeat(100));

beforeAll(async () => {
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    logged.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
    return (stderrWrite as (chunk: string | Uint8Array, ...rest: unknown[]) => boolean).call(process.stderr, chunk, ...rest);
  }) as typeof process.stderr.write;
  for (const level of ['log', 'info', 'warn', 'error'] as const) jest.spyOn(console, level);
  stack = await startStack({}, { OTP_MAX_SEND_WAIT_MS: '20000' });
  // A caller of its own: its own connection, which does not retry what the server refuses (as the SDK's default would, for half a minute).
  const connection = await Connection.connect({ address: stack.config.temporal.address, interceptors: [] });
  raw = new Client({ connection, namespace: stack.config.temporal.namespace, dataConverter: otpDataConverter(stack.config.keys.payload) });
  accepted(await stack.otp.send(VICTIM, { profile: 'fast' }));
  await stack.waitForSms(VICTIM);
  victimAttempts = (await stack.otp.status(VICTIM))!.code!.attemptsRemaining;
  for (const r of rows) baseline.set(r.watch, submitsTo(r.watch));
  const observed = new Map<Row, Observed>();
  const run = (r: Row) => r.run().then((o) => void observed.set(r, o));
  // CLI rows are processes: fewer at once on a 2-core machine.
  await Promise.all([
    pool(
      rows.filter((r) => r.surface === 'cli'),
      3,
      run,
    ),
    pool(
      rows.filter((r) => r.surface !== 'cli'),
      8,
      run,
    ),
  ]);
  await settleFor(1500, 'negative check: a task failure or a late SMS shows up after the call; give it time to show');
  await pool(rows, 8, async (r) => void results.set(r, await inspect(r, observed.get(r)!)));
}, 180_000);

afterAll(async () => {
  process.stderr.write = stderrWrite;
  await raw?.connection.close();
  await stack?.stop();
});

test('the table covers every surface, 100 rows or more', () => {
  const counts = Object.fromEntries((['client', 'cli', 'raw', 'n8n'] as const).map((s) => [s, rows.filter((r) => r.surface === s).length]));
  console.log(`hostile inputs per surface: ${JSON.stringify(counts)}, ${rows.length} in all`);
  expect(rows.length).toBeGreaterThanOrEqual(100);
  for (const s of Object.values(counts)) expect(s).toBeGreaterThan(0);
});

test.each(rows.map((r) => [`${r.surface}: ${r.what}`, r] as const))('%s', (_name, r) => {
  const { observed, submits, taskFailures, longestEvent } = results.get(r)!;
  const seen = { ...observed, error: observed.error && { type: observed.error.type, message: observed.error.message.slice(0, 300) } };
  expect(seen.hung).toBeUndefined();
  if ('error' in r.expect) {
    const types = ([] as string[]).concat(r.expect.error);
    expect({ type: types.includes(seen.error?.type ?? '') ? types : seen.error?.type, answer: seen.answer }).toEqual({ type: types, answer: undefined });
  } else expect({ answer: seen.answer, error: seen.error }).toEqual({ answer: r.expect.answer, error: undefined });
  if (r.expect.exit !== undefined) expect(observed.exit).toBe(r.expect.exit);
  // Nothing echoed whole: errors and the session's events are short.
  expect(observed.error?.message.length ?? 0).toBeLessThan(r.surface === 'cli' && r.expect.exit === 2 ? 2000 : 600);
  expect(longestEvent).toBeLessThan(MAX_ECHO);
  // Nothing reached the SMSC, and no workflow task failed.
  expect({ submits, taskFailures }).toEqual({ submits: 0, taskFailures: 0 });
});

test('the victim still has every attempt, and no row locked it', async () => {
  const st = (await stack.otp.status(VICTIM))!;
  expect(st.code).toMatchObject({ state: 'active', attemptsRemaining: victimAttempts });
  expect(st.events.filter((e) => e.type === 'verify')).toEqual([]);
});

test('no log line holds a long input whole', () => {
  const text = (a: unknown) => {
    try {
      return typeof a === 'string' ? a : a instanceof Error ? `${a.message} ${a.stack}` : JSON.stringify(a);
    } catch {
      return String(a);
    }
  };
  const consoleLines = (['log', 'info', 'warn', 'error'] as const).flatMap((level) =>
    (console[level] as jest.Mock).mock.calls.map((args: unknown[]) => args.map(text).join(' ')),
  );
  const all = [...logged, ...consoleLines].join('\n');
  // Not vacuous: the worker logged the activities' refusals (an unknown locale, a javascript: URL…).
  expect(all).toMatch(/Activity failed/);
  for (const run of LONG_RUNS) expect({ run: run.slice(0, 10), found: all.includes(run) }).toEqual({ run: run.slice(0, 10), found: false });
});

test('concurrent megabyte updates, all refused, do not fail the session: its code still verifies', async () => {
  // A worker's reply to a workflow task carries each update it rejected, request included: without the
  // server's cap on update bytes in flight, six of these made it pass gRPC's 4 MB and failed the session.
  const to = fresh();
  accepted(await stack.otp.send(to, { profile: 'fast' }));
  const [sms] = await stack.waitForSms(to);
  const answers = await Promise.all(
    Array.from({ length: 6 }, (_, i) => rawCalls.verify(to, { sealedCode: seal(to, '123456'), context: String(i).repeat(MB) })),
  );
  for (const a of answers) expect(HUGE.error).toContain(a.error?.type);
  const history = await raw.workflow.getHandle(stack.otp.sessionId(to)).fetchHistory();
  expect((history.events ?? []).filter((e) => e.workflowTaskFailedEventAttributes)).toEqual([]);
  expect(await stack.otp.verify(to, codeFrom(sms.text))).toMatchObject({ valid: true, outcome: 'verified' });
}, 60_000);

test('no workflow task failed anywhere on the task queue', async () => {
  const failed: string[] = [];
  for await (const wf of raw.workflow.list({ query: `TaskQueue = '${stack.config.temporal.taskQueue}'` })) {
    const history = await raw.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
    if ((history.events ?? []).some((e) => e.workflowTaskFailedEventAttributes)) failed.push(wf.workflowId);
  }
  expect(failed).toEqual([]);
});
