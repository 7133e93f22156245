/** The chaos run's table, for a terminal and as markdown (docs/reliability.md). */
import type { Summary } from '../bench/lib/stats';
import type { ChaosResult, FaultFigures } from './types';

const HEAD = [
  'fault',
  'at s',
  'window s',
  'sessions',
  'sent',
  'refused (by type)',
  'lost',
  'wrong',
  'dup SMS',
  'during p50/p99 ms',
  'after p50/p99 ms',
  'recovery s',
  'CPU machine/stack %',
];

const ms = (s: Summary): string => (s.n === 0 ? '–' : `${s.p50 ?? '∞'} / ${s.p99 ?? '∞'}`);

function refused(r: Record<string, number>): string {
  const e = Object.entries(r);
  return e.length ? e.map(([k, n]) => `${n} ${k}`).join(', ') : '0';
}

function row(f: FaultFigures): string[] {
  return [
    f.kind,
    String(f.injectedAtS),
    String(f.windowS),
    String(f.sessions),
    String(f.sent),
    refused(f.refused) + (f.failed ? `; ${f.failed} delivery failed` : ''),
    String(f.lost),
    f.wrong
      ? `${f.wrong} (${Object.entries(f.wrongKinds)
          .map(([k, n]) => `${n} ${k}`)
          .join(', ')})`
      : '0',
    String(f.duplicates),
    ms(f.during),
    ms(f.after),
    f.recoveryS === null ? 'not recovered' : String(f.recoveryS),
    f.cpu ? `${f.cpu.machinePct === null ? '?' : Math.round(f.cpu.machinePct)} / ${f.cpu.stackPct}` : '–',
  ];
}

export function textTable(r: ChaosResult): string {
  const rows = [HEAD, ...r.faults.map(row)];
  const widths = HEAD.map((_, c) => Math.min(48, Math.max(...rows.map((x) => x[c].length))));
  const line = (x: string[]) => x.map((v, c) => v.padEnd(widths[c])).join('  ');
  return [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

export function markdownTable(r: ChaosResult): string {
  const rows = r.faults.map(row);
  return [`| ${HEAD.join(' | ')} |`, `|${HEAD.map(() => '---').join('|')}|`, ...rows.map((x) => `| ${x.join(' | ')} |`)].join('\n');
}

export function totalsLine(r: ChaosResult): string {
  const t = r.totals;
  return (
    `${t.sessions} sessions, ${t.sent} answered sent; verified ${t.verdicts.verified}, refused ${t.verdicts.refused}, delivery failed ${t.verdicts.failed}, ` +
    `lost ${t.verdicts.lost}, wrong ${t.verdicts.wrong}; duplicate SMS ${t.duplicates} (unexplained ${t.unexplainedDuplicates}, most SMS to one number ${t.maxSmsPerNumber}); ` +
    `send→submit p50 ${t.sendToSubmit.p50 ?? '∞'} ms, p99 ${t.sendToSubmit.p99 ?? '∞'} ms`
  );
}

/** What the issue's acceptance asks: nothing lost or wrong, every duplicate explained, recovery within `maxRecoveryS` of each fault. */
export function acceptance(r: ChaosResult, maxRecoveryS = 10): string[] {
  const out: string[] = [];
  if (r.totals.verdicts.lost) out.push(`${r.totals.verdicts.lost} session(s) lost`);
  if (r.totals.verdicts.wrong) out.push(`${r.totals.verdicts.wrong} wrong end state(s)`);
  if (r.unexpectedExits.length) out.push(`${r.unexpectedExits.length} process(es) exited by themselves`);
  if (r.logs.fullNumbers || r.logs.codes || r.logs.longLines)
    out.push(`the product's logs hold ${r.logs.fullNumbers} line(s) with a full number, ${r.logs.codes} with a code, ${r.logs.longLines} over 4000 characters`);
  if (r.totals.unexplainedDuplicates) out.push(`${r.totals.unexplainedDuplicates} duplicate SMS no fault explains`);
  for (const f of r.faults)
    if (f.kind !== 'baseline' && (f.recoveryS === null || f.recoveryS > maxRecoveryS))
      out.push(`${f.kind} at ${f.injectedAtS} s: recovery ${f.recoveryS ?? 'never'} s > ${maxRecoveryS} s`);
  return out;
}
