/**
 * Outbound destinations (delivery callbacks, the webhook channel): which URLs
 * and which resolved addresses a worker may POST to. Pure apart from isIP;
 * activities/http-post.ts applies checkAddress again to every address DNS
 * returns, so a name that resolves differently later (rebinding) is still caught.
 *
 * Allowlist spec (OTP_OUTBOUND_ALLOW), comma-separated:
 *   hooks.example.com   that host name exactly
 *   *.example.com       any name under example.com (any depth), not example.com itself
 *   203.0.113.7, ::1    that address
 *   10.0.0.0/8, fd00::/8 that network (host bits must be zero)
 * A host name entry allows the name; an address or network entry allows the
 * addresses and is the only way to reach a blocked range (loopback, private…).
 */
import { isIP } from 'node:net';

export type DestinationReason =
  | 'invalid_url'
  | 'not_http'
  | 'credentials_in_url'
  | 'too_long'
  | 'not_allowed'
  | 'no_address'
  | 'bad_allowlist'
  | `private_address:${string}`;

/** A refused URL, address or allowlist entry. The message names the host, never the whole URL (it may carry secrets). */
export class DestinationError extends Error {
  constructor(
    readonly reason: DestinationReason,
    message: string,
  ) {
    super(message);
    this.name = 'DestinationError';
  }
}

/** An address as a 128-bit integer: IPv4 in the low 32 bits, with its own family tag. */
interface Address {
  family: 4 | 6;
  value: bigint;
}

interface Network {
  family: 4 | 6;
  base: bigint;
  prefix: number;
}

export interface OutboundPolicy {
  /** Exact host names, lower case, without a trailing dot. */
  readonly hosts: readonly string[];
  /** Suffixes from `*.example.com` entries, stored as ".example.com". */
  readonly suffixes: readonly string[];
  /** Address and network entries. */
  readonly networks: readonly Readonly<Network>[];
  /**
   * When true, a destination must match an entry even if its address is public.
   * @default false
   */
  readonly requireAllowlist: boolean;
}

export interface OutboundPolicyOptions {
  /**
   * Refuse destinations that match no allowlist entry, public or not.
   * @default false
   */
  requireAllowlist?: boolean;
}

/** Longest URL accepted; longer ones are refused before parsing. */
export const MAX_URL_LENGTH = 2048;

const BITS = { 4: 32, 6: 128 } as const;

function parseIPv4(text: string): bigint | undefined {
  if (isIP(text) !== 4) return undefined;
  return text.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

function parseIPv6(text: string): bigint | undefined {
  const bare = text.replace(/%.*$/, ''); // a zone id does not change the range
  if (isIP(bare) !== 6) return undefined;
  let head = bare;
  let tailV4: bigint | undefined;
  const lastColon = bare.lastIndexOf(':');
  if (bare.includes('.', lastColon)) {
    tailV4 = parseIPv4(bare.slice(lastColon + 1));
    if (tailV4 === undefined) return undefined;
    head = `${bare.slice(0, lastColon + 1)}0:0`; // stands in for the two groups the dotted quad fills
  }
  const [left, right] = head.includes('::') ? head.split('::') : [head, undefined];
  const groups = (s: string | undefined) => (s ? s.split(':') : []);
  const l = groups(left);
  const r = groups(right);
  const all = right === undefined ? l : [...l, ...Array<string>(8 - l.length - r.length).fill('0'), ...r];
  if (all.length !== 8) return undefined;
  let value = all.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
  if (tailV4 !== undefined) value = (value & ~0xffffffffn) | tailV4;
  return value;
}

function parseAddress(text: string): Address | undefined {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const v4 = parseIPv4(bare);
  if (v4 !== undefined) return { family: 4, value: v4 };
  const v6 = parseIPv6(bare);
  if (v6 !== undefined) return { family: 6, value: v6 };
  return undefined;
}

function network(cidr: string): Network {
  const [addr, prefix] = cidr.split('/');
  const a = parseAddress(addr)!;
  return { family: a.family, base: a.value, prefix: Number(prefix) };
}

function contains(net: Network, a: Address): boolean {
  if (net.family !== a.family) return false;
  const shift = BigInt(BITS[net.family] - net.prefix);
  return a.value >> shift === net.base >> shift;
}

/** Blocked unless allowlisted. The most specific range comes first so it names the match. */
const BLOCKED_V4: [string, Network][] = (
  [
    ['broadcast', '255.255.255.255/32'],
    ['this-network', '0.0.0.0/8'],
    ['private', '10.0.0.0/8'],
    ['shared-cgnat', '100.64.0.0/10'],
    ['loopback', '127.0.0.0/8'],
    ['link-local', '169.254.0.0/16'],
    ['private', '172.16.0.0/12'],
    ['ietf-protocol', '192.0.0.0/24'],
    ['private', '192.168.0.0/16'],
    ['benchmarking', '198.18.0.0/15'],
    ['multicast', '224.0.0.0/4'],
    ['reserved', '240.0.0.0/4'],
  ] as const
).map(([name, cidr]) => [name, network(cidr)]);

const BLOCKED_V6: [string, Network][] = (
  [
    ['unspecified', '::/128'],
    ['loopback', '::1/128'],
    // Deprecated IPv4-compatible form (::a.b.c.d): nothing legitimate uses it.
    ['ipv4-compatible', '::/96'],
    ['unique-local', 'fc00::/7'],
    ['link-local', 'fe80::/10'],
    ['multicast', 'ff00::/8'],
    // Forms that carry or reach an IPv4 address we cannot vet, or are not routable on the internet.
    ['nat64-local', '64:ff9b:1::/48'],
    ['6to4', '2002::/16'],
    ['teredo', '2001::/32'],
    ['discard', '100::/64'],
    ['site-local', 'fec0::/10'],
    ['documentation', '2001:db8::/32'],
    // IPv4-translated (SIIT): ::ffff:0:a.b.c.d reaches a.b.c.d on translating networks.
    ['ipv4-translated', '::ffff:0:0:0/96'],
  ] as const
).map(([name, cidr]) => [name, network(cidr)]);

const MAPPED_V4 = network('::ffff:0:0/96');
const NAT64 = network('64:ff9b::/96');

function v4Of(a: Address): Address {
  return { family: 4, value: a.value & 0xffffffffn };
}

/** The blocked range an address falls in, or null if it is public. */
export function blockedRange(ip: string): string | null {
  const a = parseAddress(ip);
  if (!a) throw new DestinationError('no_address', 'not an IP address');
  return rangeOf(a);
}

function rangeOf(a: Address): string | null {
  // An IPv4-mapped or NAT64 address reaches the IPv4 address it embeds.
  if (a.family === 6 && (contains(MAPPED_V4, a) || contains(NAT64, a))) return rangeOf(v4Of(a));
  const table = a.family === 4 ? BLOCKED_V4 : BLOCKED_V6;
  return table.find(([, net]) => contains(net, a))?.[0] ?? null;
}

function addressAllowed(a: Address, policy: OutboundPolicy): boolean {
  // ::ffff:a.b.c.d is a.b.c.d on the wire: an entry for either form covers it.
  const forms = a.family === 6 && contains(MAPPED_V4, a) ? [a, v4Of(a)] : [a];
  return policy.networks.some((net) => forms.some((f) => contains(net, f)));
}

function normalizeHost(host: string): string {
  return host.toLowerCase().replace(/\.$/, '');
}

function hostAllowed(host: string, policy: OutboundPolicy): boolean {
  const h = normalizeHost(host);
  return policy.hosts.includes(h) || policy.suffixes.some((s) => h.endsWith(s) && h.length > s.length);
}

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

function parseEntry(raw: string, into: { hosts: string[]; suffixes: string[]; networks: Network[] }): void {
  const bad = (why: string) => new DestinationError('bad_allowlist', `outbound allowlist entry "${raw}": ${why}`);
  if (raw.includes('://')) throw bad('write the host name alone, not a URL');
  if (raw.includes('/')) {
    const [addr, prefixText, ...rest] = raw.split('/');
    const a = parseAddress(addr);
    if (!a || rest.length) throw bad('expected an address/prefix such as 10.0.0.0/8 or fd00::/8');
    const prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
    if (!(prefix >= 0 && prefix <= BITS[a.family])) throw bad(`prefix must be 0–${BITS[a.family]}`);
    const shift = BigInt(BITS[a.family] - prefix);
    if ((a.value >> shift) << shift !== a.value) throw bad('address has bits set beyond the prefix (write the network address)');
    into.networks.push({ family: a.family, base: a.value, prefix });
    return;
  }
  const a = parseAddress(raw);
  if (a) {
    into.networks.push({ family: a.family, base: a.value, prefix: BITS[a.family] });
    return;
  }
  const wildcard = raw.startsWith('*.');
  const name = normalizeHost(wildcard ? raw.slice(2) : raw);
  const labels = name.split('.');
  if (name.length > 253 || !labels.every((l) => LABEL.test(l)))
    throw bad('expected a host name, *.domain, an IP address or a CIDR (international names in xn-- form)');
  // WHATWG URL reads a numeric last label as IPv4 (http://1.2.3/ is 1.2.0.3), so such a "name" would never match.
  if (/^(0x[0-9a-f]*|[0-9]+)$/.test(labels[labels.length - 1])) throw bad('write IPv4 addresses in dotted-decimal form');
  if (wildcard) into.suffixes.push(`.${name}`);
  else into.hosts.push(name);
}

/** Parses the operator allowlist. An empty or absent spec allows no private range and no name. */
export function parseOutboundPolicy(spec: string | undefined, options: OutboundPolicyOptions = {}): OutboundPolicy {
  const into = { hosts: [] as string[], suffixes: [] as string[], networks: [] as Network[] };
  for (const raw of (spec ?? '').split(',')) {
    const entry = raw.trim();
    if (entry) parseEntry(entry, into);
  }
  return { ...into, requireAllowlist: options.requireAllowlist ?? false };
}

/**
 * Checks one address a destination resolved to (or an IP literal in its URL).
 * `host` is the URL's host name, if it had one: with requireAllowlist a name
 * entry then counts as well as an address entry.
 */
export function checkAddress(ip: string, policy: OutboundPolicy, host?: string): void {
  const a = parseAddress(ip);
  if (!a) throw new DestinationError('no_address', `${host ?? 'a destination'} resolved to something that is not an IP address`);
  // Name the host, not what it resolved to: the caller chose the name, and the answer would map internal DNS for them.
  const label = host ?? ip;
  const allowedByAddress = addressAllowed(a, policy);
  const range = rangeOf(a);
  if (range && !allowedByAddress) {
    throw new DestinationError(
      `private_address:${range}`,
      `${host ? `${host} resolves to` : `${ip} is`} a ${range} address, which the outbound allowlist does not allow`,
    );
  }
  if (policy.requireAllowlist && !allowedByAddress && !(host && hostAllowed(host, policy))) {
    throw new DestinationError('not_allowed', `${label} is not in the outbound allowlist`);
  }
}

/**
 * The static part: http(s) only, at most MAX_URL_LENGTH characters, no
 * user:password@, and an IP-literal host checked as an address. A host name
 * is checked against name entries here; its addresses are checked at connect time.
 */
export function checkUrl(url: string, policy: OutboundPolicy): URL {
  if (url.length > MAX_URL_LENGTH) throw new DestinationError('too_long', `URL is longer than ${MAX_URL_LENGTH} characters`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new DestinationError('invalid_url', 'not a valid absolute URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new DestinationError('not_http', `URL scheme must be http or https (got ${parsed.protocol})`);
  if (parsed.username || parsed.password) throw new DestinationError('credentials_in_url', `URL to ${parsed.host} must not carry user:password@`);
  // WHATWG parsing has already turned 2130706433 or 0x7f.1 into 127.0.0.1 here.
  const literal = parseAddress(parsed.hostname);
  if (literal) {
    checkAddress(parsed.hostname.replace(/^\[|\]$/g, ''), policy);
    return parsed;
  }
  // With only name entries, a name that matches none can be refused now; an address entry might still match once resolved.
  if (policy.requireAllowlist && !hostAllowed(parsed.hostname, policy) && policy.networks.length === 0) {
    throw new DestinationError('not_allowed', `${parsed.hostname} is not in the outbound allowlist`);
  }
  return parsed;
}
