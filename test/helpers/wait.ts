/**
 * Waiting on a condition instead of a fixed sleep: the one poller the
 * integration tests share, and the one fixed wait, for when time passing is the point.
 */

/**
 * Calls `fn` every `everyMs` until `ok` accepts its value, and returns that value. Past
 * `timeoutMs` it throws, naming `what` and the last value seen.
 */
export async function waitFor<T>(fn: () => T | Promise<T>, ok: (v: T) => boolean, what: string, timeoutMs = 20_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not met in ${timeoutMs} ms; last ${JSON.stringify(v) ?? String(v)}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** waitFor a non-empty list (mails, POSTs, calls): resolves with the list. */
export async function waitForAny<T>(fn: () => T[] | Promise<T[]>, what: string, timeoutMs = 20_000): Promise<T[]> {
  return waitFor(fn, (list) => list.length > 0, what, timeoutMs);
}

/** waitFor a truthy value (polled every 10 ms: SMPP tests watch fast events). */
export async function until<T>(fn: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 5000): Promise<T> {
  return (await waitFor(fn, (v) => !!v, what, timeoutMs, 10)) as T;
}

/**
 * A fixed wait, where time passing is the point: a negative check ("nothing more happens in
 * `ms`") or the rule under test (past a cooldown, a TTL, a fault window). `why` says which, for
 * the reader; anything the test can see happen is waited for with waitFor instead.
 */
export async function settleFor(ms: number, why: string): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}
