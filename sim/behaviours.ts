/**
 * What the simulated network does with a message to one destination: one row
 * per scripted behaviour, read by the SMPP server at submit time.
 */
import { SMPP_STATUS } from '../smpp/errors';

/** How the SMSC answers the submit_sm itself. */
export type SubmitAnswer =
  | { kind: 'accept' }
  /** Refuse with this command_status. */
  | { kind: 'status'; status: number }
  /** Answer with a generic_nack. */
  | { kind: 'nack' }
  /** Drop the TCP connection. */
  | { kind: 'drop' }
  /** ESME_RSYSERR the first time for a destination, then as `deliver`. */
  | { kind: 'failOnce' };

export interface BehaviourRule {
  submit: SubmitAnswer;
  /** Whether the handset gets the message (an accepted submit only). */
  handset: boolean;
  /** The delivery receipt's stat and err, or null when the network sends none. */
  receipt: { stat: 'DELIVRD' | 'UNDELIV' | 'REJECTD' | 'EXPIRED'; err: string } | null;
  /** submit_sm_resp and receipt both wait the simulator's slowResponseMs. */
  slow: boolean;
}

const DELIVERED = { stat: 'DELIVRD', err: '000' } as const;
const accepted = (handset: boolean, receipt: BehaviourRule['receipt'], slow = false): BehaviourRule => ({ submit: { kind: 'accept' }, handset, receipt, slow });
const answered = (submit: SubmitAnswer): BehaviourRule => ({ submit, handset: false, receipt: null, slow: false });

export const BEHAVIOUR_RULES = {
  deliver: accepted(true, DELIVERED),
  undeliverable: accepted(false, { stat: 'UNDELIV', err: '001' }),
  rejected: accepted(false, { stat: 'REJECTD', err: '011' }),
  expired: accepted(false, { stat: 'EXPIRED', err: '001' }),
  no_receipt: accepted(true, null),
  /** Accepted, then nothing: the handset never gets it and no receipt comes (a carrier mix's "silent"). */
  silent: accepted(false, null),
  throttle: answered({ kind: 'status', status: SMPP_STATUS.ESME_RTHROTTLED }),
  queue_full: answered({ kind: 'status', status: SMPP_STATUS.ESME_RMSGQFUL }),
  /** A permanent refusal at submit time: bad destination address. */
  refuse: answered({ kind: 'status', status: SMPP_STATUS.ESME_RINVDSTADR }),
  drop: answered({ kind: 'drop' }),
  slow: accepted(true, DELIVERED, true),
  nack: answered({ kind: 'nack' }),
  fail_once: answered({ kind: 'failOnce' }),
} as const satisfies Record<string, BehaviourRule>;

export type Behaviour = keyof typeof BEHAVIOUR_RULES;
export const BEHAVIOURS = Object.keys(BEHAVIOUR_RULES) as Behaviour[];
