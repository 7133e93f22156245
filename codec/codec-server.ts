/**
 * Codec server for the Temporal Web UI: POST /decode and /encode, so that
 * someone who holds the payload keys can read encrypted histories in the UI.
 * Protocol: https://docs.temporal.io/production-deployment/data-encryption
 * (body and answer: {"payloads": [{"metadata": {k: base64}, "data": base64}]};
 * only the last path segment names the operation, so it may be mounted under a prefix).
 *
 * With a token, a request must carry it in one of two forms:
 * - as the path segment before the operation: the UI's codec endpoint is
 *   `http://host:8234/<token>` and it calls `/<token>/decode`. This is the form
 *   the Web UI can use: it sends no header of our choosing (its "pass the user
 *   access token" option sends the user's OIDC token, never a static one);
 * - `Authorization: Bearer <token>`, for the CLI, SDKs and proxies.
 * Without a token it starts only on a loopback address outside production.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP, type AddressInfo } from 'node:net';
import type { Payload, PayloadCodec } from '@temporalio/common';

export interface CodecServerOptions {
  codec: PayloadCodec;
  /**
   * Address to listen on. Anything but a loopback address needs a token.
   * @default '127.0.0.1'
   */
  host?: string;
  /**
   * Port; 0 picks a free one.
   * @default 8234
   */
  port?: number;
  /**
   * Origin of the Web UI allowed by CORS.
   * @default 'http://localhost:8233'
   */
  allowOrigin?: string;
  /**
   * Secret required on /decode and /encode, as a path segment or a bearer
   * token: at least 16 characters of A–Z a–z 0–9 . _ ~ - (it travels in a URL).
   * @default undefined (no token: loopback and non-production only)
   */
  token?: string;
  /**
   * Production: a token is required wherever it listens.
   * @default process.env.NODE_ENV === 'production'
   */
  production?: boolean;
  /**
   * Largest request body accepted.
   * @default 4 MiB
   */
  maxBodyBytes?: number;
  /**
   * Serve POST /encode. Off by default: encoding lets whoever reaches the codec
   * server write payloads as if they held the payload keys (a signal, a start).
   * The Web UI needs it only to send signals or start workflows with input.
   * @default false
   */
  allowEncode?: boolean;
}

export type CodecServerConfigReason = 'token_required_non_loopback' | 'token_required_production' | 'token_malformed';

/** The server refuses to start as configured; the message says how to fix it. */
export class CodecServerConfigError extends Error {
  constructor(
    readonly reason: CodecServerConfigReason,
    message: string,
  ) {
    super(message);
    this.name = 'CodecServerConfigError';
  }
}

const TOKEN_SHAPE = /^[A-Za-z0-9._~-]{16,512}$/;
const TOKEN_HINT = 'set OTP_CODEC_TOKEN to a long random secret, e.g. `openssl rand -hex 32`';

/** 127.0.0.0/8, ::1, the IPv4-mapped form of 127/8, or the name localhost. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) !== 6) return false;
  // WHATWG URL writes IPv6 canonically (0:0::1 -> ::1, ::ffff:127.0.0.1 -> ::ffff:7f00:1).
  let canonical: string;
  try {
    canonical = new URL(`http://[${h}]`).hostname;
  } catch {
    return false; // a zone id (fe80::1%eth0) is never loopback
  }
  return canonical === '[::1]' || /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(canonical);
}

function assertStartable(host: string, token: string | undefined, production: boolean): void {
  if (token !== undefined && !TOKEN_SHAPE.test(token)) {
    throw new CodecServerConfigError(
      'token_malformed',
      `codec server token must be 16–512 characters of A-Z a-z 0-9 . _ ~ - (it is used as a URL path segment): ${TOKEN_HINT}`,
    );
  }
  if (token !== undefined) return;
  if (production) {
    throw new CodecServerConfigError('token_required_production', `codec server refuses to start without a token when NODE_ENV=production: ${TOKEN_HINT}`);
  }
  if (!isLoopbackHost(host)) {
    throw new CodecServerConfigError(
      'token_required_non_loopback',
      `codec server refuses to listen on ${host} without a token (only loopback addresses may go without): ${TOKEN_HINT}, or listen on 127.0.0.1`,
    );
  }
}

/** Fixed-length digests, so the comparison takes the same time whatever the input length and content. */
function sameSecret(given: string, wanted: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(wanted).digest();
  return timingSafeEqual(a, b);
}

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

function fromJson(p: JsonPayload): Payload {
  return {
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
    data: p.data === undefined ? undefined : Buffer.from(p.data, 'base64'),
  };
}

function toJson(p: Payload): JsonPayload {
  return {
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')])),
    data: p.data ? Buffer.from(p.data).toString('base64') : undefined,
  };
}

export interface RunningCodecServer {
  /** Base URL, without the token. */
  url: string;
  /** What to give the Web UI as its codec endpoint: url plus the token segment, if any. Secret when a token is set. */
  uiEndpoint: string;
  server: Server;
  close(): Promise<void>;
}

export async function startCodecServer(options: CodecServerOptions): Promise<RunningCodecServer> {
  const {
    codec,
    host = '127.0.0.1',
    port = 8234,
    allowOrigin = 'http://localhost:8233',
    token,
    production = process.env.NODE_ENV === 'production',
    maxBodyBytes = 4 * 1024 * 1024,
    allowEncode = false,
  } = options;
  assertStartable(host, token, production);

  /** Either form is enough: the segment before the operation, or the bearer header. */
  const authorized = (req: IncomingMessage, tokenSegment: string | undefined): boolean => {
    if (token === undefined) return true;
    // Both comparisons always run, so which form was tried does not show in the timing.
    const bySegment = sameSecret(tokenSegment ?? '', token);
    const bearer = /^Bearer +(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1] ?? '';
    const byHeader = sameSecret(bearer, token);
    return bySegment || byHeader; // '' never matches: a token has at least 16 characters
  };

  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    res.setHeader('Access-Control-Allow-Origin', allowOrigin);
    res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
    res.setHeader('Access-Control-Allow-Headers', 'content-type, x-namespace, authorization');
    res.setHeader('Access-Control-Allow-Credentials', 'true');
    res.setHeader('Access-Control-Max-Age', '600');
    res.setHeader('Vary', 'Origin');
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
      res.end(JSON.stringify(body));
    };
    // A preflight carries no credentials by design: answer it, the POST that follows is checked.
    if (req.method === 'OPTIONS') {
      res.writeHead(204);
      res.end();
      return;
    }
    const segments = (req.url ?? '').split('?')[0].split('/').filter(Boolean);
    const operation = segments[segments.length - 1];
    if (req.method !== 'POST' || (operation !== 'decode' && operation !== 'encode')) return send(404, { error: 'use POST /decode or POST /encode' });
    if (operation === 'encode' && !allowEncode)
      return send(403, { error: 'encode is off (OTP_CODEC_ALLOW_ENCODE=true turns it on): it would let any caller write payloads as a key holder' });
    // Without a token, only a loopback Host is served: a page that rebinds its own name to 127.0.0.1 gets nothing.
    if (token === undefined && !isLoopbackHost((req.headers.host ?? '').replace(/:\d+$/, '')))
      return send(403, { error: 'without a codec token only a loopback Host (localhost, 127.0.0.1, [::1]) is served' });
    if (!authorized(req, segments[segments.length - 2])) {
      return send(
        401,
        { error: 'missing or wrong codec token (endpoint http://host:port/<token>, or Authorization: Bearer <token>)' },
        { 'www-authenticate': 'Bearer' },
      );
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > maxBodyBytes) return send(413, { error: `body larger than ${maxBodyBytes} bytes` });
      chunks.push(chunk as Buffer);
    }
    let body: { payloads?: JsonPayload[] };
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { payloads?: JsonPayload[] };
    } catch {
      return send(400, { error: 'body must be JSON: {"payloads": [...]}' });
    }
    if (!Array.isArray(body.payloads)) return send(400, { error: 'body must be JSON: {"payloads": [...]}' });
    try {
      const input = body.payloads.map(fromJson);
      const output = operation === 'decode' ? await codec.decode(input) : await codec.encode(input);
      send(200, { payloads: output.map(toJson) });
    } catch (err) {
      send(400, { error: (err as Error).message });
    }
  };

  const server = createServer((req, res) => {
    handler(req, res).catch((err: Error) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: err.message }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  const shownHost = host === '127.0.0.1' ? 'localhost' : isIP(host) === 6 ? `[${host}]` : host;
  const url = `http://${shownHost}:${actual}`;
  return {
    url,
    uiEndpoint: token === undefined ? url : `${url}/${token}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
