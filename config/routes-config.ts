/** Parses and checks SMSC route definitions (SMSC_ROUTES / SMSC_ROUTES_FILE). */
import { readFileSync } from 'node:fs';
import type { RouteConfig } from '../smpp/smsc';
import { BIND_RANGES } from '../smpp/bind-defaults';
import { ROUTE_CHARSETS, type RouteCharset } from '../smpp/charset';

export class RouteConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RouteConfigError';
  }
}

const KEYS = new Set([
  'name',
  'host',
  'port',
  'systemId',
  'password',
  'systemType',
  'bindMode',
  'binds',
  'tls',
  'window',
  'tps',
  'countries',
  'prefixes',
  'trafficClasses',
  'longMessages',
  'messageIds',
  'responseTimeoutMs',
  'enquireLinkMs',
  'reconnectInitialMs',
  'reconnectMaxMs',
  'submitDeadlineMs',
  'interfaceVersion',
  'receiptAckDeadlineMs',
  'resubmitInDoubt',
  'concatRefBits',
  'throttleInitialMs',
  'throttleMaxMs',
  'bindStableMs',
  'bindRefusedBackoffMs',
  'maxBindRefusals',
  'connectTimeoutMs',
  'waitAckMs',
  'charset',
  'sourceTon',
  'sourceNpi',
  'destTon',
  'destNpi',
]);
const TLS_KEYS = ['caFile', 'rejectUnauthorized', 'servername', 'certFile', 'keyFile'];
const ID_FORMATS = ['string', 'hex', 'decimal'];

type Raw = Record<string, unknown>;

function check(raw: Raw, i: number): RouteConfig {
  const where = `SMSC route #${i + 1}${typeof raw.name === 'string' ? ` ("${raw.name}")` : ''}`;
  const fail = (msg: string): never => {
    throw new RouteConfigError(`${where}: ${msg}`);
  };
  for (const k of Object.keys(raw)) if (!KEYS.has(k)) fail(`unknown field "${k}"`);
  const str = (k: string, required: boolean, max = 256) => {
    const v = raw[k];
    if (v === undefined && !required) return undefined;
    if (typeof v !== 'string' || (required && !v) || v.length > max) fail(`${k} must be a ${required ? 'non-empty ' : ''}string of at most ${max} characters`);
    return v as string;
  };
  const int = (k: string, min: number, max: number) => {
    const v = raw[k];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) fail(`${k} must be an integer from ${min} to ${max}`);
    return v as number;
  };
  const list = (k: string, re: RegExp, what: string) => {
    const v = raw[k];
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || !re.test(x))) fail(`${k} must be a list of ${what}`);
    return v as string[];
  };
  const name = str('name', true, 40)!;
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) fail('name may use A–Z a–z 0–9 _ . - only');
  const bindMode = raw.bindMode;
  if (bindMode !== undefined && bindMode !== 'transceiver' && bindMode !== 'transmitter+receiver')
    fail('bindMode must be "transceiver" or "transmitter+receiver"');
  const longMessages = raw.longMessages;
  if (longMessages !== undefined && longMessages !== 'udh' && longMessages !== 'payload') fail('longMessages must be "udh" or "payload"');
  let tls: RouteConfig['tls'] = null;
  if (raw.tls === true) tls = {};
  else if (raw.tls && typeof raw.tls === 'object') {
    const t = raw.tls as Raw;
    for (const k of Object.keys(t)) if (!TLS_KEYS.includes(k)) fail(`tls: unknown field "${k}"`);
    const pem = (k: string): Buffer | undefined => {
      if (t[k] === undefined) return undefined;
      try {
        return readFileSync(String(t[k]));
      } catch (err) {
        return fail(`tls.${k} ${String(t[k])} cannot be read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
      }
    };
    // Mutual TLS needs both halves; one alone would fail at every handshake instead of here.
    if ((t.certFile === undefined) !== (t.keyFile === undefined)) fail('tls.certFile and tls.keyFile go together');
    tls = {
      ca: pem('caFile'),
      cert: pem('certFile'),
      key: pem('keyFile'),
      rejectUnauthorized: t.rejectUnauthorized === undefined ? true : t.rejectUnauthorized === true,
      servername: t.servername === undefined ? undefined : String(t.servername),
    };
  } else if (raw.tls !== undefined && raw.tls !== false && raw.tls !== null) fail(`tls must be true, false, or {${TLS_KEYS.map((k) => `"${k}"`).join(', ')}}`);
  let messageIds: RouteConfig['messageIds'];
  if (raw.messageIds !== undefined) {
    const m = raw.messageIds as Raw;
    if (!m || typeof m !== 'object' || !ID_FORMATS.includes(String(m.submit)) || !ID_FORMATS.includes(String(m.receipt))) {
      fail('messageIds must be {"submit": "string"|"hex"|"decimal", "receipt": "string"|"hex"|"decimal"}');
    }
    messageIds = { submit: m.submit as 'string', receipt: m.receipt as 'string' };
  }
  const resubmitInDoubt = raw.resubmitInDoubt;
  if (resubmitInDoubt !== undefined && typeof resubmitInDoubt !== 'boolean') fail('resubmitInDoubt must be true or false');
  const concatRefBits = raw.concatRefBits;
  if (concatRefBits !== undefined && concatRefBits !== 8 && concatRefBits !== 16) fail('concatRefBits must be 8 or 16');
  if (raw.charset !== undefined && !ROUTE_CHARSETS.includes(raw.charset as RouteCharset))
    fail(`charset must be ${ROUTE_CHARSETS.map((c) => `"${c}"`).join(', ')}`);
  const classes = list('trafficClasses', /^(otp|bulk)$/, '"otp" and "bulk"') as RouteConfig['trafficClasses'];
  const password = str('password', false, 8) ?? '';
  const systemId = str('systemId', true, 15)!;
  return {
    name,
    host: str('host', true)!,
    port: int('port', 1, 65535) ?? fail('port is required'),
    systemId,
    password,
    systemType: str('systemType', false, 12),
    bindMode: bindMode as RouteConfig['bindMode'],
    binds: int('binds', 1, 32),
    tls,
    window: int('window', ...BIND_RANGES.window),
    tps: int('tps', 0, 100000),
    countries: list('countries', /^[A-Z]{2}$/, 'two-letter ISO codes in capitals'),
    prefixes: list('prefixes', /^\+\d{1,14}$/, 'E.164 prefixes such as "+336"'),
    trafficClasses: classes,
    longMessages: longMessages as RouteConfig['longMessages'],
    messageIds,
    responseTimeoutMs: int('responseTimeoutMs', ...BIND_RANGES.responseTimeoutMs),
    enquireLinkMs: int('enquireLinkMs', ...BIND_RANGES.enquireLinkMs),
    reconnectInitialMs: int('reconnectInitialMs', ...BIND_RANGES.reconnectInitialMs),
    reconnectMaxMs: int('reconnectMaxMs', ...BIND_RANGES.reconnectMaxMs),
    submitDeadlineMs: int('submitDeadlineMs', 100, 60000),
    interfaceVersion: int('interfaceVersion', ...BIND_RANGES.interfaceVersion),
    receiptAckDeadlineMs: int('receiptAckDeadlineMs', ...BIND_RANGES.receiptAckDeadlineMs),
    resubmitInDoubt: resubmitInDoubt as boolean | undefined,
    concatRefBits: concatRefBits as RouteConfig['concatRefBits'],
    throttleInitialMs: int('throttleInitialMs', 1, 60000),
    throttleMaxMs: int('throttleMaxMs', 1, 600000),
    bindStableMs: int('bindStableMs', ...BIND_RANGES.bindStableMs),
    waitAckMs: int('waitAckMs', ...BIND_RANGES.waitAckMs),
    bindRefusedBackoffMs: int('bindRefusedBackoffMs', 1000, 86400000),
    maxBindRefusals: int('maxBindRefusals', 1, 100),
    connectTimeoutMs: int('connectTimeoutMs', ...BIND_RANGES.connectTimeoutMs),
    charset: raw.charset as RouteCharset | undefined,
    // SMPP 3.4 §5.2.5 / §5.2.6: TON 0–6, NPI up to 18 (private).
    sourceTon: int('sourceTon', 0, 6),
    sourceNpi: int('sourceNpi', 0, 18),
    destTon: int('destTon', 0, 6),
    destNpi: int('destNpi', 0, 18),
  };
}

/** Parses a JSON array of routes; `source` names the setting in errors. */
export function parseRoutes(text: string, source: string): RouteConfig[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new RouteConfigError(`${source} is not valid JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(parsed) || parsed.length === 0) throw new RouteConfigError(`${source} must be a non-empty JSON array of routes`);
  const routes = parsed.map((r, i) => {
    if (!r || typeof r !== 'object' || Array.isArray(r)) throw new RouteConfigError(`${source}: route #${i + 1} must be an object`);
    return check(r as Raw, i);
  });
  const seen = new Set<string>();
  for (const r of routes) {
    if (seen.has(r.name)) throw new RouteConfigError(`${source}: route name "${r.name}" is used twice`);
    seen.add(r.name);
  }
  return routes;
}
