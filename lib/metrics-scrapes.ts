/**
 * Scrapes a worker's GET /metrics at a fixed period, as Prometheus would, and
 * keeps the OTP and Temporal SDK series: the data the dashboard is drawn from
 * (scripts/metrics-dashboard.ts render), recorded by the metrics recorder or
 * by the bench (`--scrapes FILE`).
 */
import { parseExposition, type Sample } from './prom-text';

export interface Scrape {
  /** Unix ms. */
  t: number;
  samples: Sample[];
}

/** What the recorder and the bench write, and `render --in` reads. */
export interface ScrapeFile {
  url: string;
  /** Seconds between scrapes. */
  every: number;
  scrapes: Scrape[];
}

/** Scrapes `url` every `everyS` seconds until `stop()`, which resolves to the recording. A failed scrape is reported and skipped. */
export function scrapeMetrics(url: string, everyS: number, onError: (message: string) => void = (m) => console.error(m)): { stop: () => Promise<ScrapeFile> } {
  const scrapes: Scrape[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const t = Date.now();
      try {
        const text = await (await fetch(url)).text();
        // Only the series the dashboard can use: OTP and Temporal SDK.
        scrapes.push({ t, samples: parseExposition(text).filter((s) => s.name.startsWith('otp_') || s.name.startsWith('temporal_')) });
      } catch (err) {
        onError(`scrape failed: ${err instanceof Error ? err.message : String(err)}`);
      }
      const wait = Math.max(0, everyS * 1000 - (Date.now() - t));
      await new Promise((r) => setTimeout(r, wait));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      return { url, every: everyS, scrapes };
    },
  };
}
