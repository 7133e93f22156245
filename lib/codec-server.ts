/**
 * Codec server for the Temporal Web UI: POST /decode and /encode, so that
 * someone who holds the payload keys can read encrypted histories in the UI.
 * Protocol: https://docs.temporal.io/production-deployment/data-encryption
 * (body and answer: {"payloads": [{"metadata": {k: base64}, "data": base64}]}).
 *
 * With a token configured, requests must carry "Authorization: Bearer <token>"
 * (in the UI: Settings -> Codec Server -> "Pass the user access token", or a
 * proxy that adds it). Without one it is meant for loopback only.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Payload, PayloadCodec } from '@temporalio/common';

export interface CodecServerOptions {
  codec: PayloadCodec;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 8234; 0 picks a free port. */
  port?: number;
  /** Origin of the Web UI allowed by CORS. Default http://localhost:8233. */
  allowOrigin?: string;
  /** Bearer token required on /decode and /encode. Default: none. */
  token?: string;
  /** Largest request body accepted. Default 4 MiB. */
  maxBodyBytes?: number;
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
  url: string;
  server: Server;
  close(): Promise<void>;
}

export async function startCodecServer(options: CodecServerOptions): Promise<RunningCodecServer> {
  const { codec, host = '127.0.0.1', port = 8234, allowOrigin = 'http://localhost:8233', token, maxBodyBytes = 4 * 1024 * 1024 } = options;

  const authorized = (req: IncomingMessage): boolean => {
    if (!token) return true;
    const given = Buffer.from(req.headers.authorization ?? '');
    const wanted = Buffer.from(`Bearer ${token}`);
    return given.length === wanted.length && timingSafeEqual(given, wanted);
  };

  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    res.setHeader('Access-Control-Allow-Origin', allowOrigin);
    res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
    res.setHeader('Access-Control-Allow-Headers', 'content-type, x-namespace, authorization');
    res.setHeader('Access-Control-Allow-Credentials', 'true');
    res.setHeader('Vary', 'Origin');
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'OPTIONS') {
      res.writeHead(204);
      res.end();
      return;
    }
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'POST' || (path !== '/decode' && path !== '/encode')) return send(404, { error: 'use POST /decode or POST /encode' });
    if (!authorized(req)) return send(401, { error: 'missing or wrong bearer token' });
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
      const output = path === '/decode' ? await codec.decode(input) : await codec.encode(input);
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
  return {
    url: `http://${host === '127.0.0.1' ? 'localhost' : host}:${actual}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
