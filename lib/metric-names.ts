/**
 * The Prometheus series the worker exports: every name, label and bucket is
 * defined here once, and the dashboard (docs/grafana-dashboard.json), the
 * README and the tests use these names. Pure: the session workflow imports it
 * for the sink it calls, so nothing here may touch I/O or prom-client.
 *
 * Labels take bounded values only: a country calling code ("33"), a channel,
 * an outcome, a route or bind name from the configuration. Never a session id,
 * a message id or a number.
 */
import type { CodeChannel, SendRefusalStatus, VerifyOutcome } from '../contract';

export const METRICS = {
  sends: {
    name: 'otp_sends_total',
    help: 'Send decisions by channel, destination country calling code and outcome (sent = a new code; redelivered = the same code again).',
    labels: ['channel', 'country', 'outcome'],
  },
  receipts: {
    name: 'otp_receipts_total',
    help: 'Delivery receipts by SMPP state word (DELIVRD, UNDELIV, …; OTHER for a word we do not know).',
    labels: ['state'],
  },
  verifies: {
    name: 'otp_verifies_total',
    help: 'Verify answers by outcome and country calling code (answers replayed under an idempotency key are not counted).',
    labels: ['outcome', 'country'],
  },
  chainSteps: {
    name: 'otp_chain_steps_total',
    help: "Steps of profiles' channel chains by channel and how they ended (sent, failed, moved_on) (sessions v7).",
    labels: ['channel', 'outcome'],
  },
  sendToSubmit: {
    name: 'otp_send_to_submit_seconds',
    help: "From the send request (its requestedAt, else the session's time) to the SMSC's submit_sm_resp, for SMS sends (new codes and redeliveries).",
    labels: ['country'],
  },
  submitToReceipt: {
    name: 'otp_submit_to_receipt_seconds',
    help: 'From submit_sm_resp to a final delivery receipt, for messages this worker submitted.',
    labels: ['state'],
  },
  sendToVerified: { name: 'otp_send_to_verified_seconds', help: 'From issuing a code to its successful verify (session time).', labels: ['country'] },
  sendsInFlight: {
    name: 'otp_sends_in_flight',
    help: 'Sends this worker works on now (admission control; refused as overloaded past OTP_MAX_SENDS_IN_FLIGHT).',
    labels: [],
  },
  bindState: { name: 'otp_smpp_bind_state', help: 'SMPP bind state: 1 for the state each bind is in.', labels: ['route', 'bind', 'state'] },
  bindUp: { name: 'otp_smpp_bind_up', help: '1 when the bind is bound.', labels: ['route', 'bind'] },
  windowOutstanding: {
    name: 'otp_smpp_window_outstanding',
    help: 'submit_sm awaiting their submit_sm_resp on the bind (window use).',
    labels: ['route', 'bind'],
  },
  windowSize: { name: 'otp_smpp_window_size', help: 'Outstanding submit_sm the bind allows (SMSC_WINDOW).', labels: ['route', 'bind'] },
  windowQueued: { name: 'otp_smpp_window_queued', help: 'Submits waiting for, or holding, a window slot on the bind.', labels: ['route', 'bind'] },
  throttled: { name: 'otp_smpp_throttled_total', help: 'ESME_RTHROTTLED / ESME_RMSGQFUL answers that paused the bind.', labels: ['route', 'bind'] },
  throttlePause: { name: 'otp_smpp_throttle_pause_seconds', help: 'Time left in the route-wide throttling pause.', labels: ['route'] },
  reconnects: { name: 'otp_smpp_reconnects_total', help: 'Bind reconnects.', labels: ['route', 'bind'] },
  inDoubt: { name: 'otp_smpp_in_doubt', help: 'Submits without a submit_sm_resp right now: they may be at the SMSC.', labels: [] },
  inDoubtTotal: { name: 'otp_smpp_in_doubt_total', help: 'Submits that went without an answer in time.', labels: [] },
  possibleDuplicates: {
    name: 'otp_smpp_possible_duplicates_total',
    help: 'PDUs sent again while an earlier copy may be at the SMSC: each may be a second SMS.',
    labels: [],
  },
  lostInDoubt: { name: 'otp_smpp_in_doubt_lost_total', help: 'In-doubt submits whose bind was torn down before any answer.', labels: [] },
} as const;

export type MetricKey = keyof typeof METRICS;

/** Seconds. A code is read in seconds, receipts come in seconds to minutes, a login takes up to its TTL. */
export const BUCKETS = {
  sendToSubmit: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  submitToReceipt: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
  sendToVerified: [1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600],
} as const;

/** Prefix of the Temporal SDK's own series (its default), which /metrics includes. */
export const SDK_METRIC_PREFIX = 'temporal_';

/** Send outcomes: a new code, the same code again, a refusal, or a failure (SMSC refusal, invalid request). */
export type SendOutcome = 'sent' | 'redelivered' | SendRefusalStatus | 'failed' | 'invalid_request';

/** `+33••••••678` -> `33`: the calling code of the worker's masking (contract/keys.ts maskPhone), never more of the number. */
export function countryLabel(maskedPhone: string | undefined): string {
  const m = /^\+(\d{1,3})(?:•|\d{3}$)/u.exec(maskedPhone ?? '');
  return m ? m[1] : 'unknown';
}

/** What the session workflow reports to the worker through its sink (never during replay). */
export type VerifyMetric = {
  outcome: VerifyOutcome;
  country: string;
  /** Seconds from the code's issue to this verify, for `verified` answers. */
  sinceIssuedSeconds?: number;
};

export type SendRefusedMetric = {
  channel: CodeChannel;
  country: string;
  outcome: SendOutcome;
};

/** Sink interface (proxySinks in workflows/otp-session.ts, implemented by worker.ts with lib/metrics.ts). */
/** A chain step that ended, or a fallback step that was sent. */
export type ChainStepMetric = { channel: string; outcome: string };

export type OtpMetricsSink = {
  verified(m: VerifyMetric): void;
  chainStep(m: ChainStepMetric): void;
  /** Refusals only the session makes (a locked session); the sendCode activity records the rest. */
  sendRefused(m: SendRefusedMetric): void;
};

export const METRICS_SINK = 'otpMetrics';
