/**
 * The Grafana dashboard (docs/grafana-dashboard.json) drawn from real data,
 * without Grafana or Prometheus (neither installs here):
 *
 *   record  scrapes a worker's GET /metrics every --every seconds for --seconds,
 *           optionally driving a mixed load through the stack meanwhile (--load N
 *           sends per second: several countries, most codes verified, some wrong
 *           codes, some never verified, a few resends refused, and a few numbers the
 *           simulator fails: undeliverable, refused, throttled, failed once, or
 *           dropping the connection), and writes the scrapes as JSON;
 *   render  evaluates every panel's PromQL over those scrapes (scripts/promql-lite.ts)
 *           and draws the panels in the dashboard's grid as one SVG.
 *
 *   . <your env>; node dist/scripts/metrics-dashboard.js record --metrics http://127.0.0.1:9464/metrics --load 3 --seconds 90 --out /tmp/scrapes.json
 *   node dist/scripts/metrics-dashboard.js render --in /tmp/scrapes.json --out docs/grafana-dashboard.svg
 *
 * The load uses the client settings of the environment (as `npm run otp`) and reads codes from the
 * simulator's phone inbox (SIM_HTTP_PORT, default 2780). Nothing it prints holds a number or a code.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectOtpClient, type OtpClient } from '../client';
import { loadConfig } from '../config/config';
import { PROJECT_ROOT } from '../dev/temporal-server';
import { evaluate, parse, type Scrape } from './promql-lite';
import { randomMobileNumber } from '../sim/sample-numbers';
import { scrapeMetrics } from '../lib/metrics-scrapes';

/** Window that stands in for Grafana's $__rate_interval (4 scrapes of 5 s, as Grafana would pick). */
const RATE_INTERVAL = '30s';

interface Args {
  [flag: string]: string | undefined;
}

function args(argv: string[]): Args {
  const out: Args = {};
  for (let i = 0; i < argv.length; i++)
    if (argv[i].startsWith('--')) out[argv[i].slice(2)] = argv[i + 1]?.startsWith('--') || argv[i + 1] === undefined ? 'true' : argv[++i];
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- record

/** One user: a send, then (usually) the code typed after a while; counts what happened, never the number. */
async function user(otp: OtpClient, inbox: string, tally: Map<string, number>): Promise<void> {
  const bump = (k: string): void => void tally.set(k, (tally.get(k) ?? 0) + 1);
  const phone = randomMobileNumber();
  const roll = Math.random();
  // A few numbers the carrier cannot reach, refuses, throttles, fails once or drops the connection for.
  const mode =
    roll < 0.05 ? 'undeliverable' : roll < 0.06 ? 'refuse' : roll < 0.067 ? 'throttle' : roll < 0.074 ? 'drop' : roll < 0.094 ? 'fail_once' : undefined;
  if (mode) await fetch(`${inbox}/behaviours?to=${encodeURIComponent(phone)}&mode=${mode}`, { method: 'PUT' });
  const sent = await otp.send(phone);
  bump(`send ${sent.status}`);
  if (sent.status !== 'sent') return;
  // Some users ask again within the cooldown: refused as rate_limited.
  if (Math.random() < 0.08) {
    await sleep(2500);
    bump(`resend ${(await otp.send(phone)).status}`);
  }
  if (roll < 0.074 || roll > 0.8) return bump('abandoned');
  let code: string | undefined;
  for (let i = 0; i < 40 && !code; i++) {
    const messages = (await (await fetch(`${inbox}/messages?to=${encodeURIComponent(phone)}`)).json()) as { text: string }[];
    code = /code is ([0-9A-Z]{4,10})/.exec(messages[0]?.text ?? '')?.[1];
    if (!code) await sleep(250);
  }
  if (!code) return bump('no sms');
  // Users read and type: a few seconds, sometimes much longer.
  await sleep(1500 + Math.random() * (Math.random() < 0.2 ? 25_000 : 6_000));
  if (Math.random() < 0.12) bump(`wrong ${(await otp.verify(phone, code === '000000' ? '111111' : '000000')).outcome}`);
  bump(`verify ${(await otp.verify(phone, code)).outcome}`);
}

async function record(a: Args): Promise<void> {
  const url = a.metrics ?? `http://127.0.0.1:${process.env.OTP_METRICS_PORT || 9464}/metrics`;
  const seconds = Number(a.seconds ?? 60);
  const every = Number(a.every ?? 5);
  const load = Number(a.load ?? 0);
  const out = a.out ?? join(PROJECT_ROOT, 'data', 'metrics-scrapes.json');
  const end = Date.now() + seconds * 1000;
  const tally = new Map<string, number>();
  const users: Promise<void>[] = [];
  let otp: OtpClient | undefined;
  if (load > 0) {
    otp = await connectOtpClient(loadConfig(process.env, 'client'));
    const inbox = `http://127.0.0.1:${process.env.SIM_HTTP_PORT || 2780}`;
    // Load stops 40 s before the end, so the last verifies and receipts land in the recording.
    const loadEnd = end - Math.min(40_000, (seconds * 1000) / 3);
    void (async () => {
      for (let i = 0; Date.now() < loadEnd; i++) {
        users.push(
          user(otp!, inbox, tally).catch(
            (err: unknown) =>
              void tally.set(
                `error ${err instanceof Error ? err.name : 'unknown'}`,
                (tally.get(`error ${err instanceof Error ? err.name : 'unknown'}`) ?? 0) + 1,
              ),
          ),
        );
        await sleep(1000 / load);
      }
    })();
  }
  const scraper = scrapeMetrics(url, every);
  await sleep(Math.max(0, end - Date.now()));
  const recording = await scraper.stop();
  await Promise.all(users);
  await otp?.temporal.connection.close();
  writeFileSync(out, JSON.stringify(recording));
  console.log(`${recording.scrapes.length} scrapes written to ${out}`);
  if (tally.size) console.log(JSON.stringify(Object.fromEntries([...tally].sort()), null, 2));
}

// ---------------------------------------------------------------- render

interface Target {
  expr: string;
  legendFormat?: string;
}
interface Panel {
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  targets?: Target[];
  fieldConfig?: { defaults?: { unit?: string; min?: number; max?: number } };
  options?: { legend?: { calcs?: string[] } };
}

/** The legend's figure per series, as Grafana's legend calcs name them. */
const CALCS: Record<string, (values: number[]) => number> = {
  lastNotNull: (v) => v[v.length - 1] ?? NaN,
  mean: (v) => (v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN),
  max: (v) => (v.length ? Math.max(...v) : NaN),
};

const COLORS = ['#73BF69', '#F2CC0C', '#8AB8FF', '#FF780A', '#F2495C', '#5794F2', '#B877D9', '#FF9830', '#96D98D', '#CA95E5'];
const W = 1800;
const UNIT_H = 34;
const PAD = 8;

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function fmt(v: number, unit: string | undefined): string {
  if (!Number.isFinite(v)) return '–';
  if (unit === 'percentunit') return `${(v * 100).toFixed(v >= 0.995 || v === 0 ? 0 : 1)}%`;
  if (unit === 's') return v === 0 ? '0 s' : v < 1 ? `${Math.round(v * 1000)} ms` : `${v.toFixed(v < 10 ? 1 : 0)} s`;
  const n = Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2).replace(/\.?0+$/, '');
  return unit === 'reqps' ? `${n}/s` : n;
}

function legendOf(format: string | undefined, labels: Record<string, string>): string {
  if (!format) return JSON.stringify(labels);
  return format.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, l: string) => labels[l] ?? '');
}

function drawPanel(p: Panel, scrapes: Scrape[], x0: number, y0: number, w: number, h: number): string {
  const out: string[] = [
    `<rect x="${x0}" y="${y0}" width="${w}" height="${h}" rx="3" fill="#181b1f" stroke="#2c3235"/>`,
    `<text x="${x0 + 10}" y="${y0 + 20}" fill="#ccccdc" font-size="13" font-weight="600">${esc(p.title)}</text>`,
  ];
  const unit = p.fieldConfig?.defaults?.unit;
  // Every target at every scrape: one line per resulting label set.
  const series = new Map<string, { name: string; points: [number, number][] }>();
  for (const target of p.targets ?? []) {
    const node = parse(target.expr, { __rate_interval: RATE_INTERVAL });
    for (const s of scrapes) {
      for (const v of evaluate(node, scrapes, s.t)) {
        const name = legendOf(target.legendFormat, v.labels);
        const k = `${target.expr}\u0000${name}`;
        const e = series.get(k) ?? { name, points: [] };
        e.points.push([s.t, v.value]);
        series.set(k, e);
      }
    }
  }
  const lines = [...series.values()].sort((a, b) => a.name.localeCompare(b.name));
  const legendRows = Math.ceil(lines.length / 3);
  const plot = { x: x0 + 52, y: y0 + 32, w: w - 64, h: h - 32 - 26 - legendRows * 16 };
  const t0 = scrapes[0].t;
  const t1 = scrapes[scrapes.length - 1].t;
  const all = lines.flatMap((l) => l.points.map(([, v]) => v));
  const min = p.fieldConfig?.defaults?.min ?? Math.min(0, ...all);
  let max = p.fieldConfig?.defaults?.max ?? Math.max(...all, 0);
  if (max <= min) max = min + 1;
  else if (p.fieldConfig?.defaults?.max === undefined) max *= 1.1;
  const X = (t: number) => plot.x + ((t - t0) / Math.max(t1 - t0, 1)) * plot.w;
  const Y = (v: number) => plot.y + plot.h - ((v - min) / (max - min)) * plot.h;
  for (let i = 0; i <= 4; i++) {
    const v = min + ((max - min) * i) / 4;
    out.push(`<line x1="${plot.x}" x2="${plot.x + plot.w}" y1="${Y(v).toFixed(1)}" y2="${Y(v).toFixed(1)}" stroke="#2c3235"/>`);
    out.push(`<text x="${plot.x - 6}" y="${(Y(v) + 4).toFixed(1)}" fill="#8e8e8e" font-size="10" text-anchor="end">${esc(fmt(v, unit))}</text>`);
  }
  for (let i = 0; i <= 4; i++) {
    const t = t0 + ((t1 - t0) * i) / 4;
    const label = new Date(t).toISOString().slice(11, 19);
    out.push(
      `<text x="${X(t).toFixed(1)}" y="${plot.y + plot.h + 14}" fill="#8e8e8e" font-size="10" text-anchor="${i === 0 ? 'start' : i === 4 ? 'end' : 'middle'}">${label}</text>`,
    );
  }
  if (!lines.length) out.push(`<text x="${plot.x + plot.w / 2}" y="${plot.y + plot.h / 2}" fill="#8e8e8e" font-size="12" text-anchor="middle">No data</text>`);
  lines.forEach((l, i) => {
    const color = COLORS[i % COLORS.length];
    const d = l.points.map(([t, v], j) => `${j === 0 ? 'M' : 'L'}${X(t).toFixed(1)},${Y(v).toFixed(1)}`).join(' ');
    out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"/>`);
    const lx = x0 + 12 + (i % 3) * ((w - 24) / 3);
    const ly = plot.y + plot.h + 32 + Math.floor(i / 3) * 16;
    const calc = p.options?.legend?.calcs?.[0] ?? 'lastNotNull';
    const figure = (CALCS[calc] ?? CALCS.lastNotNull)(l.points.map(([, v]) => v));
    out.push(
      `<rect x="${lx}" y="${ly - 8}" width="12" height="4" fill="${color}"/><text x="${lx + 16}" y="${ly - 2}" fill="#ccccdc" font-size="11">${esc(l.name)} <tspan fill="#8e8e8e">${calc === 'lastNotNull' ? '' : `${calc} `}${esc(fmt(figure, unit))}</tspan></text>`,
    );
  });
  return out.join('\n');
}

function render(a: Args): void {
  const input = a.in ?? join(PROJECT_ROOT, 'data', 'metrics-scrapes.json');
  const out = a.out ?? join(PROJECT_ROOT, 'docs', 'grafana-dashboard.svg');
  const dashboard = JSON.parse(readFileSync(a.dashboard ?? join(PROJECT_ROOT, 'docs', 'grafana-dashboard.json'), 'utf8')) as { title: string; panels: Panel[] };
  const { scrapes } = JSON.parse(readFileSync(input, 'utf8')) as { scrapes: Scrape[] };
  if (scrapes.length < 3) throw new Error(`${input} holds ${scrapes.length} scrapes: record longer`);
  const col = (W - PAD * 2) / 24;
  const top = 56;
  const rows = Math.max(...dashboard.panels.map((p) => p.gridPos.y + p.gridPos.h));
  const height = top + rows * UNIT_H + PAD * 2;
  const body = dashboard.panels.map((p) => {
    const x = PAD + p.gridPos.x * col;
    const y = top + p.gridPos.y * UNIT_H;
    if (p.type === 'row') return `<text x="${x + 4}" y="${y + 22}" fill="#d8d9da" font-size="15" font-weight="600">${esc(p.title)}</text>`;
    return drawPanel(p, scrapes, x + 3, y + 3, p.gridPos.w * col - 6, p.gridPos.h * UNIT_H - 6);
  });
  const span = `${new Date(scrapes[0].t).toISOString().slice(0, 19)}Z – ${new Date(scrapes[scrapes.length - 1].t).toISOString().slice(11, 19)}Z`;
  const svg = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="Inter, Helvetica, Arial, sans-serif">`,
    `<rect width="100%" height="100%" fill="#111217"/>`,
    `<text x="${PAD + 4}" y="30" fill="#d8d9da" font-size="20" font-weight="600">${esc(dashboard.title)}</text>`,
    `<text x="${W - PAD - 4}" y="30" fill="#8e8e8e" font-size="12" text-anchor="end">${scrapes.length} scrapes of GET /metrics, ${span}; $__rate_interval = ${RATE_INTERVAL}; drawn by scripts/metrics-dashboard.ts</text>`,
    ...body,
    '</svg>',
  ].join('\n');
  writeFileSync(out, `${svg}\n`);
  console.log(`${dashboard.panels.filter((p) => p.type !== 'row').length} panels drawn to ${out}`);
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  if (command === 'record') return record(args(rest));
  if (command === 'render') return render(args(rest));
  console.error(
    'usage: metrics-dashboard record [--metrics URL] [--seconds 60] [--every 5] [--load N] [--out FILE] | render [--in FILE] [--out SVG] [--dashboard JSON]',
  );
  process.exit(2);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
