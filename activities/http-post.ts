/**
 * Signed POSTs to caller-chosen URLs (delivery callbacks, the webhook channel),
 * restricted by the outbound policy. The name is resolved inside the
 * connection itself and every address is checked there, so the address
 * connected to is the address checked: a DNS answer that changes between a
 * check and the connect (rebinding) cannot reach a blocked range.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { ApplicationFailure } from '@temporalio/activity';
import { DestinationError, checkAddress, checkUrl, type OutboundPolicy } from '../policy/destination';
import { WEBHOOK_EVENT_ID_HEADER, WEBHOOK_SIGNATURE_HEADER, WEBHOOK_TIMESTAMP_HEADER } from '../contract';
import { webhookSignature } from '../contract/keys';

/** Whole-request budget: connect, send and the response status line. */
const TIMEOUT_MS = 5000;

/** A lookup that hands the socket only addresses the policy accepts; none left is a DestinationError. */
export function guardedLookup(policy: OutboundPolicy): LookupFunction {
  return (hostname: string, options: LookupOptions, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, []);
      let refusal: Error | undefined;
      const allowed: LookupAddress[] = [];
      for (const a of addresses) {
        try {
          checkAddress(a.address, policy, hostname);
          allowed.push(a);
        } catch (e) {
          refusal ??= e as Error;
        }
      }
      if (allowed.length === 0) {
        return callback(refusal ?? new DestinationError('no_address', `${hostname} resolved to no address`), []);
      }
      if (options.all) return callback(null, allowed);
      callback(null, allowed[0].address, allowed[0].family);
    });
  };
}

/** A destination that no retry can fix: Temporal must not retry it. */
function invalidDestination(what: string, err: DestinationError): ApplicationFailure {
  return ApplicationFailure.create({ type: 'InvalidDestination', message: `${what} refused: ${err.message}`, nonRetryable: true, cause: err });
}

/**
 * A signed POST: X-OTP-Timestamp and X-OTP-Signature = sha256=hex(HMAC(key, timestamp + "." + body)).
 * Resolves to the 2xx status. Redirects are not followed (a 3xx fails). Errors
 * name only the host; a refused destination throws a non-retryable
 * ApplicationFailure of type InvalidDestination.
 */
/** A POST that got no 2xx: `status` is the receiver's answer, absent when none came (network error, timeout). */
export class PostFailed extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'PostFailed';
  }
}

/** Worth another try: no answer, a server error, or the receiver asking for time (408, 429); never any other 4xx. */
export function postRetryable(err: unknown): boolean {
  return err instanceof PostFailed && (err.status === undefined || err.status >= 500 || err.status === 408 || err.status === 429);
}

export async function signedPost(key: string, url: string, body: string, eventId: string, what: string, policy: OutboundPolicy): Promise<number> {
  let target: URL;
  try {
    target = checkUrl(url, policy);
  } catch (err) {
    if (err instanceof DestinationError) throw invalidDestination(what, err);
    throw err;
  }
  const timestamp = String(Math.floor(Date.now() / 1000));
  const signature = webhookSignature(key, timestamp, body);
  const signal = AbortSignal.timeout(TIMEOUT_MS);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  let res: IncomingMessage;
  try {
    res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = send(target, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          [WEBHOOK_EVENT_ID_HEADER]: eventId,
          [WEBHOOK_TIMESTAMP_HEADER]: timestamp,
          [WEBHOOK_SIGNATURE_HEADER]: signature,
        },
        lookup: guardedLookup(policy),
        // A fresh connection each time: the shared pool keys sockets by host and port, not by policy.
        agent: false,
        signal,
      });
      req.once('response', resolve);
      req.once('error', reject);
      req.end(body);
    });
  } catch (err) {
    if (err instanceof DestinationError) throw invalidDestination(what, err);
    // The code, not the message: Node's messages carry the resolved address.
    const why = signal.aborted ? `no answer within ${TIMEOUT_MS / 1000} s` : ((err as NodeJS.ErrnoException).code ?? (err as Error).message);
    throw new PostFailed(`${what} to ${target.host} failed: ${why}`);
  }
  // Only the status matters; drain the body so the socket closes (the timeout still bounds a slow one).
  res.resume();
  const status = res.statusCode ?? 0;
  if (status < 200 || status >= 300) throw new PostFailed(`${what} to ${target.host} answered HTTP ${status}`, status);
  return status;
}
