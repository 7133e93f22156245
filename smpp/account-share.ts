/**
 * A carrier limits binds and TPS per account (system_id), not per process.
 * When N worker processes bind the same accounts (OTP_WORKERS = N), each takes
 * its share of every route: floor(binds / N) binds of each kind, at least 1, and
 * tps / N. So N workers together never exceed the route's numbers, unless
 * N > binds, when each still needs one bind (the worker warns about it).
 */
import type { RouteConfig } from './smsc';

/** submit_sm per second for a route without `tps`. @default 50 */
export const DEFAULT_ROUTE_TPS = 50;

/** Worker processes that bind the same SMSC accounts. @default 1 */
export const DEFAULT_OTP_WORKERS = 1;

/** The route as one of `workers` processes opens it; `binds` and `tps` in the input are the account's. */
export function workerShare(route: RouteConfig, workers: number = DEFAULT_OTP_WORKERS): RouteConfig {
  if (!Number.isInteger(workers) || workers < 1) throw new Error(`workers must be a positive integer (got ${workers})`);
  if (workers === 1) return route;
  const binds = route.binds ?? 1;
  const tps = route.tps ?? DEFAULT_ROUTE_TPS;
  return { ...route, binds: Math.max(1, Math.floor(binds / workers)), tps: tps > 0 ? tps / workers : 0 };
}

/** Routes whose bind limit the workers exceed together (each worker holds at least one bind of each kind). */
export function oversubscribedRoutes(routes: RouteConfig[], workers: number): string[] {
  return routes.filter((r) => workers > (r.binds ?? 1)).map((r) => r.name);
}
