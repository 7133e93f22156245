/** Percentiles and summaries. Latencies in milliseconds. */

export interface Summary {
  /** Values summarised (missing ones included). */
  n: number;
  /** Sends that never got the thing measured (e.g. no SMS): they rank as +infinity. */
  missing: number;
  /** null when the rank falls on a missing value. */
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
  /** Mean of the values present. */
  mean: number | null;
}

/** Nearest-rank percentile of sorted values; Infinity stands for "never happened". */
export function percentile(sorted: readonly number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

const finite = (v: number): number | null => (Number.isFinite(v) ? Math.round(v * 10) / 10 : null);

export function summarize(values: readonly number[], missing = 0): Summary {
  const sorted = [...values, ...Array<number>(missing).fill(Infinity)].sort((a, b) => a - b);
  const present = values.filter(Number.isFinite);
  if (!sorted.length) return { n: 0, missing: 0, p50: null, p95: null, p99: null, max: null, mean: null };
  return {
    n: sorted.length,
    missing,
    p50: finite(percentile(sorted, 50)),
    p95: finite(percentile(sorted, 95)),
    p99: finite(percentile(sorted, 99)),
    max: finite(sorted[sorted.length - 1]),
    mean: present.length ? finite(present.reduce((a, b) => a + b, 0) / present.length) : null,
  };
}

/** Values rounded to 0.1 ms and sorted, for CDFs in the JSON; thinned to at most `max` points. */
export function distribution(values: readonly number[], max = 2000): number[] {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length <= max) return sorted.map((v) => Math.round(v * 10) / 10);
  return Array.from({ length: max }, (_, i) => Math.round(sorted[Math.floor((i * (sorted.length - 1)) / (max - 1))] * 10) / 10);
}

export function count<K extends string>(map: Record<K, number>, key: K, by = 1): void {
  map[key] = (map[key] ?? 0) + by;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));
