/**
 * One velocity limiter per tenant, fed by update-with-start from the
 * acquireSendQuota activity. Sliding windows, in workflow time: the tenant's
 * sends per minute, and (SMS pumping protection) sends per destination
 * country and per number prefix per hour. Shadow mode reports, blocks nothing.
 */
import { allHandlersFinished, condition, continueAsNew, setHandler, workflowInfo } from '@temporalio/workflow';
import { acquireUpdate, type QuotaRequest, type QuotaResult } from '../../contract';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** Continue-as-new after this many acquisitions, to keep history short. */
const UPDATES_PER_RUN = 1000;
/** With no traffic for this long every window is empty: finish. */
const IDLE_MS = HOUR;

export interface VelocityState {
  /** key -> send instants (epoch ms), oldest first. Keys: "tenant", "c:FR", "p:+336123". */
  windows: Record<string, number[]>;
}

function prune(times: number[], now: number, span: number): number[] {
  let i = 0;
  while (i < times.length && times[i] <= now - span) i++;
  return i ? times.slice(i) : times;
}

/** Pure decision, exported for unit tests. Mutates `state` only when the send is allowed. */
export function decide(state: VelocityState, req: QuotaRequest, now: number): QuotaResult {
  const w = state.windows;
  const look = (key: string, span: number) => (w[key] = prune(w[key] ?? [], now, span));
  const tenant = look('tenant', MINUTE);
  if (req.tenantSendsPerMinute > 0 && tenant.length >= req.tenantSendsPerMinute) {
    return {
      allowed: false,
      status: 'rate_limited',
      reason: 'tenant_rate',
      retryAfterSeconds: Math.max(1, Math.ceil((tenant[0] + MINUTE - now) / 1000)),
      shadowFlags: [],
    };
  }
  const checks: [string, number | null, string][] = [
    [`c:${req.country}`, req.perCountryPerHour, `velocity_country:${req.country}`],
    [`p:${req.prefix}`, req.perPrefixPerHour, `velocity_prefix:${req.prefix}`],
  ];
  const exceeded: string[] = [];
  for (const [key, limit, reason] of checks) {
    if (limit === null) continue;
    if (look(key, HOUR).length >= limit) exceeded.push(reason);
  }
  if (exceeded.length && !req.shadow) return { allowed: false, status: 'blocked', reason: exceeded[0], shadowFlags: [] };
  tenant.push(now);
  for (const [key, limit] of checks) if (limit !== null) w[key].push(now);
  return { allowed: true, shadowFlags: exceeded };
}

export async function otpVelocity(carried?: VelocityState): Promise<void> {
  const state: VelocityState = carried ?? { windows: {} };
  let handled = 0;
  let lastAt = Date.now();
  setHandler(acquireUpdate, (req) => {
    handled++;
    lastAt = Date.now();
    return decide(state, req, lastAt);
  });
  for (;;) {
    const busy = await condition(() => handled >= UPDATES_PER_RUN || workflowInfo().continueAsNewSuggested, Math.max(1, lastAt + IDLE_MS - Date.now()));
    if (busy) break;
    if (Date.now() >= lastAt + IDLE_MS) {
      await condition(allHandlersFinished);
      return;
    }
  }
  await condition(allHandlersFinished);
  for (const key of Object.keys(state.windows)) {
    state.windows[key] = prune(state.windows[key], Date.now(), key === 'tenant' ? MINUTE : HOUR);
    if (!state.windows[key].length) delete state.windows[key];
  }
  await continueAsNew<typeof otpVelocity>(state);
}
