/**
 * Turns the bench's JSON into an SVG, hand-written, no dependencies, and
 * prints the markdown table of docs/benchmarks.md again:
 *   node dist/bench/chart.js bench.json [docs/benchmarks.svg]
 * Top: p50/p99 send -> submit_sm per 1-s window of the overload run.
 * Bottom: CDFs of send -> submit_sm (solid) and of the send call (dashed)
 * for the product and the baselines at the main trial's rate.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { TARGET_LABELS, markdownReport } from './lib/report';
import type { BenchResult, TrialResult } from './lib/types';

const W = 960;
const H = 760;
const COLORS: Record<string, string> = { product: '#d62728', 'least-durable': '#1f77b4', 'least-durable-login': '#9467bd', 'bare-smpp': '#2ca02c' };

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const f1 = (v: number) => Math.round(v * 10) / 10;

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** A log10 axis over whole decades covering [lo, hi]. */
function logScale(lo: number, hi: number, from: number, to: number): { at: (v: number) => number; ticks: number[] } {
  const a = Math.floor(Math.log10(Math.max(lo, 0.1)));
  const b = Math.max(a + 1, Math.ceil(Math.log10(Math.max(hi, 1))));
  const at = (v: number) => from + ((Math.log10(Math.max(v, 10 ** a)) - a) / (b - a)) * (to - from);
  return { at, ticks: Array.from({ length: b - a + 1 }, (_, i) => 10 ** (a + i)) };
}

const fmt = (v: number | null) => (v === null ? '∞' : v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v} ms`);
const tickLabel = (v: number) => (v >= 1000 ? `${v / 1000} s` : `${v} ms`);

function frame(box: Box, title: string): string[] {
  return [
    `<rect x="${box.x}" y="${box.y}" width="${box.w}" height="${box.h}" fill="#fff" stroke="#999"/>`,
    `<text x="${box.x}" y="${box.y - 10}" font-size="15" font-weight="bold">${esc(title)}</text>`,
  ];
}

function overloadPanel(r: BenchResult, box: Box): string[] {
  const out: string[] = [];
  const o = r.overload;
  const windows = o?.trial.windows ?? [];
  out.push(
    ...frame(
      box,
      o
        ? `Overload: p50 / p99 send → submit_sm per second (${f1(o.burst.rate)}/s for ${o.burst.seconds} s, then ${f1(o.after.rate)}/s)`
        : 'Overload: not run (use --overload)',
    ),
  );
  if (!o || !windows.length) return out;
  const values = windows.flatMap((w) => [w.p50, w.p99]).filter((v): v is number => v !== null);
  const threshold = r.config.thresholdMs;
  const y = logScale(Math.min(...values, threshold), Math.max(...values, threshold), box.y + box.h, box.y);
  const seconds = windows.length;
  const x = (s: number) => box.x + (s / seconds) * box.w;
  out.push(`<rect x="${x(0)}" y="${box.y}" width="${x(o.burst.seconds) - x(0)}" height="${box.h}" fill="#fde0dd" opacity="0.6"/>`);
  out.push(`<text x="${x(0) + 6}" y="${box.y + 16}" font-size="12" fill="#a33">burst: 2× found rate</text>`);
  for (const t of y.ticks)
    out.push(
      `<line x1="${box.x}" x2="${box.x + box.w}" y1="${f1(y.at(t))}" y2="${f1(y.at(t))}" stroke="#eee"/><text x="${box.x - 6}" y="${f1(y.at(t)) + 4}" font-size="11" text-anchor="end">${tickLabel(t)}</text>`,
    );
  for (let s = 0; s <= seconds; s += 5) out.push(`<text x="${f1(x(s))}" y="${box.y + box.h + 16}" font-size="11" text-anchor="middle">${s}</text>`);
  out.push(`<text x="${box.x + box.w / 2}" y="${box.y + box.h + 32}" font-size="12" text-anchor="middle">seconds since the first send (scheduled time)</text>`);
  out.push(
    `<line x1="${box.x}" x2="${box.x + box.w}" y1="${f1(y.at(threshold))}" y2="${f1(y.at(threshold))}" stroke="#555" stroke-dasharray="6 4"/><text x="${box.x + box.w - 4}" y="${f1(y.at(threshold)) - 4}" font-size="11" text-anchor="end">${threshold} ms</text>`,
  );
  const series = (key: 'p50' | 'p99', color: string, dash: string) => {
    const pts = windows.map((w) => [x(w.second + 0.5), w[key] === null ? box.y : y.at(w[key]!)] as const);
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="2" ${dash} points="${pts.map(([a, b]) => `${f1(a)},${f1(b)}`).join(' ')}"/>`);
    // A window whose p99 falls on a send that got no SMS is drawn at the top, marked.
    for (const w of windows)
      if (w[key] === null && w.sends > 0)
        out.push(`<text x="${f1(x(w.second + 0.5))}" y="${box.y + 12}" font-size="11" text-anchor="middle" fill="${color}">∞</text>`);
  };
  // Refused sends per second as grey bars along the bottom (scale: the busiest second fills a quarter of the panel).
  const most = Math.max(1, ...windows.map((w) => w.sends));
  for (const w of windows) {
    if (!w.refused) continue;
    const h = (w.refused / most) * box.h * 0.25;
    out.push(`<rect x="${f1(x(w.second) + 1)}" y="${f1(box.y + box.h - h)}" width="${f1(x(1) - x(0) - 2)}" height="${f1(h)}" fill="#999" opacity="0.5"/>`);
  }
  series('p99', COLORS.product, '');
  series('p50', COLORS.product, 'stroke-dasharray="4 3"');
  const lx = box.x + box.w - 250;
  out.push(`<rect x="${lx - 8}" y="${box.y + 8}" width="244" height="60" fill="#fff" stroke="#ccc" opacity="0.92"/>`);
  out.push(
    `<line x1="${lx}" x2="${lx + 24}" y1="${box.y + 20}" y2="${box.y + 20}" stroke="${COLORS.product}" stroke-width="2"/><text x="${lx + 30}" y="${box.y + 24}" font-size="12">p99 (ours)</text>`,
  );
  out.push(
    `<line x1="${lx}" x2="${lx + 24}" y1="${box.y + 38}" y2="${box.y + 38}" stroke="${COLORS.product}" stroke-width="2" stroke-dasharray="4 3"/><text x="${lx + 30}" y="${box.y + 42}" font-size="12">p50 (ours)</text>`,
  );
  out.push(
    `<rect x="${lx}" y="${box.y + 51}" width="24" height="8" fill="#999" opacity="0.5"/><text x="${lx + 30}" y="${box.y + 60}" font-size="12">sends refused (share of the second)</text>`,
  );
  out.push(
    `<text x="${box.x + box.w}" y="${box.y + box.h + 32}" font-size="12" text-anchor="end" font-weight="bold">${o.recoverySeconds === null ? `p99 not back under ${threshold} ms within the run` : `p99 &lt; ${threshold} ms again ${o.recoverySeconds} s after the burst`}</text>`,
  );
  return out;
}

function cdfPanel(r: BenchResult, box: Box): string[] {
  const out: string[] = [];
  const trials = r.trials.filter((t): t is TrialResult & { distributions: NonNullable<TrialResult['distributions']> } => t.distributions !== undefined);
  out.push(...frame(box, `Latency CDF at ${r.config.rate}/s: send → submit_sm (solid) and send call (dashed)`));
  const all = trials.flatMap((t) => [...t.distributions.sendToSubmit, ...t.distributions.sendCall]).filter((v) => v > 0);
  if (!all.length) return out;
  const x = logScale(Math.min(...all), Math.max(...all), box.x, box.x + box.w);
  const y = (q: number) => box.y + box.h - q * box.h;
  for (const t of x.ticks)
    out.push(
      `<line x1="${f1(x.at(t))}" x2="${f1(x.at(t))}" y1="${box.y}" y2="${box.y + box.h}" stroke="#eee"/><text x="${f1(x.at(t))}" y="${box.y + box.h + 16}" font-size="11" text-anchor="middle">${tickLabel(t)}</text>`,
    );
  for (const q of [0, 0.25, 0.5, 0.75, 0.9, 1])
    out.push(
      `<line x1="${box.x}" x2="${box.x + box.w}" y1="${f1(y(q))}" y2="${f1(y(q))}" stroke="#eee"/><text x="${box.x - 6}" y="${f1(y(q)) + 4}" font-size="11" text-anchor="end">${q}</text>`,
    );
  out.push(`<text x="${box.x + box.w / 2}" y="${box.y + box.h + 32}" font-size="12" text-anchor="middle">latency (log scale)</text>`);
  const curve = (values: number[], color: string, dash: string) => {
    if (!values.length) return;
    const pts = values.map((v, i) => `${f1(x.at(Math.max(v, 0.1)))},${f1(y((i + 1) / values.length))}`);
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="2" ${dash} points="${f1(x.at(Math.max(values[0], 0.1)))},${f1(y(0))} ${pts.join(' ')}"/>`);
  };
  for (const t of trials) {
    const color = COLORS[t.target] ?? '#333';
    curve(t.distributions.sendToSubmit, color, '');
    curve(t.distributions.sendCall, color, 'stroke-dasharray="5 4"');
  }
  // Legend on a white card, drawn over the curves.
  out.push(`<rect x="${box.x + 6}" y="${box.y + 6}" width="430" height="${trials.length * 18 + 10}" fill="#fff" stroke="#ccc" opacity="0.92"/>`);
  trials.forEach((t, i) => {
    const color = COLORS[t.target] ?? '#333';
    const ly = box.y + 20 + i * 18;
    const p = t.sendToSubmit;
    out.push(
      `<line x1="${box.x + 12}" x2="${box.x + 36}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"/><text x="${box.x + 42}" y="${ly + 4}" font-size="12">${esc(TARGET_LABELS[t.target] ?? t.target)}: send → submit p50 ${fmt(p.p50)}, p99 ${fmt(p.p99)}</text>`,
    );
  });
  return out;
}

export function renderChart(r: BenchResult): string {
  const m = r.machine;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="${W}" height="${H}" fill="#fafafa"/>`,
    `<text x="20" y="28" font-size="18" font-weight="bold">OTP send latency, open loop (${esc(r.startedAt.slice(0, 10))})</text>`,
    `<text x="20" y="48" font-size="12" fill="#555">${esc(`${m.nproc} CPU ${m.cpuModel}, ${m.memoryGB} GB; ${m.temporal}; ${r.config.server}; ${r.config.numbers} numbers`)}</text>`,
    ...overloadPanel(r, { x: 80, y: 90, w: 850, h: 250 }),
    ...cdfPanel(r, { x: 80, y: 420, w: 850, h: 280 }),
    '</svg>',
  ];
  return parts.join('\n') + '\n';
}

function isBenchResult(v: unknown): v is BenchResult {
  return typeof v === 'object' && v !== null && (v as { version?: unknown }).version === 1 && Array.isArray((v as { trials?: unknown }).trials);
}

if (require.main === module) {
  const [input, output = 'docs/benchmarks.svg'] = process.argv.slice(2);
  if (!input) {
    console.error('usage: node dist/bench/chart.js BENCH.json [OUT.svg]');
    process.exit(2);
  }
  const parsed: unknown = JSON.parse(readFileSync(input, 'utf8'));
  if (!isBenchResult(parsed)) {
    console.error(`${input} is not the JSON of npm run bench -- --json`);
    process.exit(2);
  }
  writeFileSync(output, renderChart(parsed));
  console.log(markdownReport(parsed));
  console.error(`wrote ${output}`);
}
