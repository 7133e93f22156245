/** The human tables on stdout and the markdown block for docs/benchmarks.md. */
import type { Summary } from './stats';
import type { BenchResult, ResourceFigures, SearchResult, TargetName, TrialResult } from './types';

/** How every table and the chart name a target, in the order they list them. */
export const TARGET_LABELS: Record<TargetName, string> = {
  product: 'ours (product)',
  'least-durable': 'least-durable Temporal send',
  'least-durable-login': 'least-durable Temporal login',
  'bare-smpp': 'bare SMPP client',
};
export const TARGET_ORDER = Object.keys(TARGET_LABELS) as TargetName[];

/** The process that does a target's work: the product worker, the baselines' worker, or the generator holding the bare SMPP client. */
export function workerProcess(target: TargetName): string {
  return target === 'product' ? 'worker' : target === 'bare-smpp' ? 'generator' : 'baseline-worker';
}

/** Mean CPU of a process per send of the trial, in ms of one core. */
export function cpuMsPerSend(t: TrialResult, proc: string): number | null {
  const r = t.resources[proc];
  return r && t.offeredRate > 0 ? Math.round((r.cpuMeanPct * 10 * 10) / t.offeredRate) / 10 : null;
}

/** The rate searches that ran, product first. */
export function searches(r: BenchResult): SearchResult[] {
  return r.search ? [r.search.product, r.search.leastDurable, r.search.leastDurableLogin].filter((s): s is SearchResult => s !== undefined) : [];
}

const ms = (v: number | null | undefined) => (v === null || v === undefined ? '—' : v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(1)} ms`);
const num = (v: number | null | undefined, digits = 1) => (v === null || v === undefined ? '—' : v.toFixed(digits));
const ratio = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? '—' : `${v.toFixed(2)}×`);
const sum = (m: Record<string, number>) => Object.values(m).reduce((a, b) => a + b, 0);
const kv = (m: Record<string, number>) =>
  Object.keys(m).length
    ? Object.entries(m)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')
    : '0';
const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const lpad = (s: string, n: number) => (s.length >= n ? s : ' '.repeat(n - s.length) + s);

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? pad(c, widths[i]) : lpad(c, widths[i]))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** A percentile that falls on sends that never got there reads ∞. */
const pv = (s: Summary, v: number | null) => (v === null && s.missing > 0 ? '∞' : ms(v));
const pcts = (s: Summary | undefined) => (s ? [pv(s, s.p50), pv(s, s.p95), pv(s, s.p99), pv(s, s.max)] : ['—', '—', '—', '—']);
const missing = (s: Summary | undefined) => (s && s.missing ? `, ${s.missing} not recorded when queried` : '');

/** Mean CPU of processes outside the stack (machine minus ours), % of one core: other load on a shared machine. */
export function otherCpu(t: TrialResult): number | null {
  const machine = t.resources.machine;
  if (!machine) return null;
  const ours = Object.entries(t.resources)
    .filter(([k]) => k !== 'machine')
    .reduce((a, [, r]) => a + r.cpuMeanPct, 0);
  return Math.max(0, Math.round((machine.cpuMeanPct - ours) * 10) / 10);
}

function trialRows(trials: TrialResult[]): string {
  return table(
    [
      'trial',
      'offered/s',
      'achieved/s',
      'submit p50',
      'p95',
      'p99',
      'max',
      'call p50',
      'p95',
      'p99',
      'max',
      'late p99',
      'errors',
      'refused',
      'dups',
      'lost',
      'other CPU %',
    ],
    trials.map((t) => [
      t.label,
      num(t.offeredRate),
      num(t.achievedRate),
      ...pcts(t.sendToSubmit),
      ...pcts(t.sendCall),
      ms(t.lateness.p99),
      String(sum(t.errors)),
      String(sum(t.refusals)),
      String(t.duplicatesAtEnd ?? t.duplicates),
      String(t.sessionsLost),
      num(otherCpu(t), 0),
    ]),
  );
}

function resourceRows(trials: TrialResult[]): string {
  const rows: string[][] = [];
  for (const t of trials) {
    for (const [proc, r] of Object.entries(t.resources))
      rows.push([t.label, proc, num(r.cpuMeanPct), num(r.cpuPeakPct), num(r.rssMeanMB, 0), num(r.rssPeakMB, 0)]);
  }
  return table(['trial', 'process', 'CPU mean %', 'CPU peak %', 'RSS mean MB', 'RSS peak MB'], rows);
}

export function humanReport(r: BenchResult): string {
  const out: string[] = [];
  const m = r.machine;
  out.push(
    `Machine: ${m.nproc} CPU (${m.cpuModel}), ${m.memoryGB} GB RAM, load ${m.loadAverage.map((l) => l.toFixed(2)).join(' ')} at start; Node ${m.node}; ${m.temporal}; ${m.os}`,
  );
  out.push(
    `Server: ${r.config.server}; task queues ${r.config.taskQueue} / ${r.config.baselineTaskQueue}; numbers ${r.config.numbers}; SMSC TPS ${r.config.smscTps || 'unlimited'}; receipt delay ${r.config.receiptDelayMs} ms`,
  );
  out.push('');
  out.push(
    'Latency: submit = send call -> submit_sm at the SMSC; call = send call round trip; late = generator behind its schedule; other CPU = processes outside the stack.',
  );
  out.push(trialRows(r.trials));
  for (const t of r.trials) {
    const extra: string[] = [];
    if (t.receipt)
      extra.push(
        `receipt SMSC -> session p50 ${pv(t.receipt, t.receipt.p50)} p95 ${pv(t.receipt, t.receipt.p95)} p99 ${pv(t.receipt, t.receipt.p99)} max ${pv(t.receipt, t.receipt.max)} (n=${t.receipt.n}${missing(t.receipt)})`,
      );
    if (t.verify) extra.push(`verify call p50 ${ms(t.verify.p50)} p95 ${ms(t.verify.p95)} p99 ${ms(t.verify.p99)} max ${ms(t.verify.max)} (n=${t.verify.n})`);
    extra.push(`CPU per send: ${workerProcess(t.target)} ${msOfCore(cpuMsPerSend(t, workerProcess(t.target)))}, server ${msOfCore(cpuMsPerSend(t, 'server'))}`);
    if (t.history)
      extra.push(
        `history ${num(t.history.eventsPerSession)} events/session, ${num(t.history.eventsPerSend)} per accepted send (${t.history.totalEvents} events, ${t.history.sessions} sessions, ${t.history.sends} sends; ${Object.entries(
          t.history.workflows,
        )
          .map(([k, v]) => `${k} ${v.count}×, ${v.events} ev`)
          .join('; ')})`,
      );
    extra.push(`statuses ${kv(t.statuses)}; refusals ${kv(t.refusals)}; errors ${kv(t.errors)}`);
    if (Object.keys(t.errorSamples).length)
      extra.push(
        `error samples: ${Object.entries(t.errorSamples)
          .map(([k, v]) => `${k}: ${v}`)
          .join(' | ')}`,
      );
    out.push(`  ${t.label}: ${extra.join('\n    ')}`);
  }
  out.push('');
  out.push(resourceRows(r.trials));
  if (r.search) {
    out.push('');
    for (const s of searches(r)) {
      out.push(
        `Rate search (${s.target}): highest passing rate ${num(s.rate)}/s${s.failedAt !== null ? `, failed at ${num(s.failedAt)}/s` : ''} (p99 send->submit < ${s.thresholdMs} ms, 0 errors, 0 duplicates)`,
      );
      out.push(
        table(
          ['rate/s', 'verdict', 'submit p50', 'p99', 'call p99', 'late p99', 'errors', 'dups', 'worker CPU', 'server CPU', 'other CPU', 'why'],
          s.trials.map((t) => [
            num(t.offeredRate),
            t.pass ? 'pass' : 'FAIL',
            pv(t.sendToSubmit, t.sendToSubmit.p50),
            pv(t.sendToSubmit, t.sendToSubmit.p99),
            ms(t.sendCall.p99),
            ms(t.lateness.p99),
            String(sum(t.errors)),
            String(t.duplicates),
            cpu(t.resources[workerProcess(s.target)]),
            cpu(t.resources.server),
            `${num(otherCpu(t), 0)}%`,
            (t.failReasons ?? []).join('; '),
          ]),
        ),
      );
    }
  }
  if (r.overload) {
    const o = r.overload;
    const t = o.trial;
    out.push('');
    out.push(
      `Overload (${o.target}): ${num(o.burst.rate)}/s for ${o.burst.seconds} s (2× ${num(o.foundRate)}/s), then ${num(o.after.rate)}/s for ${o.after.seconds} s`,
    );
    out.push(
      `  not sent nor refused within 2 s: ${t.unansweredWithin2s}; never answered: ${t.neverAnswered}; duplicates: ${t.duplicatesAtEnd ?? t.duplicates}; sessions lost: ${t.sessionsLost} (answered sent without SMS: ${t.sentWithoutSms}); refusals ${kv(t.refusals)}; errors ${kv(t.errors)}`,
    );
    out.push(`  p99 back under ${r.config.thresholdMs} ms ${o.recoverySeconds === null ? 'never (within the run)' : `${o.recoverySeconds} s after the burst`}`);
    out.push(`  p99 per 1-s window (ms): ${(t.windows ?? []).map((w) => (w.p99 === null ? '∞' : Math.round(w.p99))).join(' ')}`);
  }
  if (Object.keys(r.ratios).length) {
    out.push('');
    out.push('Ratios ("a vs b" = a / b; > 1 means a is slower or uses more; a is ours unless named):');
    const width = Math.max(...Object.keys(r.ratios).map((k) => k.length));
    for (const [k, v] of Object.entries(r.ratios)) out.push(`  ${pad(k, width)} ${ratio(v)}`);
  }
  if (r.notes.length) {
    out.push('');
    for (const n of r.notes) out.push(`Note: ${n}`);
  }
  return out.join('\n');
}

const cpu = (r: ResourceFigures | undefined) => (r ? `${num(r.cpuMeanPct, 0)}% (peak ${num(r.cpuPeakPct, 0)}%)` : '—');
const rss = (r: ResourceFigures | undefined) => (r ? `${num(r.rssPeakMB, 0)} MB` : '—');
const msOfCore = (v: number | null) => (v === null ? '—' : `${v.toFixed(1)} ms`);

/** A markdown section to paste into docs/benchmarks.md. */
export function markdownReport(r: BenchResult): string {
  const m = r.machine;
  const present = TARGET_ORDER.map((name) => [r.trials.find((t) => t.target === name), TARGET_LABELS[name]] as const).filter(([c]) => c !== undefined);
  const lines: string[] = [];
  lines.push(`Run ${r.startedAt.slice(0, 16).replace('T', ' ')} UTC: \`${r.command}\``);
  lines.push('');
  lines.push(
    `Machine: ${m.nproc} CPU (${m.cpuModel}), ${m.memoryGB} GB RAM, ${m.os}, Node ${m.node}, ${m.temporal}. Server: ${r.config.server}.${r.config.workerMalloc ? ` Workers' malloc: ${r.config.workerMalloc}.` : ''} Every process (server, worker, baseline worker, simulator, load generator) shares these cores.`,
  );
  lines.push('');
  lines.push(`Main trial: ${r.config.rate}/s for ${r.config.durationS} s, ${r.config.numbers} numbers, same arrival schedule for each column.`);
  lines.push('');
  lines.push(`| figure | ${present.map(([, n]) => n).join(' | ')} |`);
  lines.push(`|---|${present.map(() => '---:').join('|')}|`);
  const row = (label: string, f: (t: TrialResult) => string) => lines.push(`| ${label} | ${present.map(([t]) => f(t!)).join(' | ')} |`);
  row('offered / achieved rate (/s)', (t) => `${num(t.offeredRate)} / ${num(t.achievedRate)}`);
  row(
    'send → submit_sm p50 / p95 / p99 / max',
    (t) => pcts(t.sendToSubmit).join(' / ') + (t.sendToSubmit.missing ? ` (${t.sendToSubmit.missing} of ${t.sendToSubmit.n} no SMS)` : ''),
  );
  row('send call p50 / p95 / p99 / max', (t) => `${ms(t.sendCall.p50)} / ${ms(t.sendCall.p95)} / ${ms(t.sendCall.p99)} / ${ms(t.sendCall.max)}`);
  row('receipt SMSC → session p50 / p99', (t) =>
    t.receipt
      ? `${pv(t.receipt, t.receipt.p50)} / ${pv(t.receipt, t.receipt.p99)}${t.receipt.missing ? ` (${t.receipt.missing} of ${t.receipt.n} sampled not recorded yet)` : ''}`
      : '—',
  );
  row('verify call p50 / p95 / p99', (t) => (t.verify ? `${ms(t.verify.p50)} / ${ms(t.verify.p95)} / ${ms(t.verify.p99)}` : '—'));
  row('errors / refusals / duplicates / lost', (t) => `${sum(t.errors)} / ${sum(t.refusals)} / ${t.duplicatesAtEnd ?? t.duplicates} / ${t.sessionsLost}`);
  row('generator lateness p99', (t) => ms(t.lateness.p99));
  row('worker CPU mean (peak), % of a core', (t) => cpu(t.resources[workerProcess(t.target)]));
  row('worker / server CPU per send, ms of a core', (t) => `${msOfCore(cpuMsPerSend(t, workerProcess(t.target)))} / ${msOfCore(cpuMsPerSend(t, 'server'))}`);
  row('worker RSS peak', (t) => rss(t.resources[workerProcess(t.target)]));
  row('server CPU mean (peak)', (t) => cpu(t.resources.server));
  row('server RSS peak', (t) => rss(t.resources.server));
  row('other load on the machine, CPU mean % of a core', (t) => num(otherCpu(t), 0));
  row('history events per session (per accepted send)', (t) => (t.history ? `${num(t.history.eventsPerSession)} (${num(t.history.eventsPerSend)})` : '—'));
  if (r.search) {
    row(`max rate, p99 send → submit < ${r.config.thresholdMs} ms (/s)`, (t) => {
      const s = searches(r).find((x) => x.target === t.target);
      return s ? num(s.rate) : '—';
    });
  }
  lines.push('');
  lines.push(
    '(For the bare SMPP column, "worker" is the load generator process that holds the SMPP client. Both least-durable columns run on the baselines\' worker, one trial at a time.)',
  );
  if (Object.keys(r.ratios).length) {
    lines.push('');
    lines.push('| ratio (a vs b = a / b; a is ours unless named) | value |');
    lines.push('|---|---:|');
    for (const [k, v] of Object.entries(r.ratios)) lines.push(`| ${k} | ${ratio(v)} |`);
  }
  if (r.search) {
    for (const sr of searches(r)) {
      lines.push('');
      lines.push(
        `Rate search, ${TARGET_LABELS[sr.target]}: ${num(sr.rate)}/s holds p99 send → submit_sm < ${sr.thresholdMs} ms with 0 errors and 0 duplicates${sr.failedAt !== null ? `; ${num(sr.failedAt)}/s does not` : ''}.`,
      );
      lines.push('');
      lines.push('| rate (/s) | verdict | send → submit p50 / p99 | send call p99 | worker CPU | server CPU | other CPU | why |');
      lines.push('|---:|---|---:|---:|---:|---:|---:|---|');
      for (const t of sr.trials) {
        const worker = t.resources[workerProcess(sr.target)];
        lines.push(
          `| ${num(t.offeredRate)} | ${t.pass ? 'pass' : 'fail'} | ${pv(t.sendToSubmit, t.sendToSubmit.p50)} / ${pv(t.sendToSubmit, t.sendToSubmit.p99)} | ${ms(t.sendCall.p99)} | ${cpu(worker)} | ${cpu(t.resources.server)} | ${num(otherCpu(t), 0)}% | ${(t.failReasons ?? []).join('; ')} |`,
        );
      }
    }
  }
  if (r.overload) {
    const o = r.overload;
    const t = o.trial;
    lines.push('');
    lines.push(
      `Overload: ${num(o.burst.rate)}/s for ${o.burst.seconds} s (2× the found rate ${num(o.foundRate)}/s), then ${num(o.after.rate)}/s for ${o.after.seconds} s.`,
    );
    lines.push('');
    lines.push('| figure | value |');
    lines.push('|---|---:|');
    lines.push(`| sends neither sent nor refused within 2 s | ${t.unansweredWithin2s} of ${t.fired} |`);
    lines.push(`| refusals | ${kv(t.refusals)} |`);
    lines.push(`| errors | ${kv(t.errors)} |`);
    lines.push(`| duplicate SMS | ${t.duplicatesAtEnd ?? t.duplicates} |`);
    lines.push(`| sessions lost (not refused, no SMS) | ${t.sessionsLost} |`);
    lines.push(
      `| p99 back under ${r.config.thresholdMs} ms after the burst | ${o.recoverySeconds === null ? 'not within the run' : `${o.recoverySeconds} s`} |`,
    );
    lines.push(`| p99 per 1-s window (ms) | ${(t.windows ?? []).map((w) => (w.p99 === null ? '∞' : Math.round(w.p99))).join(' ')} |`);
  }
  return lines.join('\n');
}
