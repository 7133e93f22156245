/**
 * A real HTTP server on a loopback port that records every request and
 * answers with the status a test picks: what plays a callback, webhook or MO
 * receiver in the integration tests.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  /** Path and query, e.g. "/hook". */
  path: string;
  headers: IncomingHttpHeaders;
  /** The body as text, as it came. */
  raw: string;
  /** The status the receiver answered. */
  answered: number;
}

export interface HttpReceiver {
  /** http://127.0.0.1:<port> (append a path). */
  base: string;
  port: number;
  requests: ReceivedRequest[];
  close: () => Promise<void>;
}

/** Starts a receiver; `answer` picks each request's status. @default every request answered 204 */
export async function startHttpReceiver(answer: (r: Omit<ReceivedRequest, 'answered'>) => number = () => 204, port = 0): Promise<HttpReceiver> {
  const requests: ReceivedRequest[] = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString('utf8')));
    req.on('end', () => {
      const r = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, raw };
      const answered = answer(r);
      requests.push({ ...r, answered });
      res.writeHead(answered).end();
    });
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  const bound = (server.address() as AddressInfo).port;
  return {
    base: `http://127.0.0.1:${bound}`,
    port: bound,
    requests,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
