/** Command-line options of `npm run audit`, checked before anything connects. */
import { assertTenant, InvalidTenantError } from '../contract/keys';
import { AUDIT_FORMATS, type AuditFormat } from './lines';

/** Which option is wrong: the CLI exits 2 and names it. */
export type AuditUsageProblem = 'option' | 'tenant' | 'from' | 'to' | 'window' | 'format' | 'id-key';

export class AuditUsageError extends Error {
  constructor(
    readonly problem: AuditUsageProblem,
    message: string,
  ) {
    super(message);
    this.name = 'AuditUsageError';
  }
}

export interface AuditOptions {
  tenant: string;
  fromMs: number;
  toMs: number;
  format: AuditFormat;
  /** OTP_HASH_KEY (or one it replaced): full numbers are shown only with it. */
  idKey?: string;
}

export const AUDIT_USAGE = 'usage: npm run audit -- --tenant T --from <ISO-8601> --to <ISO-8601> [--format jsonl|csv] [--id-key KEY]';

/** A date, or a date and time with a zone: "2026-11-27", "2026-11-27T10:00:00Z", "2026-11-27T10:00+01:00". */
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;

function instant(name: 'from' | 'to', value: string | undefined): number {
  if (value === undefined) throw new AuditUsageError(name, `--${name} is required (an ISO-8601 date or instant with a zone, e.g. 2026-11-27T00:00:00Z)`);
  const ms = ISO_INSTANT.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(ms))
    throw new AuditUsageError(name, `--${name} "${value.slice(0, 40)}" is not an ISO-8601 date or instant with a zone (e.g. 2026-11-27T00:00:00Z)`);
  return ms;
}

/**
 * `idKeys`: the deployment's id keys (OTP_HASH_KEY first, then OTP_HASH_KEY_PREVIOUS). A given
 * --id-key must be one of them: any other key would silently show no number at all.
 */
export function parseAuditArgs(argv: readonly string[], idKeys: readonly string[]): AuditOptions {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].startsWith('--') ? argv[i].slice(2) : '';
    if (!['tenant', 'from', 'to', 'format', 'id-key'].includes(name))
      throw new AuditUsageError('option', `unknown argument "${argv[i].slice(0, 40)}"\n${AUDIT_USAGE}`);
    const value = argv[++i];
    if (value === undefined) throw new AuditUsageError(name === 'id-key' ? 'id-key' : (name as AuditUsageProblem), `--${name} needs a value\n${AUDIT_USAGE}`);
    flags.set(name, value);
  }
  const tenant = flags.get('tenant');
  if (!tenant) throw new AuditUsageError('tenant', `--tenant is required\n${AUDIT_USAGE}`);
  try {
    assertTenant(tenant);
  } catch (err) {
    if (err instanceof InvalidTenantError) throw new AuditUsageError('tenant', err.message);
    throw err;
  }
  const fromMs = instant('from', flags.get('from'));
  const toMs = instant('to', flags.get('to'));
  if (toMs <= fromMs) throw new AuditUsageError('window', '--to must be after --from');
  const format = flags.get('format') ?? 'jsonl';
  if (!(AUDIT_FORMATS as readonly string[]).includes(format))
    throw new AuditUsageError('format', `--format must be ${AUDIT_FORMATS.join(' or ')} (got "${format.slice(0, 20)}")`);
  const idKey = flags.get('id-key');
  // Never echo the key: a wrong one may be a near miss of the real one.
  if (idKey !== undefined && !idKeys.includes(idKey))
    throw new AuditUsageError('id-key', "--id-key is not this deployment's id key (OTP_HASH_KEY or one in OTP_HASH_KEY_PREVIOUS)");
  return { tenant, fromMs, toMs, format: format as AuditFormat, idKey };
}
