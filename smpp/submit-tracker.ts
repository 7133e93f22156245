/**
 * Submits whose fate is unknown. A submit_sm with no answer in time may
 * still be at the SMSC: sending it again could put two SMS on the handset.
 * Such a submit stays "in doubt" (it keeps its window slot) until its late
 * submit_sm_resp arrives or its bind is torn down; the late answer is still
 * matched, so its message id can be linked and its receipt routed. Every
 * re-send of a PDU that may already be at the SMSC is a possible duplicate:
 * counted here and logged without the text or the number.
 */
import { randomUUID } from 'node:crypto';
import type { BindLogger } from './bind';
import { SmppTransientError } from './errors';

/** What finally became of a submit that had no answer in time. */
export type LateAnswer =
  /** The SMSC accepted it after all: the message is there under this id. */
  | { kind: 'accepted'; messageId: string }
  /** The SMSC refused it: it is not there, sending it again is no duplicate. */
  | { kind: 'refused'; error: Error }
  /** The bind was torn down first: nobody will ever know whether the SMSC has it. */
  | { kind: 'lost' };

/** A submit_sm without an answer yet; `late` settles once the SMSC answers or the bind is torn down. */
export class SmppInDoubtError extends SmppTransientError {
  constructor(
    message: string,
    readonly late: Promise<LateAnswer>,
  ) {
    super(message);
    this.name = 'SmppInDoubtError';
  }
}

/** The submit failed, but an earlier copy of it may be at the SMSC: sending it again (a retry, another route) may duplicate it. */
export class SmppUnconfirmedError extends SmppTransientError {
  constructor(message: string, commandStatus?: number) {
    super(message, commandStatus);
    this.name = 'SmppUnconfirmedError';
  }
}

/** A stand-in id for a part whose submit_sm_resp has not come back; never an SMSC id (they have no "indoubt-" prefix). */
export function inDoubtId(): string {
  return `indoubt-${randomUUID().replace(/-/g, '')}`;
}

export function isInDoubtId(id: string): boolean {
  return id.startsWith('indoubt-');
}

/** Counters of one router (GET /status `submits`). */
export class SubmitFlowStats {
  /** Submits without an answer right now. */
  inDoubt = 0;
  /** Submits that ever went without an answer in time. */
  inDoubtTotal = 0;
  /** Late submit_sm_resp that were still matched. */
  lateAnswers = 0;
  /** In-doubt submits whose bind was torn down before any answer. */
  lost = 0;
  /** PDUs sent again while an earlier copy may be at the SMSC (or segments already at the handset): each may be a second SMS. */
  possibleDuplicates = 0;
  /** Parts given to the caller under a stand-in id because their answer had not come back by the deadline. */
  unconfirmedParts = 0;

  constructor(private readonly logger: BindLogger) {}

  /** Tracks one in-doubt submit until its late answer. */
  track(late: Promise<LateAnswer>, meta: { route: string; bind: string }): void {
    this.inDoubt++;
    this.inDoubtTotal++;
    void late.then((a) => {
      this.inDoubt--;
      if (a.kind === 'accepted') this.lateAnswers++;
      if (a.kind === 'lost') this.lost++;
      this.logger.info('in-doubt submit settled', { ...meta, outcome: a.kind });
    });
  }

  /** Never with the text or the number: route, bind and why are enough to find it. */
  possibleDuplicate(meta: { route: string; bind?: string; reason: string; count?: number }): void {
    const n = meta.count ?? 1;
    this.possibleDuplicates += n;
    this.logger.warn('possible duplicate SMS', { ...meta, count: n, total: this.possibleDuplicates });
  }

  snapshot(): { inDoubt: number; inDoubtTotal: number; lateAnswers: number; lost: number; possibleDuplicates: number; unconfirmedParts: number } {
    const { inDoubt, inDoubtTotal, lateAnswers, lost, possibleDuplicates, unconfirmedParts } = this;
    return { inDoubt, inDoubtTotal, lateAnswers, lost, possibleDuplicates, unconfirmedParts };
  }
}
