/**
 * The defaults and accepted ranges of a bind's options (SmppBindOptions in bind.ts documents each
 * with its @default). Free of the smpp library, so configuration parsing (and the n8n nodes, which
 * load it) does not pull the SMPP engine in.
 */

/** The defaults of SmppBindOptions (documented with each option above): the bind, the SMSC_* settings and route files take them from here. */
export const BIND_DEFAULTS = {
  systemType: '',
  mode: 'transceiver',
  window: 10,
  responseTimeoutMs: 5000,
  connectTimeoutMs: 10000,
  enquireLinkMs: 30000,
  reconnectInitialMs: 250,
  reconnectMaxMs: 10000,
  drainTimeoutMs: 5000,
  interfaceVersion: 0x34,
  receiptAckDeadlineMs: 2000,
  bindStableMs: 30000,
  waitAckMs: 60000,
} as const;

/** What settings and route files accept for the numeric options, [min, max]. */
export const BIND_RANGES = {
  window: [1, 1000],
  responseTimeoutMs: [100, 120000],
  connectTimeoutMs: [100, 600000],
  enquireLinkMs: [1000, 3600000],
  reconnectInitialMs: [10, 60000],
  reconnectMaxMs: [10, 600000],
  interfaceVersion: [0x33, 0x50],
  receiptAckDeadlineMs: [0, 60000],
  bindStableMs: [0, 3600000],
  waitAckMs: [0, 3600000],
} as const;
