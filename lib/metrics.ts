/**
 * The worker's Prometheus endpoint (GET /metrics, OTP_METRICS_PORT): OTP
 * series recorded with prom-client (names in lib/metric-names.ts), gauges
 * read from the SMPP binds and admission at scrape time, and the Temporal
 * SDK's own worker metrics, which Core exports on a loopback port of its own
 * (OTP_SDK_METRICS_PORT) and this endpoint appends, so one scrape gets both.
 * Worker only: prom-client is an optional dependency the n8n nodes never load.
 */
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { Runtime, type InjectedSinks, type Logger } from '@temporalio/worker';
import type { CodeChannel, ReceiptOutcome } from '../contract';
import { BUCKETS, METRICS, METRICS_SINK, SDK_METRIC_PREFIX, type OtpMetricsSink, type SendOutcome, type VerifyMetric } from './metric-names';
import { normalizeStat } from '../smpp/receipt';
import type { SmscRouter } from '../smpp/smsc';
import type { SendAdmission } from '../activities/admission';

/** Submits remembered for submit→receipt latency; past this the oldest are forgotten (their receipts still count). */
const MAX_TRACKED_SUBMITS = 100_000;
/** A scrape must not hang on the SDK's exporter. */
const SDK_SCRAPE_TIMEOUT_MS = 2000;

/** What the scrape-time gauges read. */
export interface MetricsSources {
  smsc: SmscRouter;
  admission: SendAdmission;
}

type Labels<K extends keyof typeof METRICS> = (typeof METRICS)[K]['labels'][number];

function counter<K extends keyof typeof METRICS>(registry: Registry, key: K, collect?: (this: Counter<Labels<K>>) => void): Counter<Labels<K>> {
  const m = METRICS[key];
  return new Counter<Labels<K>>({ name: m.name, help: m.help, labelNames: m.labels, registers: [registry], ...(collect ? { collect } : {}) });
}

function gauge<K extends keyof typeof METRICS>(registry: Registry, key: K, collect?: (this: Gauge<Labels<K>>) => void): Gauge<Labels<K>> {
  const m = METRICS[key];
  return new Gauge<Labels<K>>({ name: m.name, help: m.help, labelNames: m.labels, registers: [registry], ...(collect ? { collect } : {}) });
}

function histogram<K extends keyof typeof METRICS & keyof typeof BUCKETS>(registry: Registry, key: K): Histogram<Labels<K>> {
  const m = METRICS[key];
  return new Histogram<Labels<K>>({ name: m.name, help: m.help, labelNames: m.labels, buckets: [...BUCKETS[key]], registers: [registry] });
}

/** Receipt state label: the SMPP 3.4 word, or OTHER (a carrier's free text must not make new series). */
export function receiptStateLabel(stat: string): string {
  return normalizeStat(stat) ?? 'OTHER';
}

export class OtpMetrics {
  readonly registry = new Registry();
  private readonly sends;
  private readonly receipts;
  private readonly verifies;
  private readonly chainSteps;
  private readonly sendToSubmit;
  private readonly submitToReceipt;
  private readonly sendToVerified;
  private readonly submits = new Map<string, number>();

  constructor(sources?: MetricsSources) {
    const r = this.registry;
    this.sends = counter(r, 'sends');
    this.receipts = counter(r, 'receipts');
    this.verifies = counter(r, 'verifies');
    this.chainSteps = counter(r, 'chainSteps');
    this.sendToSubmit = histogram(r, 'sendToSubmit');
    this.submitToReceipt = histogram(r, 'submitToReceipt');
    this.sendToVerified = histogram(r, 'sendToVerified');
    if (sources) this.readAtScrape(sources);
  }

  /** Bind, window, throttling and in-doubt figures are read from the SMPP engine when scraped: nothing to keep in step. */
  private readAtScrape({ smsc, admission }: MetricsSources): void {
    const r = this.registry;
    const binds = () => smsc.describe().flatMap((route) => route.binds.map((b) => ({ route: route.name, ...b })));
    gauge(r, 'sendsInFlight', function () {
      this.set(admission.current);
    });
    gauge(r, 'bindState', function () {
      this.reset();
      for (const b of binds()) this.set({ route: b.route, bind: b.name, state: b.state }, 1);
    });
    gauge(r, 'bindUp', function () {
      this.reset();
      for (const b of binds()) this.set({ route: b.route, bind: b.name }, b.state === 'bound' ? 1 : 0);
    });
    gauge(r, 'windowOutstanding', function () {
      this.reset();
      for (const b of binds()) this.set({ route: b.route, bind: b.name }, b.outstanding);
    });
    gauge(r, 'windowSize', function () {
      this.reset();
      for (const b of binds()) this.set({ route: b.route, bind: b.name }, b.window);
    });
    gauge(r, 'windowQueued', function () {
      this.reset();
      for (const b of binds()) this.set({ route: b.route, bind: b.name }, b.queued);
    });
    gauge(r, 'throttlePause', function () {
      this.reset();
      for (const route of smsc.describe()) this.set({ route: route.name }, route.pausedMs / 1000);
    });
    // The engine keeps these totals itself (GET /status shows the same): exported as counters, set at scrape.
    counter(r, 'throttled', function () {
      this.reset();
      for (const b of binds()) this.inc({ route: b.route, bind: b.name }, b.throttled);
    });
    counter(r, 'reconnects', function () {
      this.reset();
      for (const b of binds()) this.inc({ route: b.route, bind: b.name }, b.reconnects);
    });
    gauge(r, 'inDoubt', function () {
      this.set(smsc.stats.inDoubt);
    });
    counter(r, 'inDoubtTotal', function () {
      this.reset();
      this.inc(smsc.stats.inDoubtTotal);
    });
    counter(r, 'possibleDuplicates', function () {
      this.reset();
      this.inc(smsc.stats.possibleDuplicates);
    });
    counter(r, 'lostInDoubt', function () {
      this.reset();
      this.inc(smsc.stats.lost);
    });
  }

  /** One send decision. `country` is a calling code from countryLabel(). */
  send(channel: CodeChannel, country: string, outcome: SendOutcome): void {
    this.sends.inc({ channel, country, outcome });
  }

  /** A new SMS reached the SMSC: request → submit_sm_resp. */
  submitted(country: string, seconds: number): void {
    this.sendToSubmit.observe({ country }, Math.max(0, seconds));
  }

  /** Remembers when a message went out, for submit→receipt (keyed as receipts are routed: route and submit key). */
  trackSubmit(route: string, key: string, atMs = Date.now()): void {
    const id = `${route}\u0000${key}`;
    this.submits.delete(id);
    this.submits.set(id, atMs);
    if (this.submits.size > MAX_TRACKED_SUBMITS) this.submits.delete(this.submits.keys().next().value!);
  }

  receipt(route: string, key: string, stat: string, outcome: ReceiptOutcome, atMs = Date.now()): void {
    const state = receiptStateLabel(stat);
    this.receipts.inc({ state });
    if (outcome === 'pending') return;
    const id = `${route}\u0000${key}`;
    const at = this.submits.get(id);
    if (at === undefined) return;
    this.submits.delete(id);
    this.submitToReceipt.observe({ state }, Math.max(0, (atMs - at) / 1000));
  }

  verified(m: VerifyMetric): void {
    this.verifies.inc({ outcome: m.outcome, country: m.country });
    if (m.outcome === 'verified' && m.sinceIssuedSeconds !== undefined) this.sendToVerified.observe({ country: m.country }, Math.max(0, m.sinceIssuedSeconds));
  }

  /** The sink the session workflow calls; never during replay, so a replayed verify is not counted twice. */
  sinks(): InjectedSinks<{ [METRICS_SINK]: OtpMetricsSink }> {
    return {
      [METRICS_SINK]: {
        verified: { fn: (_info, m) => this.verified(m), callDuringReplay: false },
        chainStep: { fn: (_info, m) => this.chainSteps.inc({ channel: m.channel, outcome: m.outcome }), callDuringReplay: false },
        sendRefused: { fn: (_info, m) => this.send(m.channel, m.country, m.outcome), callDuringReplay: false },
      },
    };
  }
}

/**
 * Makes the Temporal SDK (Core) export its worker metrics in Prometheus form on
 * 127.0.0.1:`port`. Only possible before anything creates the Runtime (a
 * connection or a worker): false when it already exists, e.g. in an app that
 * embeds the worker and installed its own (see sdkMetricsAddress).
 */
export function installSdkMetrics(port: number, logger?: Logger): boolean {
  try {
    Runtime.install({
      ...(logger ? { logger } : {}),
      telemetryOptions: { metrics: { metricPrefix: SDK_METRIC_PREFIX, prometheus: { bindAddress: `127.0.0.1:${port}`, useSecondsForDurations: true } } },
    });
    return true;
  } catch {
    return false;
  }
}

/** host:port of the Runtime's Prometheus exporter, whoever installed it; undefined when it exports none. */
export function sdkMetricsAddress(): string | undefined {
  const exporter = Runtime.instance().options.runtimeOptions.metricsExporter;
  return exporter?.type === 'prometheus' ? exporter.socketAddr : undefined;
}

/** The SDK's exposition text, or why it is missing (as a comment line, so the scrape still parses). */
async function sdkExposition(address: string | undefined): Promise<string> {
  if (!address) return '';
  try {
    const res = await fetch(`http://${address}/metrics`, { signal: AbortSignal.timeout(SDK_SCRAPE_TIMEOUT_MS) });
    if (!res.ok) return `# Temporal SDK metrics unavailable: HTTP ${res.status}\n`;
    const text = await res.text();
    return text.endsWith('\n') || text === '' ? text : `${text}\n`;
  } catch (err) {
    return `# Temporal SDK metrics unavailable on ${address}: ${err instanceof Error ? err.message : String(err)}\n`;
  }
}

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

/** GET /metrics: the OTP registry, then the SDK's series when its exporter's address is given. */
export async function serveMetrics(metrics: OtpMetrics, opts: { host: string; port: number; sdkAddress?: string }): Promise<MetricsServer> {
  // Process CPU, memory, event-loop lag: only for a registry that is served.
  collectDefaultMetrics({ register: metrics.registry });
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('try GET /metrics\n');
      return;
    }
    void Promise.all([metrics.registry.metrics(), sdkExposition(opts.sdkAddress)]).then(
      ([own, sdk]) => {
        res.writeHead(200, { 'content-type': metrics.registry.contentType });
        res.end(own + sdk);
      },
      (err: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`metrics collection failed: ${err instanceof Error ? err.message : String(err)}\n`);
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}/metrics`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
