/**
 * The PromQL the dashboard uses, evaluated over recorded scrapes, so its
 * panels can be drawn here without Prometheus or Grafana (neither installs
 * offline): selectors with `=` and `!=` matchers, `rate` and `increase` over
 * a range, `sum`/`max`/`min` `by (…)`, `histogram_quantile`, and `/` between
 * two vectors with the same labels. Anything else is refused by name.
 */
import type { Scrape } from '../lib/metrics-scrapes';
import type { Sample } from '../lib/prom-text';

export type { Scrape };

export type Vector = { labels: Record<string, string>; value: number }[];

type Node =
  | { kind: 'selector'; name: string; matchers: { label: string; op: '=' | '!='; value: string }[]; rangeMs?: number }
  | { kind: 'call'; fn: 'rate' | 'increase'; arg: Node }
  | { kind: 'quantile'; q: number; arg: Node }
  | { kind: 'agg'; op: 'sum' | 'max' | 'min'; by: string[]; arg: Node }
  | { kind: 'div'; left: Node; right: Node };

export class PromqlError extends Error {}

const DURATION = /^(\d+)(ms|s|m|h)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function tokenize(expr: string): string[] {
  const tokens = expr.match(/"(?:[^"\\]|\\.)*"|!=|=~|[a-zA-Z_:][a-zA-Z0-9_:]*|\d+(?:\.\d+)?(?:ms|s|m|h)?|[(){}[\],=/]/g);
  if (!tokens || tokens.join('').replace(/\s/g, '') !== expr.replace(/\s/g, '')) throw new PromqlError(`cannot read "${expr}"`);
  return tokens;
}

export function parse(expr: string, vars: Record<string, string> = {}): Node {
  const tokens = tokenize(expr.replace(/\$(\w+)/g, (m, v: string) => vars[v] ?? m));
  let i = 0;
  const peek = () => tokens[i];
  const take = (want?: string) => {
    const t = tokens[i++];
    if (t === undefined || (want !== undefined && t !== want)) throw new PromqlError(`expected ${want ?? 'more'} at "${t ?? 'end'}" in ${expr}`);
    return t;
  };
  const labelList = () => {
    take('(');
    const out: string[] = [];
    while (peek() !== ')') {
      out.push(take());
      if (peek() === ',') take(',');
    }
    take(')');
    return out;
  };
  const primary = (): Node => {
    const t = take();
    if (t === '(') {
      const inner = binary();
      take(')');
      return inner;
    }
    if (t === 'rate' || t === 'increase') {
      take('(');
      const arg = primary();
      take(')');
      if (arg.kind !== 'selector' || arg.rangeMs === undefined) throw new PromqlError(`${t}() needs a range selector in ${expr}`);
      return { kind: 'call', fn: t, arg };
    }
    if (t === 'histogram_quantile') {
      take('(');
      const q = Number(take());
      take(',');
      const arg = binary();
      take(')');
      return { kind: 'quantile', q, arg };
    }
    if (t === 'sum' || t === 'max' || t === 'min') {
      const by = peek() === 'by' ? (take(), labelList()) : [];
      take('(');
      const arg = binary();
      take(')');
      return { kind: 'agg', op: t, by, arg };
    }
    if (!/^[a-zA-Z_:]/.test(t)) throw new PromqlError(`unexpected "${t}" in ${expr}`);
    const matchers: { label: string; op: '=' | '!='; value: string }[] = [];
    if (peek() === '{') {
      take('{');
      while (peek() !== '}') {
        const label = take();
        const op = take();
        if (op !== '=' && op !== '!=') throw new PromqlError(`matcher ${op} is not supported in ${expr}`);
        matchers.push({ label, op, value: JSON.parse(take()) as string });
        if (peek() === ',') take(',');
      }
      take('}');
    }
    let rangeMs: number | undefined;
    if (peek() === '[') {
      take('[');
      const d = DURATION.exec(take());
      if (!d) throw new PromqlError(`bad range in ${expr}`);
      rangeMs = Number(d[1]) * UNIT_MS[d[2]];
      take(']');
    }
    return { kind: 'selector', name: t, matchers, rangeMs };
  };
  const binary = (): Node => {
    const left = primary();
    if (peek() === '/') {
      take('/');
      return { kind: 'div', left, right: primary() };
    }
    return left;
  };
  const node = binary();
  if (i !== tokens.length) throw new PromqlError(`unexpected "${tokens[i]}" in ${expr}`);
  return node;
}

const key = (labels: Record<string, string>) =>
  JSON.stringify(
    Object.entries(labels)
      .filter(([k]) => k !== '__name__')
      .sort(([a], [b]) => a.localeCompare(b)),
  );

function select(s: Sample[], n: Extract<Node, { kind: 'selector' }>): Sample[] {
  return s.filter(
    (x) => x.name === n.name && n.matchers.every((m) => (m.op === '=' ? (x.labels[m.label] ?? '') === m.value : (x.labels[m.label] ?? '') !== m.value)),
  );
}

/** Counter growth within (t - range, t], resets counted as Prometheus does; a series absent from a scrape counts as 0 there (prom-client shows a series from its first increment). */
function growth(scrapes: Scrape[], at: number, n: Extract<Node, { kind: 'selector' }>): Vector {
  const window = scrapes.filter((s) => s.t > at - n.rangeMs! && s.t <= at);
  if (window.length < 2) return [];
  const series = new Map<string, { labels: Record<string, string>; points: number[] }>();
  window.forEach((scrape, idx) => {
    for (const x of select(scrape.samples, n)) {
      const k = key(x.labels);
      let e = series.get(k);
      if (!e) series.set(k, (e = { labels: x.labels, points: new Array<number>(window.length).fill(0) }));
      e.points[idx] = x.value;
    }
  });
  const seconds = (window[window.length - 1].t - window[0].t) / 1000;
  return [...series.values()].map(({ labels, points }) => {
    let inc = 0;
    for (let j = 1; j < points.length; j++) inc += points[j] >= points[j - 1] ? points[j] - points[j - 1] : points[j];
    // Per second between the first and last scrape in the range; increase() scales it to the range.
    return { labels, value: inc / seconds };
  });
}

function quantile(q: number, buckets: { le: number; count: number }[]): number {
  buckets.sort((a, b) => a.le - b.le);
  const total = buckets[buckets.length - 1]?.count ?? 0;
  if (total <= 0) return NaN;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of buckets) {
    if (b.count >= rank) {
      if (b.le === Infinity) return prevLe;
      return prevLe + ((b.le - prevLe) * (rank - prevCount)) / Math.max(b.count - prevCount, Number.EPSILON);
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return prevLe;
}

export function evaluate(node: Node, scrapes: Scrape[], at: number): Vector {
  switch (node.kind) {
    case 'selector': {
      if (node.rangeMs !== undefined) throw new PromqlError(`a range selector (${node.name}) needs rate() or increase()`);
      const latest = [...scrapes].reverse().find((s) => s.t <= at);
      return latest ? select(latest.samples, node).map((x) => ({ labels: x.labels, value: x.value })) : [];
    }
    case 'call': {
      const arg = node.arg as Extract<Node, { kind: 'selector' }>;
      const rates = growth(scrapes, at, arg);
      return node.fn === 'rate' ? rates : rates.map((r) => ({ labels: r.labels, value: (r.value * arg.rangeMs!) / 1000 }));
    }
    case 'agg': {
      const groups = new Map<string, { labels: Record<string, string>; value: number }>();
      for (const x of evaluate(node.arg, scrapes, at)) {
        const labels = Object.fromEntries(node.by.filter((l) => x.labels[l] !== undefined).map((l) => [l, x.labels[l]]));
        const k = key(labels);
        const g = groups.get(k);
        if (!g) groups.set(k, { labels, value: x.value });
        else g.value = node.op === 'sum' ? g.value + x.value : node.op === 'max' ? Math.max(g.value, x.value) : Math.min(g.value, x.value);
      }
      return [...groups.values()];
    }
    case 'quantile': {
      const groups = new Map<string, { labels: Record<string, string>; buckets: { le: number; count: number }[] }>();
      for (const x of evaluate(node.arg, scrapes, at)) {
        const { le, ...labels } = x.labels;
        if (le === undefined) continue;
        const k = key(labels);
        const g = groups.get(k) ?? { labels, buckets: [] };
        g.buckets.push({ le: le === '+Inf' ? Infinity : Number(le), count: x.value });
        groups.set(k, g);
      }
      return [...groups.values()].map((g) => ({ labels: g.labels, value: quantile(node.q, g.buckets) })).filter((v) => Number.isFinite(v.value));
    }
    case 'div': {
      const right = new Map(evaluate(node.right, scrapes, at).map((x) => [key(x.labels), x.value]));
      return evaluate(node.left, scrapes, at).flatMap((x) => {
        const d = right.get(key(x.labels));
        return d === undefined || d === 0 ? [] : [{ labels: x.labels, value: x.value / d }];
      });
    }
  }
}
