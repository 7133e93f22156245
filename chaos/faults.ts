/**
 * The faults a chaos run injects, and when: each returns its window
 * [start, end] (ms epoch). Worker crashes pick their moment by watching the
 * simulator's feeds (a submit_sm in flight, a receipt awaited, a retry
 * backoff); SMSC faults go through the simulator's POST /faults.
 */
import type { BenchStack } from '../bench/lib/stack';
import type { SimFeed } from '../bench/lib/sim-feed';
import { sleep } from '../bench/lib/stats';
import type { OpenLoad } from './load';
import type { SimControl } from './sim-control';

export const FAULT_KINDS = [
  'worker-kill-submit',
  'worker-kill-receipt',
  'worker-kill-backoff',
  'worker-restart',
  'server-restart',
  'smsc-drop',
  'smsc-unbind',
  'smsc-nack',
  'smsc-throttle',
  'smsc-slow',
  'receipt-delay',
  'unknown-receipts',
  'malformed-pdus',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export const FAULT_DESCRIPTIONS: Record<FaultKind, string> = {
  'worker-kill-submit': 'SIGKILL of the worker after a submit_sm reached the SMSC, before its submit_sm_resp (held 1 s); restarted at once',
  'worker-kill-receipt': 'SIGKILL of the worker while a session waits for its receipt; restarted at once',
  'worker-kill-backoff': 'SIGKILL of the worker during a retry backoff (after an UNDELIV receipt, before the +20 s retry); restarted at once',
  'worker-restart': 'graceful worker restart: SIGTERM, wait for exit, start',
  'server-restart': 'Temporal dev server stopped (SIGTERM) and started again on its SQLite file',
  'smsc-drop': 'SMSC holds every submit_sm_resp for 1.5 s (the messages are delivered), then drops every TCP connection',
  'smsc-unbind': 'SMSC unbinds every ESME',
  'smsc-nack': 'SMSC answers every submit_sm with generic_nack for 3 s',
  'smsc-throttle': 'SMSC answers every submit_sm ESME_RTHROTTLED for 10 s',
  'smsc-slow': 'SMSC answers submit_sm 1.5 s late for 10 s',
  'receipt-delay': 'receipts of messages accepted within 10 s come 2 min late',
  'unknown-receipts': '20 receipts for message ids nobody submitted',
  'malformed-pdus': 'the next 3 receipts are malformed (a TLV longer than its PDU); the SMSC re-sends a receipt unanswered after 2 s',
};

export interface FaultWindow {
  kind: FaultKind;
  start: number;
  end: number;
  /** What the moment was, e.g. how many submits were in flight at a crash. */
  note: string;
}

export interface FaultContext {
  stack: BenchStack;
  sim: SimControl;
  feed: SimFeed;
  load: OpenLoad;
  log: (msg: string) => void;
}

/** Polls `fn` every 25 ms until it gives a value, at most `ms`. */
async function watch<T>(fn: () => T | undefined, ms: number): Promise<T | undefined> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined || Date.now() > end) return v;
    await sleep(25);
  }
}

/** Submits accepted by the SMSC whose receipt has not been sent yet. */
function awaitingReceipt(feed: SimFeed): number {
  let n = 0;
  for (const [id] of feed.submitsById) if (!feed.receiptsById.has(id)) n++;
  return n;
}

/** Sessions whose send has not answered although the SMSC has their submit_sm: in flight between submit and record. */
function submitsInFlight(ctx: FaultContext): number {
  return ctx.load.records.filter((r) => r.endedAt === undefined && ctx.feed.submitsByPhone.has(r.phone)).length;
}

async function crashAndRestart(ctx: FaultContext, note: string, whileDown?: () => Promise<void>): Promise<FaultWindow> {
  const start = Date.now();
  const inFlight = submitsInFlight(ctx);
  await ctx.stack.stopWorker('SIGKILL');
  await whileDown?.();
  await ctx.stack.startWorker();
  return { kind: 'worker-kill-submit', start, end: Date.now(), note: `${note}; ${inFlight} send(s) had a submit_sm at the SMSC and no answer yet` };
}

async function smscFault(ctx: FaultContext, kind: FaultKind, request: Parameters<SimControl['fault']>[0], note: string): Promise<FaultWindow> {
  const bound = await ctx.sim.sessions();
  const start = Date.now();
  await ctx.sim.fault(request);
  await sleep(request.ms ?? 0);
  // Faults that take the binds down end when the worker has bound as many sessions again.
  if (kind === 'smsc-drop' || kind === 'smsc-unbind') {
    await sleep(300);
    await waitBound(ctx, bound);
  }
  return { kind, start, end: kind === 'unknown-receipts' ? start : Date.now(), note };
}

async function waitBound(ctx: FaultContext, sessions: number): Promise<void> {
  const end = Date.now() + 30_000;
  while (Date.now() < end && (await ctx.sim.sessions().catch(() => 0)) < Math.max(1, sessions)) await sleep(100);
}

/** Injects one fault; resolves with its window once the fault is over (the worker back, the SMSC answering). */
export async function inject(kind: FaultKind, ctx: FaultContext): Promise<FaultWindow> {
  switch (kind) {
    case 'worker-kill-submit': {
      // The next sends' numbers answer 1 s late, so a crash lands between submit_sm and its response.
      const phones = ctx.load.upcoming(3, 1);
      for (const p of phones) await ctx.sim.behaviour(p, 'slow');
      const hit = await watch(() => phones.find((p) => ctx.feed.submitsByPhone.has(p)), 15_000);
      // Numbers not submitted before the crash go back to normal before the worker is back.
      const restore = async () => {
        for (const p of phones) if (!ctx.feed.submitsByPhone.has(p)) await ctx.sim.behaviour(p, 'deliver');
      };
      const w = await crashAndRestart(
        ctx,
        hit ? 'crash 0–50 ms after a submit_sm reached the SMSC, its response held 1 s' : 'no scripted submit seen within 15 s: crash at a random point',
        restore,
      );
      return { ...w, kind };
    }
    case 'worker-kill-receipt': {
      const waiting = await watch(() => (awaitingReceipt(ctx.feed) > 0 ? awaitingReceipt(ctx.feed) : undefined), 10_000);
      const w = await crashAndRestart(ctx, `${waiting ?? 0} message(s) awaiting their receipt`);
      return { ...w, kind };
    }
    case 'worker-kill-backoff': {
      // One number's first SMS is undeliverable; its session then waits for the +20 s retry.
      const [phone] = ctx.load.upcoming(1, 1);
      await ctx.sim.behaviour(phone, 'undeliverable');
      const failed = await watch(() => ctx.feed.receiptsByPhone.get(phone)?.[0], 20_000);
      await ctx.sim.behaviour(phone, 'deliver');
      await sleep(2000);
      const w = await crashAndRestart(
        ctx,
        failed ? 'crash 2 s after an UNDELIV receipt, inside the +20 s retry backoff' : 'no UNDELIV receipt seen within 20 s: crash at a random point',
      );
      return { ...w, kind };
    }
    case 'worker-restart': {
      const start = Date.now();
      await ctx.stack.stopWorker('SIGTERM');
      await ctx.stack.startWorker();
      return { kind, start, end: Date.now(), note: 'SIGTERM, exit, start' };
    }
    case 'server-restart': {
      const start = Date.now();
      await ctx.stack.restartServer();
      return { kind, start, end: Date.now(), note: 'dev server stopped and started on the same SQLite file and port' };
    }
    case 'smsc-drop':
      return smscFault(ctx, kind, { kind: 'drop', ms: 1500 }, 'answers held 1.5 s, then every connection dropped; ends when bound again');
    case 'smsc-unbind':
      return smscFault(ctx, kind, { kind: 'unbind' }, 'ends when bound again');
    case 'smsc-nack':
      return smscFault(ctx, kind, { kind: 'nack', ms: 3000 }, 'generic_nack for 3 s');
    case 'smsc-throttle':
      return smscFault(ctx, kind, { kind: 'throttle', ms: 10_000 }, 'ESME_RTHROTTLED for 10 s');
    case 'smsc-slow':
      return smscFault(ctx, kind, { kind: 'slow', ms: 10_000, delayMs: 1500 }, 'submit_sm_resp 1.5 s late for 10 s');
    case 'receipt-delay':
      return smscFault(ctx, kind, { kind: 'receipt-delay', ms: 10_000, delayMs: 120_000 }, 'receipts of 10 s of messages 2 min late');
    case 'unknown-receipts':
      return smscFault(ctx, kind, { kind: 'unknown-receipts', count: 20 }, '20 receipts for unknown ids');
    case 'malformed-pdus':
      return smscFault(ctx, kind, { kind: 'malformed-receipts', count: 3, ms: 5000 }, '3 malformed receipts within 5 s');
  }
}

/** Parses "--faults a,b,c" (or "all"). */
export function parseFaults(list: string): FaultKind[] {
  if (list === 'all') return [...FAULT_KINDS];
  const out = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = out.filter((f) => !(FAULT_KINDS as readonly string[]).includes(f));
  if (bad.length) throw new Error(`unknown fault(s) ${bad.join(', ')}; known: ${FAULT_KINDS.join(', ')}`);
  return out as FaultKind[];
}
