/**
 * Terminal client for newcomers and ops; prints JSON.
 *
 *   npm run otp -- send <phone> [--tenant T] [--key KEY] [--profile P] [--locale L] [--context TEXT] [--brand B] [--code C] [--message TEXT] [--email E] [--webhook URL]
 *   npm run otp -- verify <phone> <code> [--tenant T] [--key KEY] [--purpose P] [--context TEXT] [--public]
 *   npm run otp -- status <phone> [--tenant T]
 *   npm run otp -- profile propose <profile> [--tenant T] [--by WHO] [--note TEXT]
 *   npm run otp -- profile approve|reject <profile> <contentHash> [--tenant T] [--by WHO] [--note TEXT]
 *   npm run otp -- profile list [<profile>] [--tenant T]
 *
 * Settings come from the same environment / OTP_CONFIG_FILE as the worker.
 */
import { userInfo } from 'node:os';
import { connectOtpClient, isTransientErrorType, OtpRequestError, type OtpClient } from '../client';
import { InvalidPhoneError, InvalidTenantError } from '../contract/keys';
import { ConfigError, loadConfig } from '../config/config';

const USAGE = `usage:
  otp send <phone> [--tenant T] [--key IDEMPOTENCY_KEY] [--profile P] [--locale L] [--context TEXT] [--brand B] [--code C] [--message TEXT] [--email E] [--webhook URL]
  otp verify <phone> <code> [--tenant T] [--key IDEMPOTENCY_KEY] [--purpose login|transaction|recovery|custom] [--context TEXT] [--public]
  otp status <phone> [--tenant T]
  otp profile propose <profile> [--tenant T] [--by WHO] [--note TEXT]
  otp profile approve|reject <profile> <contentHash> [--tenant T] [--by WHO] [--note TEXT]
  otp profile list [<profile>] [--tenant T]
  otp recent [--tenant T] [--profile P] [--status pending|delivered|failed|verified|expired|locked|cancelled|refused] [--limit N] [--page TOKEN]`;

class UsageError extends Error {}

function parseArgs(argv: string[]): { positional: string[]; flags: Record<string, string> } {
  const positional: string[] = [];
  const flags: Record<string, string> = {};
  const known = new Set([
    'tenant',
    'key',
    'profile',
    'purpose',
    'locale',
    'context',
    'brand',
    'code',
    'message',
    'email',
    'webhook',
    'by',
    'note',
    'status',
    'limit',
    'page',
  ]);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--public') {
      flags.public = 'true';
      continue;
    }
    if (a.startsWith('--')) {
      const name = a.slice(2);
      if (!known.has(name)) throw new UsageError(`unknown option --${JSON.stringify(name.slice(0, 40)).slice(1, -1)}`);
      const value = argv[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
      flags[name] = value;
    } else positional.push(a);
  }
  return { positional, flags };
}

/** Default identity of a terminal: the OS user, marked as such in the trail. */
function cliIdentity(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli:unknown';
  }
}

/** `otp profile …`: sender approval (see docs/policy-profiles.md, "Sender approval"). */
async function profileCommand(otp: OtpClient, args: string[], flags: Record<string, string>): Promise<unknown> {
  const [action, profile, hash] = args;
  const opts = { tenant: flags.tenant, by: flags.by ?? cliIdentity(), note: flags.note };
  if (action === 'propose' && profile) return otp.proposeRevision(profile, opts);
  if (action === 'approve' && profile && hash) return otp.approveRevision(profile, hash, opts);
  if (action === 'reject' && profile && hash) return otp.rejectRevision(profile, hash, opts);
  if (action === 'list') return otp.senderRevisions({ tenant: flags.tenant, profile });
  throw new UsageError(USAGE);
}

async function main(): Promise<number> {
  const { positional, flags } = parseArgs(process.argv.slice(2));
  if (positional[0] === 'profile') {
    const otp = await connectOtpClient(loadConfig(process.env, 'client'));
    try {
      console.log(JSON.stringify(await profileCommand(otp, positional.slice(1), flags), null, 2));
      return 0;
    } finally {
      await otp.temporal.connection.close();
    }
  }
  if (positional[0] === 'recent') {
    const limit = flags.limit === undefined ? undefined : Number(flags.limit);
    const otp = await connectOtpClient(loadConfig(process.env, 'client'));
    try {
      console.log(
        JSON.stringify(
          await otp.recentSends({ tenant: flags.tenant, profile: flags.profile, status: flags.status, pageSize: limit, pageToken: flags.page }),
          null,
          2,
        ),
      );
      return 0;
    } finally {
      await otp.temporal.connection.close();
    }
  }
  const [command, phone, code] = positional;
  if (!command || !phone || (command === 'verify' && !code) || !['send', 'verify', 'status'].includes(command)) throw new UsageError(USAGE);
  const config = loadConfig(process.env, 'client');
  const otp = await connectOtpClient(config);
  try {
    const tenant = flags.tenant;
    let result: unknown;
    if (command === 'send') {
      result = await otp.send(phone, {
        tenant,
        idempotencyKey: flags.key,
        profile: flags.profile,
        locale: flags.locale,
        context: flags.context,
        brand: flags.brand,
        code: flags.code,
        messageText: flags.message,
        email: flags.email,
        webhookUrl: flags.webhook,
      });
    } else if (command === 'verify') {
      const purpose = flags.purpose ?? 'login';
      if (!['login', 'transaction', 'recovery', 'custom'].includes(purpose)) throw new UsageError('--purpose must be login, transaction, recovery or custom');
      result = await otp.verify(phone, code, {
        tenant,
        idempotencyKey: flags.key,
        purpose: purpose as 'login',
        context: flags.context,
        responseMode: flags.public ? 'public' : 'full',
      });
    } else {
      result = (await otp.status(phone, { tenant })) ?? { found: false, sessionId: otp.sessionId(phone, tenant) };
    }
    console.log(JSON.stringify(result, null, 2));
    return 0;
  } finally {
    await otp.temporal.connection.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) {
      console.error(err.message);
      process.exit(2);
    }
    const known = err instanceof ConfigError || err instanceof InvalidPhoneError || err instanceof InvalidTenantError || err instanceof OtpRequestError;
    const message = err instanceof Error ? err.message : String(err);
    const unreachable = /connect|ECONNREFUSED|Failed to connect|unavailable/i.test(message);
    const hint = unreachable ? ' (is the stack running? start it with "npm start")' : '';
    // Every error has a type scripts can branch on (SelfApproval, InvalidRequest, Timeout…), and whether a retry may help.
    const type =
      err instanceof OtpRequestError || err instanceof InvalidPhoneError || err instanceof InvalidTenantError
        ? err.type
        : err instanceof ConfigError
          ? 'InvalidConfig'
          : unreachable
            ? 'Unavailable'
            : 'Internal';
    console.error(JSON.stringify({ error: known ? (err as Error).name : 'Error', type, transient: isTransientErrorType(type), message: message + hint }));
    process.exit(1);
  },
);
