/** The JSON a chaos run writes (`--json FILE`). Times are ms since the epoch unless named otherwise. */
import type { Summary } from '../bench/lib/stats';
import type { MachineInfo } from '../bench/lib/types';
import type { FaultKind } from './faults';
import type { LogFindings } from './log-scan';

/** What a run was asked to do: written into its JSON as given. */
export interface ChaosSettings {
  /** Sessions per second, each to a new number. */
  rate: number;
  /** Length of the load, s; the faults are spread over it after the warm-up. */
  durationS: number;
  faults: FaultKind[];
  /** Seeds the moment of each fault within its slot. */
  seed: number;
  /** p99 bound of recovery, ms. @default 500 */
  thresholdMs: number;
  /** The simulator's receipt delay, ms: a receipt takes a while, so crashes can land while one is awaited. */
  receiptDelayMs: number;
  /** A user's reading and typing time before the verify, ms. */
  verifyAfterMs: number;
  /** Longest wait after the load for SMS still to come (retries are +20 s and +60 s), s. */
  drainS: number;
}

/** What became of one session, judged after the drain. */
export type SessionVerdict =
  /** Its code reached the inbox and verified valid. */
  | 'verified'
  /** Refused with a typed status, or a typed error, and no code issued for it. */
  | 'refused'
  /** A code was issued and its delivery ended "failed": a final typed failure. */
  | 'failed'
  /** The code never reached the inbox and no final typed failure came. */
  | 'lost'
  /** A wrong end state: the right code did not verify valid, the send or verify never answered, or an untyped error. */
  | 'wrong';

export interface FaultFigures {
  /** "baseline" for the sessions before the first fault. */
  kind: FaultKind | 'baseline';
  note: string;
  /** Seconds from the load's start. */
  injectedAtS: number;
  /** Length of the fault window [start, end], s. */
  windowS: number;
  /** Sessions started from this fault's start to the next fault's (its span). */
  sessions: number;
  sent: number;
  /** Refusals and typed errors by "status:reason" or error type. */
  refused: Record<string, number>;
  failed: number;
  lost: number;
  wrong: number;
  /** Why each wrong end state is wrong, by kind. */
  wrongKinds: Record<string, number>;
  /** Second and later SMS to a number that this fault explains. */
  duplicates: number;
  /** send → submit_sm of sessions started within the window, and after it (to the next fault). */
  during: Summary;
  after: Summary;
  /** Seconds from the window's end until p99 over every sliding 5 s window is under the threshold and every send succeeds; null: never within its span. */
  recoveryS: number | null;
  /** Mean CPU over the span, % of one core: the whole machine, and the stack's processes with the generator (the rest is other load on a shared machine). */
  cpu?: { machinePct: number | null; stackPct: number };
}

export interface ChaosResult {
  startedAt: string;
  machine: MachineInfo;
  options: ChaosSettings;
  faults: FaultFigures[];
  totals: {
    sessions: number;
    sent: number;
    verdicts: Record<SessionVerdict, number>;
    duplicates: number;
    /** Duplicates no fault window explains. */
    unexplainedDuplicates: number;
    /** Most SMS one number received. */
    maxSmsPerNumber: number;
    sendToSubmit: Summary;
  };
  /** Every session in start order: seconds from the load's start, send→submit ms (null: none), verdict, the send's answer. No numbers. */
  timeline: { atS: number; latencyMs: number | null; verdict: SessionVerdict; answer: string }[];
  /** Error messages by type (no numbers, no codes). */
  errorSamples: Record<string, string>;
  /** Lost and wrong sessions, masked, with what was seen of them. */
  problems: { phone: string; verdict: SessionVerdict; detail: string }[];
  /** Children that exited without being told to (the worker is started again by the run's supervisor). */
  unexpectedExits: string[];
  /** What the product's processes logged that they must not: full numbers, codes, dumped histories. */
  logs: LogFindings;
  /** The simulator's feeds had gaps (records dropped before they were read). */
  feedGaps: number;
}
