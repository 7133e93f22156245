/**
 * Lets a Temporal client connection close without stranding a call in its retry backoff.
 *
 * The client's retry interceptor waits out a backoff on a timer and then starts the next attempt
 * on the channel. If the connection closed meanwhile, that attempt throws "Channel has been shut
 * down" from the timer: an uncaught exception in whatever process owns the connection. A worker
 * shutting down while an activity's call retries (say on RESOURCE_EXHAUSTED, 1 s backoff) hits it.
 * So, before closing: stop starting new retries, then wait for the calls in flight to end.
 */
import { InterceptingCall, ListenerBuilder, RequesterBuilder, type Interceptor } from '@grpc/grpc-js';
import { defaultGrpcRetryOptions, makeGrpcRetryInterceptor } from '@temporalio/client';

/**
 * How long `drain()` waits for calls in flight, at most: above the client's longest backoff (5 s)
 * plus a call.
 * @default 10000
 */
export const DRAIN_TIMEOUT_MS = 10_000;

export interface DrainingCalls {
  /** Pass as `interceptors` to `Connection.connect`: the client's default retries, plus the count. */
  interceptors: Interceptor[];
  /** Calls started and not yet ended (retries included). */
  readonly inFlight: number;
  /** Stops new retries and resolves once no call is in flight, or after `timeoutMs`. */
  drain(timeoutMs?: number): Promise<void>;
}

export function drainingCalls(): DrainingCalls {
  let inFlight = 0;
  let draining = false;
  let wake: (() => void) | undefined;
  const defaults = defaultGrpcRetryOptions();
  const retry = makeGrpcRetryInterceptor({
    delayFunction: defaults.delayFunction,
    retryableDecider: (attempt, status) => !draining && defaults.retryableDecider(attempt, status),
  });
  // Outermost, so one count spans a call and all of its retries.
  const count: Interceptor = (options, nextCall) =>
    new InterceptingCall(
      nextCall(options),
      new RequesterBuilder()
        .withStart((metadata, _listener, next) => {
          inFlight++;
          let ended = false;
          next(
            metadata,
            new ListenerBuilder()
              .withOnReceiveStatus((status, forward) => {
                if (!ended) {
                  ended = true;
                  inFlight--;
                  if (inFlight === 0) wake?.();
                }
                forward(status);
              })
              .build(),
          );
        })
        .build(),
    );
  return {
    interceptors: [count, retry],
    get inFlight() {
      return inFlight;
    },
    async drain(timeoutMs = DRAIN_TIMEOUT_MS) {
      draining = true;
      if (inFlight === 0) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    },
  };
}
