/**
 * The simulator's options and their defaults, one place for the SMPP server,
 * the HTTP API and `npm run smsc`.
 */
import type { Behaviour } from './behaviours';
import type { CarrierMix } from './carrier-mix';

export type IdFormat = 'hex' | 'decimal';

export interface SimulatorOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** SMPP port. Default 2775; 0 picks a free port. */
  smppPort?: number;
  /** HTTP inbox port. Default 2780; 0 picks a free port. */
  httpPort?: number;
  /** SMTP port of the simulated mailbox (email fallback channel); 0 picks a free port. Default null: no SMTP (npm run smsc uses 2525). */
  smtpPort?: number | null;
  /** Accepted credentials. Default { otp: 'secret' }. */
  accounts?: Record<string, string>;
  /** Delay before a receipt is sent. Default 50 ms. */
  receiptDelayMs?: number;
  /** Behaviour per E.164 destination. */
  behaviours?: Record<string, Behaviour>;
  /** Behaviour for destinations not listed. Default 'deliver'. */
  defaultBehaviour?: Behaviour;
  /** For destinations not listed: draw each message's fate from this mix (sim/carrier-mix.ts) instead of defaultBehaviour. Default null. */
  carrierMix?: CarrierMix | null;
  /** Silence logs. Default false. */
  quiet?: boolean;
  /** Serve SMPP over TLS with this key and certificate (PEM); with `clientCa`, demand a client certificate it signed (mutual TLS). */
  tls?: { key: string | Buffer; cert: string | Buffer; clientCa?: string | Buffer } | null;
  /** How long a 'slow' destination's submit_sm_resp takes. Default 1000 ms. */
  slowResponseMs?: number;
  /** Send receipts on the session that submitted ('same') or on another bound receiver ('other'). Default 'same'. */
  receiptRouting?: 'same' | 'other';
  /** Send the receipt before the submit_sm_resp. Default false. */
  receiptBeforeResponse?: boolean;
  /** Format of ids in submit_sm_resp and in the receipt text. Default both hex. */
  messageIds?: { submit: IdFormat; receipt: IdFormat };
  /** Put receipted_message_id / message_state TLVs in receipts. Default true. */
  receiptTlvs?: boolean;
  /** Keep receipts until releaseReceipts(). Default false. */
  holdReceipts?: boolean;
}

/** Options with every default filled in; behaviours as a map the HTTP API can change. */
export type ResolvedSimulatorOptions = Required<Omit<SimulatorOptions, 'behaviours'>> & { behaviours: Map<string, Behaviour> };

export function resolveOptions(options: SimulatorOptions): ResolvedSimulatorOptions {
  return {
    host: '127.0.0.1',
    smppPort: 2775,
    httpPort: 2780,
    smtpPort: null,
    accounts: { otp: 'secret' },
    receiptDelayMs: 50,
    defaultBehaviour: 'deliver',
    carrierMix: null,
    quiet: false,
    tls: null,
    slowResponseMs: 1000,
    receiptRouting: 'same',
    receiptBeforeResponse: false,
    messageIds: { submit: 'hex', receipt: 'hex' },
    receiptTlvs: true,
    holdReceipts: false,
    ...options,
    behaviours: new Map(Object.entries(options.behaviours ?? {})),
  } as ResolvedSimulatorOptions;
}
