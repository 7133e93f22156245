/** The shape of `--json FILE`: every figure the bench prints. bench/chart.ts reads it. */
import type { Summary } from './stats';

export type TargetName = 'product' | 'least-durable' | 'least-durable-login' | 'bare-smpp';
export type NumbersMode = 'distinct' | 'hot';

export interface ResourceFigures {
  /** % of one core. */
  cpuMeanPct: number;
  cpuPeakPct: number;
  rssMeanMB: number;
  rssPeakMB: number;
  samples: number;
}

export interface HistoryFigures {
  /** Workflows on the task queue started during the trial, by workflow type. */
  workflows: Record<string, { count: number; events: number }>;
  totalEvents: number;
  /** Distinct session workflow ids (product and least-durable login: one per number; least-durable send: one per number, a run per send). */
  sessions: number;
  eventsPerSession: number | null;
  /** Sends answered "sent" in the trial, and events per such send: the unit that compares across designs. */
  sends: number;
  eventsPerSend: number | null;
  /** How historyLength was read: "visibility" or "describe". */
  source: string;
}

export interface WindowFigures {
  /** Seconds since the trial's first scheduled send. */
  second: number;
  offeredRate: number;
  sends: number;
  sent: number;
  refused: number;
  errors: number;
  /** send call -> submit_sm at the SMSC; null when the rank falls on a send that got no SMS. */
  p50: number | null;
  p99: number | null;
}

export interface TrialResult {
  label: string;
  target: TargetName;
  numbers: NumbersMode;
  tenant?: string;
  /** Phases of the arrival schedule. */
  phases: { rate: number; seconds: number }[];
  offeredRate: number;
  planned: number;
  fired: number;
  /** Sends the generator fired per second of schedule (shows it kept up). */
  firedRate: number;
  /** Send calls answered (any result) per second, first scheduled send to last answer. */
  achievedRate: number;
  /** submit_sm at the SMSC per second over the same span. */
  deliveredRate: number;
  /** How late the generator fired each send behind its fixed arrival time. */
  lateness: Summary;
  /** send call -> submit_sm arrives at the SMSC (refused sends excluded; sends without SMS count as missing). */
  sendToSubmit: Summary;
  /** The send call's round trip (answered calls). */
  sendCall: Summary;
  /** Receipt sent by the SMSC -> receipt recorded by the session (product and least-durable login, sampled). */
  receipt?: Summary;
  /** verify call round trip, code read from the SMS (product and least-durable login). */
  verify?: Summary;
  statuses: Record<string, number>;
  /** Typed refusals, by "status:reason". Not errors. */
  refusals: Record<string, number>;
  /** Exceptions (and verify answers that were not valid), by type. */
  errors: Record<string, number>;
  errorSamples: Record<string, string>;
  /** Extra submit_sm for a number (distinct) or beyond the accepted sends (hot), counted when the trial ended. */
  duplicates: number;
  /** The same, recounted at the end of the whole run (late retries). */
  duplicatesAtEnd?: number;
  /** Sends answered "sent" whose SMS never reached the SMSC. */
  sentWithoutSms: number;
  /** Sends not refused that got no SMS (answered sent, errored or unanswered). */
  sessionsLost: number;
  /** Sends with no answer (sent or refused) within 2 s, errors and never-answered included. */
  unansweredWithin2s: number;
  /** Sends still unanswered when the bench stopped waiting. */
  neverAnswered: number;
  resources: Record<string, ResourceFigures>;
  history?: HistoryFigures;
  /** Rate-search verdict: p99 send->submit < threshold, 0 errors, 0 duplicates. */
  pass?: boolean;
  failReasons?: string[];
  aborted?: string;
  windows?: WindowFigures[];
  /** Sorted send->submit and send-call latencies (thinned), for CDFs. */
  distributions?: { sendToSubmit: number[]; sendCall: number[] };
  startedAt: string;
  durationS: number;
}

export interface SearchResult {
  target: TargetName;
  /** Highest rate that passed; 0 when none did. */
  rate: number;
  /** Lowest rate that failed. */
  failedAt: number | null;
  thresholdMs: number;
  trials: TrialResult[];
}

export interface OverloadResult {
  target: TargetName;
  foundRate: number;
  burst: { rate: number; seconds: number };
  after: { rate: number; seconds: number };
  trial: TrialResult;
  /** Seconds after the burst ended until every later 1-s window had p99 < threshold; null if never. */
  recoverySeconds: number | null;
}

export interface MachineInfo {
  nproc: number;
  cpuModel: string;
  memoryGB: number;
  loadAverage: number[];
  /** CPU other processes used just before the stack started, % of one core. */
  cpuBusyAtStartPct?: number | null;
  node: string;
  temporal: string;
  os: string;
}

export interface BenchResult {
  version: 1;
  startedAt: string;
  finishedAt: string;
  command: string;
  machine: MachineInfo;
  config: {
    rate: number;
    durationS: number;
    numbers: NumbersMode;
    hotNumbers: number;
    baselines: boolean;
    verify: boolean;
    verifyAfterMs: number;
    search: boolean;
    overload: boolean;
    thresholdMs: number;
    smscTps: number;
    receiptDelayMs: number;
    tenantSendsPerMinute: string;
    server: string;
    /** The malloc the product worker ran on (`jemalloc` or `system`), read from its memory map; absent in older runs. */
    workerMalloc?: string;
    taskQueue: string;
    baselineTaskQueue: string;
  };
  /** The main trials at --rate: product, then the baselines on the same schedule. */
  trials: TrialResult[];
  search?: { product: SearchResult; leastDurable?: SearchResult; leastDurableLogin?: SearchResult };
  overload?: OverloadResult;
  /** "a vs b" = a / b: ours over each baseline, and the login floor over the send floor, for the main trials and the searched rates. */
  ratios: Record<string, number | null>;
  notes: string[];
}
