/** The ratios of a run, in the JSON and both reports. */
import { workerProcess } from './report';
import type { BenchResult, TargetName, TrialResult } from './types';

/** "a vs b" = a / b: the product over each baseline, and the login floor over the send floor. */
export function ratios(trials: TrialResult[], search: BenchResult['search']): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  const of = (name: TargetName) => trials.find((t) => t.target === name);
  const div = (a: number | null | undefined, b: number | null | undefined) =>
    a === null || a === undefined || b === null || b === undefined || b === 0 ? null : Math.round((a / b) * 100) / 100;
  const pairs: [TargetName, TargetName][] = [
    ['product', 'least-durable'],
    ['product', 'least-durable-login'],
    ['product', 'bare-smpp'],
    ['least-durable-login', 'least-durable'],
  ];
  for (const [name, base] of pairs) {
    const a = of(name);
    const b = of(base);
    if (!a || !b) continue;
    // The product's keys keep their old names ("… vs base"), so earlier JSON files read the same.
    const key = (figure: string) => (name === 'product' ? `${figure} vs ${base}` : `${name} ${figure} vs ${base}`);
    out[key('send→submit p50')] = div(a.sendToSubmit.p50, b.sendToSubmit.p50);
    out[key('send→submit p99')] = div(a.sendToSubmit.p99, b.sendToSubmit.p99);
    out[key('send call p50')] = div(a.sendCall.p50, b.sendCall.p50);
    out[key('send call p99')] = div(a.sendCall.p99, b.sendCall.p99);
    if (base === 'bare-smpp') continue;
    if (a.verify && b.verify) {
      out[key('verify p50')] = div(a.verify.p50, b.verify.p50);
      out[key('verify p95')] = div(a.verify.p95, b.verify.p95);
      out[key('verify p99')] = div(a.verify.p99, b.verify.p99);
    }
    if (a.receipt && b.receipt) {
      out[key('receipt p50')] = div(a.receipt.p50, b.receipt.p50);
      out[key('receipt p99')] = div(a.receipt.p99, b.receipt.p99);
    }
    // Same arrival schedule in both trials, so the ratio of means is the ratio of CPU per send.
    out[key('worker CPU mean')] = div(a.resources[workerProcess(name)]?.cpuMeanPct, b.resources[workerProcess(base)]?.cpuMeanPct);
    out[key('server CPU mean')] = div(a.resources.server?.cpuMeanPct, b.resources.server?.cpuMeanPct);
    out[key('history events per accepted send')] = div(a.history?.eventsPerSend, b.history?.eventsPerSend);
  }
  if (search?.leastDurable) out['max rate vs least-durable'] = div(search.product.rate, search.leastDurable.rate);
  if (search?.leastDurableLogin) out['max rate vs least-durable-login'] = div(search.product.rate, search.leastDurableLogin.rate);
  if (search?.leastDurableLogin && search.leastDurable)
    out['least-durable-login max rate vs least-durable'] = div(search.leastDurableLogin.rate, search.leastDurable.rate);
  return out;
}
